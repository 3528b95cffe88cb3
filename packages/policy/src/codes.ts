import type { PolicyDecision } from '@cortexops/contracts';

/**
 * Every violation and reason the Rego policy writes starts with one of these codes and ": "
 * (policy/codes.rego holds the same list; codes.test.ts keeps them equal). Branch on codes, never
 * on the text after them.
 */
export const VIOLATION_CODES = {
  policyDataMissing: 'policy-data-missing',
  policyDataInvalid: 'policy-data-invalid',
  invalidInput: 'invalid-input',
  dryRunFailed: 'dry-run-failed',
  protectedNamespace: 'protected-namespace',
  actionNotAllowed: 'action-not-allowed',
  replicasAboveMaximum: 'replicas-above-maximum',
  memoryAboveMaximum: 'memory-above-maximum',
  changeFreeze: 'change-freeze',
  rateLimitTarget: 'rate-limit-target',
  rateLimitCluster: 'rate-limit-cluster',
  /** K remediations failed in a row: deny, and a human should look (escalate). */
  circuitOpen: 'circuit-open',
  /** Added by the TypeScript engine when it fails closed. */
  policyUnavailable: 'policy-unavailable',
  policyEvaluationFailed: 'policy-evaluation-failed',
} as const;
export type ViolationCode = (typeof VIOLATION_CODES)[keyof typeof VIOLATION_CODES];

export const REASON_CODES = {
  riskRequiresApproval: 'risk-requires-approval',
  productionRequiresApproval: 'production-requires-approval',
  statefulWorkload: 'stateful-workload',
  databaseTarget: 'database-target',
  scaleToZero: 'scale-to-zero',
  /** The action's namespace (or cluster-scoped actions) is in approve mode: every allowed change waits for a human. */
  approveMode: 'approve-mode',
  /**
   * The decision's mode is observe (not enrolled, enrolled as observe, kill switch, unusable data): nothing is
   * applied. Not an approval reason: it never sets `requireApproval`, which says what would have been done.
   */
  observeMode: 'observe-mode',
} as const;
export type ReasonCode = (typeof REASON_CODES)[keyof typeof REASON_CODES];

/** The code of one violation or reason: the text before the first ": ". */
export function codeOf(message: string): string {
  const end = message.indexOf(': ');
  return end === -1 ? message : message.slice(0, end);
}

export function violationCodes(decision: PolicyDecision): string[] {
  return decision.violations.map(codeOf);
}

export function reasonCodes(decision: PolicyDecision): string[] {
  return decision.reasons.map(codeOf);
}

/** The circuit breaker tripped: the workflow should stop trying and page a human. */
export function shouldEscalate(decision: PolicyDecision): boolean {
  return violationCodes(decision).includes(VIOLATION_CODES.circuitOpen);
}
