import {
  type ApprovalDecision,
  approvalDecisionSchema,
  type ApprovalDecisionOutcome,
  approvalDecisionUpdate,
  incidentWorkflowId,
  remediationStateQuery,
  type WorkflowState,
  workflowState,
} from '@cortexops/contracts';
import { ApplicationFailure, type Client, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from 'zod';
import { APPROVAL_ERROR_CODES, ApprovalError } from './errors.js';

/** How a remediation workflow ended, as far as approvals care. */
export interface WorkflowEnd {
  /** The workflow's final state; `undefined` when it failed, was terminated, cancelled or timed out. */
  readonly state: WorkflowState | undefined;
  readonly decision?: ApprovalDecision;
  /** Temporal's status when the workflow did not complete normally. */
  readonly status?: string;
}

const workflowResult = z.looseObject({ state: workflowState, decision: approvalDecisionSchema.optional() });

/** Validator failure types of the approval update (packages/workflows). */
const REFUSAL_TYPES = {
  duplicate: 'DuplicateDecision',
  notAwaiting: 'NotAwaitingApproval',
  invalid: 'InvalidDecision',
} as const;

/**
 * The remediation workflows seen from the approvals service: deliver a decision as the
 * `approvalDecision` update and explain a refusal (duplicate, expired, not awaiting, unknown incident)
 * in words a person can act on.
 */
export class WorkflowDecisions {
  constructor(private readonly client: Client) {}

  private handle(incidentId: string) {
    return this.client.workflow.getHandle(incidentWorkflowId(incidentId));
  }

  /** Delivers the decision; throws {@link ApprovalError} saying why it was refused. */
  async decide(incidentId: string, decision: ApprovalDecision): Promise<ApprovalDecisionOutcome> {
    try {
      return await this.handle(incidentId).executeUpdate(approvalDecisionUpdate, { args: [decision] });
    } catch (error) {
      throw await this.explainRefusal(incidentId, error);
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
        return { state: undefined, status: description.status.name };
      }
      throw error;
    }
  }

  private async explainRefusal(incidentId: string, error: unknown): Promise<ApprovalError> {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const failure = error.cause;
      switch (failure.type) {
        case REFUSAL_TYPES.duplicate:
          return new ApprovalError(APPROVAL_ERROR_CODES.duplicate, `This request was already decided (${failure.message.replace(/^already decided: /, '')}); your decision was not recorded.`);
        case REFUSAL_TYPES.invalid:
          return new ApprovalError(APPROVAL_ERROR_CODES.invalid, failure.message);
        case REFUSAL_TYPES.notAwaiting: {
          const state = await this.currentState(incidentId);
          return state === 'EXPIRED' ? expiredError() : notAwaitingError(state);
        }
        default:
          break;
      }
    }
    if (error instanceof WorkflowNotFoundError) {
      // Either there never was a workflow for this incident, or it has closed (expired, decided and done).
      return refusalOfClosed(incidentId, await this.endIfClosed(incidentId));
    }
    return new ApprovalError(APPROVAL_ERROR_CODES.upstream, 'The decision could not be delivered to the remediation workflow; try again.', { cause: error });
  }

  private async currentState(incidentId: string): Promise<WorkflowState | undefined> {
    try {
      return (await this.handle(incidentId).query(remediationStateQuery)).state;
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
    return { state: undefined, status };
  }
}

function parseResult(result: unknown): WorkflowEnd {
  const parsed = workflowResult.safeParse(result);
  if (!parsed.success) return { state: undefined, status: 'COMPLETED_UNRECOGNISED' };
  return { state: parsed.data.state, ...(parsed.data.decision ? { decision: parsed.data.decision } : {}) };
}

function expiredError(): ApprovalError {
  return new ApprovalError(APPROVAL_ERROR_CODES.expired, 'This approval request expired before anyone decided; nothing will be applied.');
}

function notAwaitingError(state: string | undefined): ApprovalError {
  return new ApprovalError(APPROVAL_ERROR_CODES.notAwaiting, `The remediation is not waiting for a decision${state ? ` (state ${state})` : ''}.`);
}

function refusalOfClosed(incidentId: string, end: WorkflowEnd | null): ApprovalError {
  if (end === null) return new ApprovalError(APPROVAL_ERROR_CODES.notFound, `No remediation is running for incident ${incidentId}.`);
  if (end.state === 'EXPIRED') return expiredError();
  if (end.decision) {
    return new ApprovalError(
      APPROVAL_ERROR_CODES.duplicate,
      `This request was already decided (${end.decision.decision} by ${end.decision.approver}); your decision was not recorded.`,
    );
  }
  return notAwaitingError(end.state ?? end.status);
}
