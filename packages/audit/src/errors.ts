import type { ContractValidationError, ValidationIssue } from '@cortexops/contracts';

export const AUDIT_ERROR_CODES = {
  invalidInput: 'AUDIT_INVALID_INPUT',
  notFound: 'AUDIT_NOT_FOUND',
  schemaMissing: 'AUDIT_SCHEMA_MISSING',
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
