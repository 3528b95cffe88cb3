import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import {
  type ApprovalDecision,
  type ApprovalDecisionOutcome,
  approvalDecisionUpdate,
  type ApprovalRequest,
  type CancelOutcome,
  type CancelRequest,
  cancelRemediationUpdate,
  TERMINAL_STATES,
  WORKFLOW_REFUSALS,
  type WorkflowState,
} from '@cortexops/contracts';

/** Why an update is refused: a failure type of WORKFLOW_REFUSALS and words a person can act on. */
export interface Refusal {
  readonly type: (typeof WORKFLOW_REFUSALS)[keyof typeof WORKFLOW_REFUSALS];
  readonly message: string;
}

/** The people who approved so far (distinct). */
export function approversOf(decisions: readonly ApprovalDecision[]): ReadonlySet<string> {
  return new Set(decisions.filter((d) => d.decision === 'approve').map((d) => d.approver));
}

/** Distinct approvals still needed for the request (critical risk needs two). */
export function approvalsOutstanding(request: ApprovalRequest | undefined, decisions: readonly ApprovalDecision[]): number {
  return Math.max(0, (request?.approvalsRequired ?? 1) - approversOf(decisions).size);
}

/**
 * Whether a human decision may be taken (the approval update's validator, DESIGN safety rule 7): only while waiting,
 * only for the exact request and plan waiting, once per person, and never after a rejection.
 */
export function decisionRefusal(state: WorkflowState, request: ApprovalRequest | undefined, decisions: readonly ApprovalDecision[], decision: ApprovalDecision): Refusal | undefined {
  if (state !== 'APPROVAL_PENDING' || request === undefined) return { type: WORKFLOW_REFUSALS.notAwaiting, message: `not awaiting approval (state ${state})` };
  if (!decision.approver) return { type: WORKFLOW_REFUSALS.invalid, message: 'approver is required' };
  if (decision.requestId !== request.requestId || decision.planHash !== request.planHash) {
    return {
      type: WORKFLOW_REFUSALS.stalePlan,
      message: `this decision is for request ${decision.requestId} (plan ${decision.planHash.slice(0, 12)}), but the request waiting is ${request.requestId} (plan ${request.planHash.slice(0, 12)})`,
    };
  }
  const earlier = decisions.find((d) => d.decision === 'reject' || d.approver === decision.approver);
  if (earlier) return { type: WORKFLOW_REFUSALS.duplicate, message: `already decided: ${earlier.decision} by ${earlier.approver}` };
  return undefined;
}

/** Whether an operator's cancel may be taken: once, and not after the end or while compensating. */
export function cancelRefusal(state: WorkflowState, earlier: CancelRequest | undefined): Refusal | undefined {
  if (earlier !== undefined) return { type: WORKFLOW_REFUSALS.notCancellable, message: `already cancelled by ${earlier.actor}` };
  if (TERMINAL_STATES.has(state) || state === 'COMPENSATING') return { type: WORKFLOW_REFUSALS.notCancellable, message: `cannot cancel in state ${state}` };
  return undefined;
}

/** What the approval and cancel updates read and change in the workflow that installs them. */
export interface ApprovalGateState {
  state(): WorkflowState;
  /** The request waiting for a decision (or the last one asked). */
  request(): ApprovalRequest | undefined;
  /** Decisions about the request waiting (a new request starts an empty list). */
  decisions(): readonly ApprovalDecision[];
  /** Takes an accepted decision. */
  decide(decision: ApprovalDecision): void;
  cancel(): CancelRequest | undefined;
  setCancel(request: CancelRequest): void;
  /** Something was applied: a cancel now compensates. */
  applied(): boolean;
}

function refuse(refusal: Refusal | undefined): void {
  if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.type);
}

/** Installs the `approvalDecision` and `cancelRemediation` updates with their validators (workflow code only). */
export function setApprovalHandlers(gate: ApprovalGateState): void {
  setHandler(
    approvalDecisionUpdate,
    (decision): ApprovalDecisionOutcome => {
      gate.decide(decision);
      const outstanding = approvalsOutstanding(gate.request(), gate.decisions());
      return { accepted: true, decision: decision.decision, state: gate.state(), ...(decision.decision === 'approve' ? { approvalsOutstanding: outstanding } : {}) };
    },
    { validator: (decision: ApprovalDecision) => refuse(decisionRefusal(gate.state(), gate.request(), gate.decisions(), decision)) },
  );
  setHandler(
    cancelRemediationUpdate,
    (request): CancelOutcome => {
      gate.setCancel(request);
      return { accepted: true, state: gate.state(), effect: gate.applied() ? 'compensate' : 'stop' };
    },
    { validator: (_request: CancelRequest) => refuse(cancelRefusal(gate.state(), gate.cancel())) },
  );
}
