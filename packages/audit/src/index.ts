export { AuditStore, MAX_BATCH, type AuditStoreOptions, type AuditPage, type AuditWriter, type IncidentListFilter, type PolicyViolationInput } from './store.js';
export { AUDIT_ERROR_CODES, APPEND_ONLY_SQLSTATE, AuditInputError, AuditNotFoundError, AuditSchemaMissingError, type AuditErrorCode } from './errors.js';
export { VERIFY_FAILURES, type VerifyFailure, type VerifyResult } from './verify.js';
export { GENESIS_HASH, HASH_FORMAT_VERSION, canonicalJson, chainDocument, hashRow, type ChainedFields } from './hash.js';
export { MAX_PAYLOAD_BYTES, canonicalTimestamp, type AuditEventInput } from './input.js';
export { MIGRATIONS_DIR, MIGRATIONS_TABLE } from './migrate.js';
export type { AuditRow } from './rows.js';
