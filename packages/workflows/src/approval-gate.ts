import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  type ApprovalDecision,
  type ApprovalDecisionOutcome,
  approvalDecisionUpdate,
  type ApprovalRequest,
  type CancelOutcome,
  type CancelRequest,
  cancelRemediationUpdate,
  cancelSigningPayload,
  decisionSigningPayload,
  TERMINAL_STATES,
  WORKFLOW_REFUSALS,
  type WorkflowState,
} from '@cortexops/contracts';
import { signedByOneOf } from './signature.js';

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

const UNSIGNED_HINT = 'decisions and cancels are taken only from the approvals service (signed with its key); nothing was recorded';

/**
 * Whether a human decision may be taken (the approval update's validator, DESIGN safety rule 7): only signed by the
 * approvals service with one of `keys` (so a bare Temporal client cannot approve), only while waiting, only for the
 * exact request and plan waiting, never by the person who asked for the change, once per person, and never after a
 * rejection.
 */
export function decisionRefusal(
  state: WorkflowState,
  request: ApprovalRequest | undefined,
  decisions: readonly ApprovalDecision[],
  decision: ApprovalDecision,
  keys: readonly string[],
): Refusal | undefined {
  if (typeof decision !== 'object' || decision === null || typeof decision.approver !== 'string' || typeof decision.requestId !== 'string' || typeof decision.planHash !== 'string') {
    return { type: WORKFLOW_REFUSALS.invalid, message: 'a decision needs requestId, planHash and approver' };
  }
  if (!signedByOneOf(decisionSigningPayload(decision), decision.signature, keys)) {
    return { type: WORKFLOW_REFUSALS.unsigned, message: `the decision is not signed by the approvals service (${decision.signature === undefined ? 'no signature' : 'the signature does not verify'}); ${UNSIGNED_HINT}` };
  }
  if (state !== 'APPROVAL_PENDING' || request === undefined) return { type: WORKFLOW_REFUSALS.notAwaiting, message: `not awaiting approval (state ${state})` };
  if (!decision.approver) return { type: WORKFLOW_REFUSALS.invalid, message: 'approver is required' };
  if (decision.requestId !== request.requestId || decision.planHash !== request.planHash) {
    return {
      type: WORKFLOW_REFUSALS.stalePlan,
      message: `this decision is for request ${decision.requestId} (plan ${decision.planHash.slice(0, 12)}), but the request waiting is ${request.requestId} (plan ${request.planHash.slice(0, 12)})`,
    };
  }
  if (decision.decision === 'approve' && request.requestedBy !== undefined && decision.approver === request.requestedBy) {
    return { type: WORKFLOW_REFUSALS.selfApproval, message: `${decision.approver} asked for this change and cannot approve it; another approver must` };
  }
  const earlier = decisions.find((d) => d.decision === 'reject' || d.approver === decision.approver);
  if (earlier) return { type: WORKFLOW_REFUSALS.duplicate, message: `already decided: ${earlier.decision} by ${earlier.approver}` };
  return undefined;
}

/** Whether an operator's cancel may be taken: signed by the approvals service for this workflow, once, and not after the end or while compensating. */
export function cancelRefusal(state: WorkflowState, earlier: CancelRequest | undefined, workflowId: string, request: CancelRequest, keys: readonly string[]): Refusal | undefined {
  if (typeof request !== 'object' || request === null || typeof request.actor !== 'string') return { type: WORKFLOW_REFUSALS.invalid, message: 'a cancel needs an actor' };
  if (!signedByOneOf(cancelSigningPayload(workflowId, request), request.signature, keys)) {
    return { type: WORKFLOW_REFUSALS.unsigned, message: `the cancel is not signed by the approvals service for this workflow (${request.signature === undefined ? 'no signature' : 'the signature does not verify'}); ${UNSIGNED_HINT}` };
  }
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
  /** The approvals service's public keys (hex): only decisions and cancels signed with one of them are taken. */
  verifyKeys(): readonly string[];
  /** Told of every refused decision or cancel (the worker audits them); never called on replay (validators do not run then). */
  refused?(refusal: UpdateRefusal): void;
}

/** A refused update, as the worker audits it (`approval.refused`). */
export interface UpdateRefusal extends Refusal {
  readonly update: 'approvalDecision' | 'cancelRemediation';
  /** Who the update claims to come from (unverified when the refusal is `UnsignedDecision`). */
  readonly claimedBy: string;
  readonly requestId?: string;
  readonly channel?: string;
}

function claimed(value: unknown, field: 'approver' | 'actor'): string {
  const named = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[field] : undefined;
  return typeof named === 'string' ? named.slice(0, 256) : 'unknown';
}

function refuse(gate: ApprovalGateState, refusal: Refusal | undefined, about: Omit<UpdateRefusal, keyof Refusal>): void {
  if (!refusal) return;
  gate.refused?.({ ...refusal, ...about });
  throw ApplicationFailure.nonRetryable(refusal.message, refusal.type);
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
    {
      validator: (decision: ApprovalDecision) =>
        refuse(gate, decisionRefusal(gate.state(), gate.request(), gate.decisions(), decision, gate.verifyKeys()), {
          update: 'approvalDecision',
          claimedBy: claimed(decision, 'approver'),
          ...(typeof decision?.requestId === 'string' ? { requestId: decision.requestId.slice(0, 200) } : {}),
          ...(typeof decision?.channel === 'string' ? { channel: decision.channel.slice(0, 16) } : {}),
        }),
    },
  );
  setHandler(
    cancelRemediationUpdate,
    (request): CancelOutcome => {
      gate.setCancel(request);
      return { accepted: true, state: gate.state(), effect: gate.applied() ? 'compensate' : 'stop' };
    },
    {
      validator: (request: CancelRequest) =>
        refuse(gate, cancelRefusal(gate.state(), gate.cancel(), workflowInfo().workflowId, request, gate.verifyKeys()), {
          update: 'cancelRemediation',
          claimedBy: claimed(request, 'actor'),
          ...(typeof request?.channel === 'string' ? { channel: request.channel.slice(0, 16) } : {}),
        }),
    },
  );
}
