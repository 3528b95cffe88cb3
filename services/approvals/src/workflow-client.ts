import {
  type ApprovalDecision,
  type ApprovalDecisionOutcome,
  approvalDecisionSchema,
  approvalDecisionUpdate,
  ApprovalRequest,
  type CancelOutcome,
  type CancelRequest,
  cancelRemediationUpdate,
  type Incident,
  incidentWorkflowId,
  type RemediationRequest,
  type RemediationWorkflowInput,
  remediationStateQuery,
  type RemediationStateView,
  TASK_QUEUES,
  WORKFLOW_REFUSALS,
  WORKFLOW_TYPES,
  type WorkflowState,
  workflowState,
} from '@cortexops/contracts';
import { ApplicationFailure, type Client, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from 'zod';
import { APPROVAL_ERROR_CODES, ApprovalError } from './errors.js';

/** How a remediation workflow ended, as far as approvals care. */
export interface WorkflowEnd {
  /** The workflow's final state; `undefined` when it failed, was terminated, cancelled or timed out. */
  readonly state: WorkflowState | undefined;
  /** Every decision the workflow accepted, oldest first. */
  readonly decisions: readonly ApprovalDecision[];
  /** Temporal's status when the workflow did not complete normally. */
  readonly status?: string;
}

/** The request waiting for a decision, as the workflow holds it. */
export interface PendingRequest {
  readonly state: WorkflowState;
  readonly request: ApprovalRequest;
  /** Distinct people who already approved this request. */
  readonly approvedBy: readonly string[];
  /** Distinct approvals still needed. */
  readonly approvalsOutstanding: number;
}

const workflowResult = z.looseObject({
  state: workflowState,
  decision: approvalDecisionSchema.optional(),
  decisions: z.array(approvalDecisionSchema).optional(),
});

type Attempt = { readonly kind: 'decision'; readonly decision: ApprovalDecision } | { readonly kind: 'cancel' };

/**
 * The remediation workflows seen from the approvals service: read the request waiting for a decision (the
 * `remediationState` query), deliver a decision (`approvalDecision` update) or an operator's cancel
 * (`cancelRemediation` update), and explain a refusal (duplicate, stale plan, expired, not awaiting, not
 * cancellable, unknown incident) in words a person can act on. The workflow decides; this only asks and explains.
 */
export class RemediationWorkflows {
  constructor(private readonly client: Client) {}

  private handle(incidentId: string) {
    return this.client.workflow.getHandle(incidentWorkflowId(incidentId));
  }

  /** The request waiting for a decision; throws {@link ApprovalError} (not found, none waiting, Temporal failed). */
  async pending(incidentId: string): Promise<PendingRequest> {
    let view: RemediationStateView;
    try {
      view = await this.handle(incidentId).query(remediationStateQuery);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw notFoundError(incidentId);
      throw new ApprovalError(APPROVAL_ERROR_CODES.upstream, 'The remediation workflow could not be asked for its approval request; try again.', { cause: error });
    }
    const request = view.approvalRequest === undefined ? undefined : ApprovalRequest.validate(view.approvalRequest);
    if (view.state !== 'APPROVAL_PENDING' || request === undefined) {
      throw new ApprovalError(APPROVAL_ERROR_CODES.noPendingRequest, `No approval request is waiting for incident ${incidentId} (state ${view.state}).`);
    }
    if (!request.ok) throw new ApprovalError(APPROVAL_ERROR_CODES.upstream, `The workflow holds an approval request that does not match its contract: ${request.error.message}`);
    const approvedBy = approversOf(view.decisions, request.value.requestId);
    return { state: view.state, request: request.value, approvedBy, approvalsOutstanding: Math.max(0, request.value.approvalsRequired - approvedBy.length) };
  }

  /** Delivers the decision; throws {@link ApprovalError} saying why it was refused. */
  async decide(incidentId: string, decision: ApprovalDecision): Promise<ApprovalDecisionOutcome> {
    try {
      return await this.handle(incidentId).executeUpdate(approvalDecisionUpdate, { args: [decision] });
    } catch (error) {
      throw await this.explainRefusal(incidentId, error, { kind: 'decision', decision });
    }
  }

  /**
   * Starts a new run of the incident's remediation for a person's signed request. Only once the earlier run has ended
   * (while one runs, that one is decided or cancelled: `REMEDIATION_RUNNING`); the workflow id stays the incident's.
   */
  async start(incident: Incident, requested: RemediationRequest): Promise<{ readonly workflowId: string; readonly runId: string }> {
    const workflowId = incidentWorkflowId(incident.id);
    const input: RemediationWorkflowInput = { incident, requested };
    try {
      const handle = await this.client.workflow.start(WORKFLOW_TYPES.remediation, {
        workflowId,
        taskQueue: TASK_QUEUES.remediation,
        args: [input],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ApprovalError(APPROVAL_ERROR_CODES.remediationRunning, `The remediation of incident ${incident.id} is still running: decide or cancel it instead.`);
      }
      throw new ApprovalError(APPROVAL_ERROR_CODES.upstream, 'The remediation could not be started on Temporal; try again.', { cause: error });
    }
  }

  /** Delivers an operator's cancel; throws {@link ApprovalError} saying why it was refused. */
  async cancel(incidentId: string, request: CancelRequest): Promise<CancelOutcome> {
    try {
      return await this.handle(incidentId).executeUpdate(cancelRemediationUpdate, { args: [request] });
    } catch (error) {
      throw await this.explainRefusal(incidentId, error, { kind: 'cancel' });
    }
  }

  /**
   * Waits until the workflow closes (Temporal long-polls its history) and says how it ended. Aborting `signal`
   * cancels the long poll (the promise rejects), so a stopping service does not wait for the workflow.
   */
  async awaitEnd(incidentId: string, signal: AbortSignal): Promise<WorkflowEnd> {
    const handle = this.handle(incidentId);
    try {
      return parseResult(await this.client.withAbortSignal(signal, () => handle.result()));
    } catch (error) {
      if (error instanceof WorkflowFailedError) {
        const description = await handle.describe();
        return { state: undefined, decisions: [], status: description.status.name };
      }
      throw error;
    }
  }

  private async explainRefusal(incidentId: string, error: unknown, attempt: Attempt): Promise<ApprovalError> {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const failure = error.cause;
      switch (failure.type) {
        case WORKFLOW_REFUSALS.invalid:
          return new ApprovalError(APPROVAL_ERROR_CODES.invalid, failure.message);
        case WORKFLOW_REFUSALS.selfApproval:
          return new ApprovalError(APPROVAL_ERROR_CODES.selfApproval, `You asked for this change, so you cannot approve it; another approver must (${failure.message}).`);
        case WORKFLOW_REFUSALS.unsigned:
          // This service signs everything it sends: the worker does not know its key.
          return new ApprovalError(
            APPROVAL_ERROR_CODES.notConfigured,
            `The remediation workflow does not accept this service's signature; the worker's CORTEXOPS_APPROVALS_VERIFY_KEYS must list this service's public key (${failure.message}).`,
          );
        case WORKFLOW_REFUSALS.notCancellable:
          return new ApprovalError(APPROVAL_ERROR_CODES.notCancellable, `The remediation cannot be cancelled (${failure.message}).`);
        case WORKFLOW_REFUSALS.stalePlan:
          return staleError(failure.message, await this.view(incidentId));
        case WORKFLOW_REFUSALS.duplicate:
        case WORKFLOW_REFUSALS.notAwaiting: {
          const view = await this.view(incidentId);
          if (attempt.kind === 'decision') return decisionRefusal(attempt.decision, view, failure);
          break;
        }
        default:
          break;
      }
    }
    if (error instanceof WorkflowNotFoundError) {
      // Either there never was a workflow for this incident, or it has closed (expired, decided and done).
      return refusalOfClosed(incidentId, await this.endIfClosed(incidentId), attempt);
    }
    const what = attempt.kind === 'decision' ? 'The decision' : 'The cancel';
    return new ApprovalError(APPROVAL_ERROR_CODES.upstream, `${what} could not be delivered to the remediation workflow; try again.`, { cause: error });
  }

  private async view(incidentId: string): Promise<RemediationStateView | undefined> {
    try {
      return await this.handle(incidentId).query(remediationStateQuery);
    } catch {
      return undefined;
    }
  }

  /** `null` when no workflow exists for the incident. */
  private async endIfClosed(incidentId: string): Promise<WorkflowEnd | null> {
    const handle = this.handle(incidentId);
    let status: string;
    try {
      status = (await handle.describe()).status.name;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
    if (status === 'COMPLETED') return parseResult(await handle.result());
    return { state: undefined, decisions: [], status };
  }
}

/** Distinct approvers of one request, in the order they approved. */
export function approversOf(decisions: readonly ApprovalDecision[], requestId: string): string[] {
  return [...new Set(decisions.filter((d) => d.requestId === requestId && d.decision === 'approve').map((d) => d.approver))];
}

function parseResult(result: unknown): WorkflowEnd {
  const parsed = workflowResult.safeParse(result);
  if (!parsed.success) return { state: undefined, decisions: [], status: 'COMPLETED_UNRECOGNISED' };
  const { state, decision, decisions } = parsed.data;
  return { state, decisions: decisions ?? (decision ? [decision] : []) };
}

function describeDecisions(decisions: readonly ApprovalDecision[]): string {
  return decisions.map((d) => `${d.decision} by ${d.approver}`).join(', ');
}

function notFoundError(incidentId: string): ApprovalError {
  return new ApprovalError(APPROVAL_ERROR_CODES.notFound, `No remediation is running for incident ${incidentId}.`);
}

function expiredError(): ApprovalError {
  return new ApprovalError(APPROVAL_ERROR_CODES.expired, 'This approval request expired before anyone decided; nothing will be applied.');
}

function notAwaitingError(state: string | undefined): ApprovalError {
  return new ApprovalError(APPROVAL_ERROR_CODES.notAwaiting, `The remediation is not waiting for a decision${state ? ` (state ${state})` : ''}.`);
}

function alreadyDecidedError(decisions: readonly ApprovalDecision[]): ApprovalError {
  return new ApprovalError(APPROVAL_ERROR_CODES.duplicate, `This request was already decided (${describeDecisions(decisions)}); your decision was not recorded.`);
}

/** The plan changed since the person looked: say so, and name the request waiting now (when one is). */
function staleError(detail: string, view: RemediationStateView | undefined): ApprovalError {
  const current = view?.state === 'APPROVAL_PENDING' ? view.approvalRequest : undefined;
  return new ApprovalError(APPROVAL_ERROR_CODES.stalePlan, `The plan changed since you looked; review the new request. Your decision was not recorded (${detail}).`, {
    details: current ? { current: { requestId: current.requestId, planHash: current.planHash } } : undefined,
  });
}

/**
 * A decision the workflow refused as a duplicate or as not awaiting: the workflow's own view says which — this person
 * already approved (a second approval must come from someone else), someone already decided, it expired, or it is
 * simply not waiting.
 */
function decisionRefusal(decision: ApprovalDecision, view: RemediationStateView | undefined, failure: ApplicationFailure): ApprovalError {
  if (view === undefined) {
    return failure.type === WORKFLOW_REFUSALS.duplicate
      ? new ApprovalError(APPROVAL_ERROR_CODES.duplicate, `This request was already decided (${failure.message}); your decision was not recorded.`)
      : notAwaitingError(undefined);
  }
  const forRequest = view.decisions.filter((d) => d.requestId === decision.requestId);
  const required = view.approvalRequest?.requestId === decision.requestId ? view.approvalRequest.approvalsRequired : 1;
  const stillOpen = view.state === 'APPROVAL_PENDING' && approversOf(view.decisions, decision.requestId).length < required && !forRequest.some((d) => d.decision === 'reject');
  if (stillOpen && forRequest.some((d) => d.decision === 'approve' && d.approver === decision.approver)) {
    return new ApprovalError(
      APPROVAL_ERROR_CODES.duplicate,
      `${decision.approver} has already approved this request; it needs ${required} distinct approvers, so the next approval must come from someone else.`,
    );
  }
  if (forRequest.length > 0) return alreadyDecidedError(forRequest);
  if (view.state === 'EXPIRED') return expiredError();
  if (failure.type === WORKFLOW_REFUSALS.duplicate) return new ApprovalError(APPROVAL_ERROR_CODES.duplicate, `This request was already decided (${failure.message}); your decision was not recorded.`);
  return notAwaitingError(view.state);
}

function refusalOfClosed(incidentId: string, end: WorkflowEnd | null, attempt: Attempt): ApprovalError {
  if (end === null) return notFoundError(incidentId);
  const finalState = end.state ?? end.status;
  if (attempt.kind === 'cancel') {
    return new ApprovalError(APPROVAL_ERROR_CODES.notCancellable, `The remediation cannot be cancelled: it has already ended${finalState ? ` (${finalState})` : ''}.`);
  }
  if (end.state === 'EXPIRED') return expiredError();
  const forRequest = end.decisions.filter((d) => d.requestId === attempt.decision.requestId);
  if (forRequest.length > 0) return alreadyDecidedError(forRequest);
  return notAwaitingError(finalState);
}
