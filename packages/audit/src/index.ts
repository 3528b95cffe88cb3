export { AuditStore, MAX_BATCH, type AuditStoreOptions, type AuditPage, type AuditWriter, type IncidentListFilter, type PolicyViolationInput } from './store.js';
export {
  AUDIT_ERROR_CODES,
  APPEND_ONLY_SQLSTATE,
  AuditCheckpointError,
  AuditConflictError,
  AuditInputError,
  AuditMigrationRefusedError,
  AuditNotFoundError,
  AuditSchemaMissingError,
  type AuditErrorCode,
} from './errors.js';
export { VERIFY_FAILURES, type VerifyFailure, type VerifyOptions, type VerifyResult } from './verify.js';
export { GENESIS_HASH, HASH_FORMAT_VERSION, canonicalJson, chainDocument, hashRow, type ChainedFields } from './hash.js';
export { MAX_PAYLOAD_BYTES, canonicalTimestamp, type AuditEventInput } from './input.js';
export { AUDIT_MIGRATIONS, MIGRATIONS_DIR, MIGRATIONS_TABLE, applicationRoleOf, migrate, pendingMigrations, runMigrations, type MigrateOptions, type MigrationSet } from './migrate.js';
export { MIN_CHECKPOINT_KEY_LENGTH, checkpointKeyId, openCheckpoint, signCheckpoint, type ChainHead, type CheckpointKeys, type CheckpointStore } from './checkpoint.js';
export { FileCheckpointStore } from './checkpoint-file.js';
export { AuditCheckpointer, type CheckpointOutcome, type VerifiableChain } from './checkpointer.js';
export type { AuditRow } from './rows.js';
export { withClient } from './client.js';
