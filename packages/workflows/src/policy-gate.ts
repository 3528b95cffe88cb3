import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { PolicyDecision, PolicyGateActivities, PolicyInput } from '@cortexops/contracts';

const { checkPolicy } = proxyActivities<PolicyGateActivities>({
  startToCloseTimeout: '30 seconds',
  // A decision is pure and its audit write idempotent, so retrying is safe; bad input is not retried.
  retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: ['PolicyInputError', 'AuditInputError'] },
});

export interface PolicyGateResult {
  readonly allow: boolean;
  readonly requireApproval: boolean;
  /** One decision per proposal, in order; stops at the first denial. */
  readonly decisions: readonly PolicyDecision[];
}

/**
 * Puts each proposed action to the OPA gate, in order. The first denial stops the gate (the worker has already
 * written it to the audit store as a policy violation); approval is required when any decision requires it.
 */
export async function passPolicyGate(proposals: readonly PolicyInput[]): Promise<PolicyGateResult> {
  const { workflowId } = workflowInfo();
  const decisions: PolicyDecision[] = [];
  for (const policyInput of proposals) {
    const decision = await checkPolicy({ workflowId, policyInput });
    decisions.push(decision);
    if (!decision.allow) return { allow: false, requireApproval: false, decisions };
  }
  return { allow: true, requireApproval: decisions.some((d) => d.requireApproval), decisions };
}
