import { ActivityFailure, ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import {
  type ApprovalDecision,
  type ApprovalDecisionOutcome,
  approvalDecisionUpdate,
  type PolicyDecision,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  incidentSignal,
  type RemediationStateView,
  type RemediationWorkflowInput,
  remediationStateQuery,
  type Signal,
  type WorkflowState,
} from '@cortexops/contracts';
import { passPolicyGate } from './policy-gate.js';

export interface RemediationOutcome {
  readonly state: WorkflowState;
  readonly decision?: ApprovalDecision;
  /** The policy gate's decisions on the proposals, when there were any. */
  readonly policy?: readonly PolicyDecision[];
  /** Why the workflow ended FAILED. */
  readonly failure?: string;
  readonly signalsReceived: number;
}

/**
 * The remediation workflow's contract (signal, update, query) with a minimal body: it holds the
 * incident, collects later signals, puts any proposed actions to the policy gate (a denial ends it at
 * once), and waits for a human decision until the approval times out. Planning, dry-run, apply and
 * verification replace the body in the workflow issue.
 */
export async function remediationWorkflow(input: RemediationWorkflowInput): Promise<RemediationOutcome> {
  const history: { state: WorkflowState; at: string }[] = [];
  let state: WorkflowState = 'DIAGNOSING';
  const transition = (next: WorkflowState) => {
    state = next;
    history.push({ state: next, at: new Date().toISOString() });
  };
  transition('DIAGNOSING');

  const signals: Signal[] = [];
  let decision: ApprovalDecision | undefined;

  setHandler(incidentSignal, (signal) => {
    signals.push(signal);
  });
  setHandler(remediationStateQuery, (): RemediationStateView => ({ state, incidentId: input.incident.id, history }));
  setHandler(
    approvalDecisionUpdate,
    (d): ApprovalDecisionOutcome => {
      decision = d;
      transition(d.decision === 'approve' ? 'APPLYING' : 'REJECTED');
      return { accepted: true, decision: d.decision, state };
    },
    {
      validator: (d: ApprovalDecision) => {
        if (decision) throw ApplicationFailure.nonRetryable(`already decided: ${decision.decision} by ${decision.approver}`, 'DuplicateDecision');
        if (state !== 'APPROVAL_PENDING') throw ApplicationFailure.nonRetryable(`not awaiting approval (state ${state})`, 'NotAwaitingApproval');
        if (!d.approver) throw ApplicationFailure.nonRetryable('approver is required', 'InvalidDecision');
      },
    },
  );

  let policy: readonly PolicyDecision[] | undefined;
  if (input.proposals !== undefined && input.proposals.length > 0) {
    transition('POLICY_CHECK');
    let gate: Awaited<ReturnType<typeof passPolicyGate>>;
    try {
      gate = await passPolicyGate(input.proposals);
    } catch (error) {
      // No decision, no change: a gate that cannot answer (bad proposal, retries exhausted) ends the workflow.
      if (!(error instanceof ActivityFailure)) throw error;
      transition('FAILED');
      return { state, failure: error.cause?.message ?? error.message, signalsReceived: signals.length };
    }
    policy = gate.decisions;
    if (!gate.allow) {
      transition('DENIED');
      return { state, policy, signalsReceived: signals.length };
    }
  }
  const withPolicy = policy === undefined ? {} : { policy };

  transition('APPROVAL_PENDING');
  const decided = await condition(() => decision !== undefined, input.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS);
  if (!decided) {
    transition('EXPIRED');
    return { state, ...withPolicy, signalsReceived: signals.length };
  }
  if (decision?.decision === 'approve') transition('RESOLVED');
  return { state, ...(decision ? { decision } : {}), ...withPolicy, signalsReceived: signals.length };
}
