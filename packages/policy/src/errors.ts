import type { ContractValidationError, ValidationIssue } from '@cortexops/contracts';

export const POLICY_ERROR_CODES = {
  invalidInput: 'POLICY_INPUT_INVALID',
  invalidData: 'POLICY_DATA_INVALID',
  bundleUnavailable: 'POLICY_BUNDLE_UNAVAILABLE',
  evaluationFailed: 'POLICY_EVALUATION_FAILED',
  opaCommandFailed: 'POLICY_OPA_COMMAND_FAILED',
} as const;
export type PolicyErrorCode = (typeof POLICY_ERROR_CODES)[keyof typeof POLICY_ERROR_CODES];

/** Base of every policy error: `code` says which, `cause` keeps what went wrong underneath. */
export abstract class PolicyError extends Error {
  abstract readonly code: PolicyErrorCode;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller handed something that is not a `PolicyInput`; nothing was evaluated. */
export class PolicyInputError extends PolicyError {
  readonly code = POLICY_ERROR_CODES.invalidInput;
  readonly issues: readonly ValidationIssue[];
  readonly field: string;
  constructor(cause: ContractValidationError) {
    super(cause.message, { cause });
    this.issues = cause.issues;
    this.field = cause.issues[0]?.field ?? '(root)';
  }
}

/** Policy data that cannot be used (unreadable file, not JSON, no `remediation_policy` object). */
export class PolicyDataError extends PolicyError {
  readonly code = POLICY_ERROR_CODES.invalidData;
}

/** The compiled policy (wasm) is missing or cannot be instantiated. */
export class PolicyBundleError extends PolicyError {
  readonly code = POLICY_ERROR_CODES.bundleUnavailable;
}

/** Evaluation threw, or its result is not a `PolicyDecision`. */
export class PolicyEvaluationError extends PolicyError {
  readonly code = POLICY_ERROR_CODES.evaluationFailed;
}

/** An `opa` command (build, test, eval) exited non-zero. */
export class OpaCommandError extends PolicyError {
  readonly code = POLICY_ERROR_CODES.opaCommandFailed;
  constructor(
    readonly args: readonly string[],
    readonly output: string,
    options?: ErrorOptions,
  ) {
    super(`opa ${args.join(' ')} failed: ${output.trim().slice(0, 2000)}`, options);
  }
}
