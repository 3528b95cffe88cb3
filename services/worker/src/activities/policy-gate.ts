import { createHash } from 'node:crypto';
import { PolicyCheckRequest, type PolicyDecision, type PolicyGateActivities } from '@cortexops/contracts';
import type { AuditWriter } from '@cortexops/audit';
import type { Logger } from '@cortexops/observability';
import { PolicyInputError, type PolicyEngine } from '@cortexops/policy';
import { ApplicationFailure } from '@temporalio/activity';

export interface PolicyGateDependencies {
  readonly engine: PolicyEngine;
  readonly audit: Pick<AuditWriter, 'recordPolicyViolation'>;
  readonly logger?: Logger;
}

/** Equal inputs of one workflow give one key: a retried activity writes its violation once. */
function violationKey(request: PolicyCheckRequest): string {
  const digest = createHash('sha256').update(JSON.stringify(request.policyInput)).digest('hex').slice(0, 32);
  return `${request.workflowId}/policy/${digest}`;
}

/**
 * The OPA gate as a Temporal activity: decides in-process (fail-closed engine) and writes every denial to the
 * audit store as a policy violation before answering, so a workflow that ends on a denial leaves its reason behind.
 */
export function createPolicyGateActivities(deps: PolicyGateDependencies): PolicyGateActivities {
  return {
    async checkPolicy(raw: PolicyCheckRequest): Promise<PolicyDecision> {
      const checked = PolicyCheckRequest.validate(raw);
      if (!checked.ok) throw ApplicationFailure.nonRetryable(checked.error.message, 'PolicyInputError');
      const request = checked.value;
      let decision: PolicyDecision;
      try {
        decision = deps.engine.decide(request.policyInput);
      } catch (error) {
        if (error instanceof PolicyInputError) throw ApplicationFailure.nonRetryable(error.message, 'PolicyInputError');
        throw error;
      }
      if (!decision.allow) {
        await deps.audit.recordPolicyViolation({
          idempotencyKey: violationKey(request),
          incidentId: request.policyInput.incidentId,
          workflowId: request.workflowId,
          actor: 'policy',
          occurredAt: request.policyInput.now,
          action: request.policyInput.action,
          decision,
        });
        deps.logger?.warn({ workflowId: request.workflowId, action: request.policyInput.action.type, violations: decision.violations }, 'policy: denied');
      }
      return decision;
    },
  };
}
