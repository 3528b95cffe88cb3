import type { z } from 'zod';

export interface ValidationIssue {
  /** Dotted path of the offending field, `(root)` for the value itself. */
  readonly field: string;
  readonly problem: string;
}

export const CONTRACT_ERROR_CODES = {
  invalid: 'CONTRACT_INVALID',
} as const;

/** A value did not match its contract; `issues` names each field and what is wrong with it. */
export class ContractValidationError extends Error {
  readonly code = CONTRACT_ERROR_CODES.invalid;
  constructor(
    readonly contract: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(`invalid ${contract}: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`);
    this.name = 'ContractValidationError';
  }
}

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ContractValidationError };

function fieldOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ field: fieldOf(issue.path), problem: issue.message }));
}

/** A named schema with a validator whose errors name the field and the problem. */
export interface Contract<S extends z.ZodType> {
  readonly name: string;
  readonly schema: S;
  validate(input: unknown): ValidationResult<z.output<S>>;
  /** Validates or throws {@link ContractValidationError}. */
  parse(input: unknown): z.output<S>;
}

export function defineContract<S extends z.ZodType>(name: string, schema: S): Contract<S> {
  const validate = (input: unknown): ValidationResult<z.output<S>> => {
    const result = schema.safeParse(input);
    if (result.success) return { ok: true, value: result.data };
    return { ok: false, error: new ContractValidationError(name, toIssues(result.error)) };
  };
  return {
    name,
    schema,
    validate,
    parse(input) {
      const result = validate(input);
      if (!result.ok) throw result.error;
      return result.value;
    },
  };
}
