import { intVar, optionalSecretVar, optionalStringVar, optionalUrlVar } from './env.js';

/** Shortest key the audit checkpoint is signed with (characters). */
export const AUDIT_CHECKPOINT_KEY_MIN_LENGTH = 32;

/**
 * The audit store's trust boundary (packages/audit): the owner role that runs the migrations, and the signed
 * checkpoint of the chain's head kept outside PostgreSQL. The services themselves connect with
 * CORTEXOPS_DATABASE_URL as the application role (INSERT and SELECT on the audit trail only).
 */
export const auditSpec = {
  databaseMigrationUrl: optionalUrlVar(
    'CORTEXOPS_DATABASE_MIGRATION_URL',
    ['postgres', 'postgresql'],
    "PostgreSQL URL of the role that owns the audit schema: runs the migrations and grants the application role (CORTEXOPS_DATABASE_URL's user) its rights",
  ),
  checkpointKey: optionalSecretVar('CORTEXOPS_AUDIT_CHECKPOINT_KEY', AUDIT_CHECKPOINT_KEY_MIN_LENGTH, 'HMAC key the audit checkpoint is signed and checked with'),
  checkpointPreviousKey: optionalSecretVar(
    'CORTEXOPS_AUDIT_CHECKPOINT_PREVIOUS_KEY',
    AUDIT_CHECKPOINT_KEY_MIN_LENGTH,
    'the key before a rotation: checkpoints signed with it still verify until one signed with the new key was written',
  ),
  checkpointFile: optionalStringVar('CORTEXOPS_AUDIT_CHECKPOINT_FILE', 'file the signed checkpoint of the audit chain is kept in (outside PostgreSQL, where the database roles cannot write)'),
  checkpointIntervalMs: intVar('CORTEXOPS_AUDIT_CHECKPOINT_INTERVAL_MS', 60_000, 1000, 3_600_000, 'how often `cortexops-audit checkpoint --every` signs the head'),
} as const;
