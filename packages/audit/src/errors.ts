import type { AuditRecord, ContractValidationError, ValidationIssue } from '@cortexops/contracts';

export const AUDIT_ERROR_CODES = {
  invalidInput: 'AUDIT_INVALID_INPUT',
  notFound: 'AUDIT_NOT_FOUND',
  schemaMissing: 'AUDIT_SCHEMA_MISSING',
  conflict: 'AUDIT_CONFLICT',
  migrationRefused: 'AUDIT_MIGRATION_REFUSED',
  checkpointInvalid: 'AUDIT_CHECKPOINT_INVALID',
} as const;
export type AuditErrorCode = (typeof AUDIT_ERROR_CODES)[keyof typeof AUDIT_ERROR_CODES];

/** SQLSTATE raised by the database when something tries to change or remove audit rows. */
export const APPEND_ONLY_SQLSTATE = 'CXA01';

/** Input refused before it reached the database; `field` is the first offending field. */
export class AuditInputError extends Error {
  readonly code = AUDIT_ERROR_CODES.invalidInput;
  readonly field: string;
  constructor(
    readonly what: string,
    readonly issues: readonly ValidationIssue[],
    options?: { cause?: unknown },
  ) {
    super(`invalid ${what}: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`, options);
    this.name = 'AuditInputError';
    this.field = issues[0]?.field ?? '(root)';
  }

  static fromContract(error: ContractValidationError, prefix = ''): AuditInputError {
    return new AuditInputError(
      error.contract,
      error.issues.map((i) => ({ field: prefixed(prefix, i.field), problem: i.problem })),
      { cause: error },
    );
  }
}

export function prefixed(prefix: string, field: string): string {
  if (prefix === '') return field;
  if (field === '(root)') return prefix;
  return field.startsWith('[') ? `${prefix}${field}` : `${prefix}.${field}`;
}

export class AuditNotFoundError extends Error {
  readonly code = AUDIT_ERROR_CODES.notFound;
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} not found`);
    this.name = 'AuditNotFoundError';
  }
}

/** The database lacks the audit tables (a store opened with `migrate: false` before any migration ran). */
export class AuditSchemaMissingError extends Error {
  readonly code = AUDIT_ERROR_CODES.schemaMissing;
  constructor(options?: { cause?: unknown }) {
    super('the audit schema is missing: run the migrations (AuditStore.create with migrate, or `pnpm --filter @cortexops/audit migrate`)', options);
    this.name = 'AuditSchemaMissingError';
  }
}

/**
 * An append reused an idempotency key already stored with other content. Nothing of the call was written (a batch
 * is one transaction); `fields` names what differs, `existing` is the record stored under the key.
 */
export class AuditConflictError extends Error {
  readonly code = AUDIT_ERROR_CODES.conflict;
  constructor(
    readonly idempotencyKey: string,
    readonly fields: readonly string[],
    readonly existing: AuditRecord,
  ) {
    super(`audit: idempotency key ${JSON.stringify(idempotencyKey)} is already stored (sequence ${existing.sequence}) with other content (${fields.join(', ')})`);
    this.name = 'AuditConflictError';
  }
}

/** Migrations are pending and the connected role may not run them (the services connect as the application role). */
export class AuditMigrationRefusedError extends Error {
  readonly code = AUDIT_ERROR_CODES.migrationRefused;
  constructor(
    readonly schema: string,
    readonly pending: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `the ${schema} schema needs migrations (${pending.join(', ')}) that this database role may not run: run them as the owner role ` +
        '(CORTEXOPS_DATABASE_MIGRATION_URL; for the audit schema `pnpm --filter @cortexops/audit migrate`), then start again',
      options,
    );
    this.name = 'AuditMigrationRefusedError';
  }
}

/** A checkpoint that cannot be trusted: unreadable, malformed, or its signature does not verify with any configured key. */
export class AuditCheckpointError extends Error {
  readonly code = AUDIT_ERROR_CODES.checkpointInvalid;
  constructor(message: string, options?: { cause?: unknown }) {
    super(`audit checkpoint: ${message}`, options);
    this.name = 'AuditCheckpointError';
  }
}
