/**
 * A stand-in for the remediation workflow, for the approvals service's integration tests only (bundled by the test
 * worker; the real workflow lives in packages/workflows). It implements exactly the contract the approvals service
 * depends on (packages/contracts, workflow.ts): the `remediationState` query with `approvalRequest` and `decisions`,
 * the `approvalDecision` update whose validator refuses with `NotAwaitingApproval`, `InvalidDecision`, `StalePlan`
 * (another request or plan) and `DuplicateDecision` (after a rejection, or the same approver twice), answering
 * `approvalsOutstanding` while a critical plan waits for its second distinct approver, and the `cancelRemediation`
 * update refused with `NotCancellable` once ended, compensating or already cancelled, both refusing what the approvals
 * service did not sign (`UnsignedDecision`) and a self-approval (`SelfApproval`). Its result is a
 * `RemediationOutcome`. No activities: the tests post the request to the service themselves.
 */
import {
  type ApprovalDecision,
  type CancelRequest,
  incidentSignal,
  type RemediationOutcome,
  remediationStateQuery,
  type RemediationStateView,
  type WorkflowState,
} from '@cortexops/contracts';
// The real workflow's updates and validators, so the stand-in takes and refuses exactly what the real one does.
import { approvalsOutstanding, setApprovalHandlers } from '@cortexops/workflows';
import { condition, setHandler } from '@temporalio/workflow';
import { replanSignal, type StandInInput } from './definitions.js';

export async function remediationWorkflow(input: StandInInput): Promise<RemediationOutcome> {
  const history: { state: WorkflowState; at: string }[] = [];
  let state: WorkflowState = 'APPROVAL_PENDING';
  const transition = (next: WorkflowState) => {
    state = next;
    history.push({ state: next, at: new Date().toISOString() });
  };
  transition('APPROVAL_PENDING');

  let request = input.test.request;
  /** Decisions about the request waiting (a new plan voids them); `allDecisions` keeps every one accepted. */
  let decisions: ApprovalDecision[] = [];
  const allDecisions: ApprovalDecision[] = [];
  let cancel: CancelRequest | undefined;
  let applied = false;
  let replanned = false;
  let signalsReceived = 0;
  let outcome: string | undefined;

  const rejected = () => decisions.some((d) => d.decision === 'reject');

  setHandler(incidentSignal, () => {
    signalsReceived += 1;
  });
  setHandler(replanSignal, (next) => {
    request = next;
    decisions = [];
    replanned = true;
  });
  setHandler(
    remediationStateQuery,
    (): RemediationStateView => ({
      state,
      incidentId: input.incident.id,
      history,
      approvalRequest: request,
      decisions: allDecisions,
      receipts: [],
      signalsReceived,
      ...(outcome ? { outcome } : {}),
    }),
  );
  setApprovalHandlers({
    state: () => state,
    request: () => request,
    decisions: () => decisions,
    decide: (decision) => {
      decisions.push(decision);
      allDecisions.push(decision);
    },
    cancel: () => cancel,
    setCancel: (by) => {
      cancel = by;
    },
    applied: () => applied,
    verifyKeys: () => input.test.verifyKeys,
  });

  /** Read through a function: the handlers set it, which TypeScript's narrowing cannot see. */
  const cancelled = (): CancelRequest | undefined => cancel;
  const end = (final: WorkflowState, why: string): RemediationOutcome => {
    transition(final);
    outcome = why;
    const last = allDecisions.at(-1);
    return { state, outcome, ...(last ? { decision: last } : {}), decisions: allDecisions, receipts: [], signalsReceived };
  };

  for (;;) {
    replanned = false;
    const timeoutMs = Math.max(1, Date.parse(request.expiresAt) - Date.now());
    const settled = await condition(() => replanned || cancel !== undefined || rejected() || approvalsOutstanding(request, decisions) === 0, timeoutMs);
    if (replanned) continue;
    if (!settled) return end('EXPIRED', 'nobody decided in time');
    break;
  }
  const stop = cancelled();
  if (stop) return end('CANCELLED', `cancelled by ${stop.actor}: ${stop.reason}`);
  if (rejected()) return end('REJECTED', 'rejected');

  transition('APPLYING');
  applied = true;
  if (input.test.holdApplyingMs !== undefined && (await condition(() => cancel !== undefined, input.test.holdApplyingMs))) {
    transition('COMPENSATING');
    return end('ROLLED_BACK', `cancelled after the apply by ${cancelled()?.actor ?? 'someone'}; reverted`);
  }
  transition('VERIFYING');
  return end('RESOLVED', 'applied and verified (stand-in)');
}
