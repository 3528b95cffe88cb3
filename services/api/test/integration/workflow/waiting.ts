/**
 * A remediation workflow reduced to its approval gate, for the api's manual-action tests only: registered under the
 * real workflow's type name and task queue, it waits in APPROVAL_PENDING on one request behind the real update
 * handlers and validators (`setApprovalHandlers` from packages/workflows: signatures, stale plans, duplicates), answers
 * the `remediationState` query the approvals service reads, and ends APPROVED → RESOLVED, REJECTED or CANCELLED.
 */
import { type ApprovalDecision, type ApprovalRequest, type CancelRequest, remediationStateQuery, type WorkflowState } from '@cortexops/contracts';
import { approvalsOutstanding, setApprovalHandlers } from '@cortexops/workflows';
import { condition, setHandler } from '@temporalio/workflow';

export interface WaitingInput {
  readonly incident: { readonly id: string };
  readonly request: ApprovalRequest;
  readonly verifyKeys: readonly string[];
}

export async function remediationWorkflow(input: WaitingInput): Promise<WorkflowState> {
  let state: WorkflowState = 'APPROVAL_PENDING';
  const history = [{ state, at: new Date().toISOString() }];
  const decisions: ApprovalDecision[] = [];
  let cancel: CancelRequest | undefined;
  setHandler(remediationStateQuery, () => ({ state, incidentId: input.incident.id, history, approvalRequest: input.request, decisions, receipts: [], signalsReceived: 0 }));
  setApprovalHandlers({
    state: () => state,
    request: () => input.request,
    decisions: () => decisions,
    decide: (decision) => void decisions.push(decision),
    cancel: () => cancel,
    setCancel: (request) => {
      cancel = request;
    },
    applied: () => false,
    verifyKeys: () => input.verifyKeys,
  });
  await condition(() => cancel !== undefined || decisions.some((d) => d.decision === 'reject') || approvalsOutstanding(input.request, decisions) === 0);
  state = cancel ? 'CANCELLED' : decisions.some((d) => d.decision === 'reject') ? 'REJECTED' : 'RESOLVED';
  return state;
}
