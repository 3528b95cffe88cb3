/** Why a decision or a request was refused; callers branch on the code, never on the message. */
export const APPROVAL_ERROR_CODES = {
  /** The request carries no valid credentials (HTTP bearer token). */
  unauthenticated: 'UNAUTHENTICATED',
  /** The person deciding is not on the approver allow-list, or the token may not do this (the worker's token cannot decide). */
  notAllowed: 'APPROVER_NOT_ALLOWED',
  /** The person who asked for the change tried to approve it (four-eyes). */
  selfApproval: 'SELF_APPROVAL',
  /** The input does not match its contract. */
  invalid: 'INVALID_INPUT',
  /** No remediation workflow exists for the incident. */
  notFound: 'INCIDENT_NOT_FOUND',
  /** Someone has already decided; the first decision stands. */
  duplicate: 'ALREADY_DECIDED',
  /** The request timed out before anyone decided; it will never be approved. */
  expired: 'APPROVAL_EXPIRED',
  /** The workflow is not (or no longer) waiting for a decision, for another reason. */
  notAwaiting: 'NOT_AWAITING_APPROVAL',
  /** The decision names another request or plan than the one waiting: the plan changed since the person looked. */
  stalePlan: 'STALE_PLAN',
  /** No approval request is waiting for a decision on this incident (its workflow exists). */
  noPendingRequest: 'NO_PENDING_REQUEST',
  /** The remediation has ended, is already compensating, or was already cancelled. */
  notCancellable: 'NOT_CANCELLABLE',
  /** A person asked for a remediation while the incident's workflow still runs (decide or cancel that one). */
  remediationRunning: 'REMEDIATION_RUNNING',
  /** A part of the service (Slack, the HTTP API) is not configured. */
  notConfigured: 'NOT_CONFIGURED',
  /** Slack or Temporal failed after the retries. */
  upstream: 'UPSTREAM_FAILED',
} as const;
export type ApprovalErrorCode = (typeof APPROVAL_ERROR_CODES)[keyof typeof APPROVAL_ERROR_CODES];

export class ApprovalError extends Error {
  constructor(
    readonly code: ApprovalErrorCode,
    message: string,
    options: { readonly cause?: unknown; readonly details?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApprovalError';
    this.details = options.details;
  }
  readonly details: unknown;
}
