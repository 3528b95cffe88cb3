import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { ApprovalDecision, ApprovalRequest, CancelRequest } from './approval.js';
import type { ActionReceipt } from './audit.js';
import type { Diagnosis, DryRunReport, PolicyVerdict } from './activities.js';
import { type Incident, incidentSchema } from './incident.js';
import { QUERY_NAMES, SIGNAL_NAMES, UPDATE_NAMES } from './names.js';
import type { RemediationPlan, VerificationResult } from './remediation.js';
import { type RemediationRequest, remediationRequestSchema } from './remediation-request.js';
import type { Signal } from './signal.js';

export const WORKFLOW_STATES = [
  'DIAGNOSING',
  'PLANNING',
  'DRY_RUNNING',
  'POLICY_CHECK',
  'APPROVAL_PENDING',
  'APPLYING',
  'VERIFYING',
  'RESOLVED',
  'COMPENSATING',
  'ROLLED_BACK',
  'DENIED',
  'REJECTED',
  'EXPIRED',
  'FAILED',
  /** Handed to a human without a change: no safe action, or a verification that could not decide. */
  'ESCALATED',
  /** Observe mode: planned and dry-run only; what it would have done is recorded. */
  'OBSERVED',
  /** An operator cancelled before anything was applied. */
  'CANCELLED',
] as const;
export const workflowState = z.enum(WORKFLOW_STATES);
export type WorkflowState = z.infer<typeof workflowState>;
export const TERMINAL_STATES: ReadonlySet<WorkflowState> = new Set([
  'RESOLVED',
  'ROLLED_BACK',
  'DENIED',
  'REJECTED',
  'EXPIRED',
  'FAILED',
  'ESCALATED',
  'OBSERVED',
  'CANCELLED',
]);

/**
 * Argument of the remediation workflow, passed once by signal-with-start. Only the incident: every fact the workflow
 * decides on (plan, dry run, policy facts, timeouts) is computed by the worker, never taken from the caller.
 */
export interface RemediationWorkflowInput {
  readonly incident: Incident;
  /** A person asked for this run (through the approvals service, signed): they may not approve it, and it always waits for an approval. */
  readonly requested?: RemediationRequest;
}
/**
 * The workflow checks its input against this: exactly `{incident}` (and a person's signed request), nothing else (no
 * plan, no proposals, no settings).
 */
export const remediationWorkflowInputSchema = z.strictObject({ incident: incidentSchema, requested: remediationRequestSchema.optional() });

/** Later signals of the same incident reach the running workflow through this signal. */
export const incidentSignal = defineSignal<[Signal]>(SIGNAL_NAMES.incidentSignal);

/** The correlator saw every signal of the incident resolve: before an apply the workflow ends, "resolved by itself". */
export const incidentResolvedSignal = defineSignal<[Signal]>(SIGNAL_NAMES.incidentResolved);

/** A human decision; its validator refuses late and duplicate decisions and decisions about another request or plan. */
export const approvalDecisionUpdate = defineUpdate<ApprovalDecisionOutcome, [ApprovalDecision]>(UPDATE_NAMES.approvalDecision);
export interface ApprovalDecisionOutcome {
  readonly accepted: true;
  readonly decision: ApprovalDecision['decision'];
  readonly state: WorkflowState;
  /** Distinct approvals still needed (critical risk needs two). */
  readonly approvalsOutstanding?: number;
}

/** An operator cancels: before an apply the workflow ends CANCELLED; after it, the change is compensated. */
export const cancelRemediationUpdate = defineUpdate<CancelOutcome, [CancelRequest]>(UPDATE_NAMES.cancelRemediation);
export interface CancelOutcome {
  readonly accepted: true;
  /** The state the workflow was in when the cancel arrived. */
  readonly state: WorkflowState;
  /** `compensate`: something was applied and will be reverted; `stop`: nothing was applied. */
  readonly effect: 'stop' | 'compensate';
}

/** Temporal failure types the update validators answer with (callers branch on these, never on the text). */
export const WORKFLOW_REFUSALS = {
  duplicate: 'DuplicateDecision',
  notAwaiting: 'NotAwaitingApproval',
  invalid: 'InvalidDecision',
  /** The decision names another request or plan than the one waiting. */
  stalePlan: 'StalePlan',
  /** The workflow has ended or is already compensating. */
  notCancellable: 'NotCancellable',
  /** The decision or cancel is not signed by the approvals service (a bare Temporal client, a forged or altered one). */
  unsigned: 'UnsignedDecision',
  /** The person who asked for the change tried to approve it. */
  selfApproval: 'SelfApproval',
} as const;

export interface RemediationStateView {
  readonly state: WorkflowState;
  readonly incidentId: string;
  readonly history: readonly { state: WorkflowState; at: string }[];
  readonly diagnosis?: Diagnosis;
  readonly plan?: RemediationPlan;
  readonly dryRun?: DryRunReport;
  readonly policy?: PolicyVerdict;
  /** The request waiting for a decision (or the last one asked). */
  readonly approvalRequest?: ApprovalRequest;
  readonly decisions: readonly ApprovalDecision[];
  readonly receipts: readonly ActionReceipt[];
  readonly verification?: VerificationResult;
  /** Signals received after the workflow started (recorded; they never restart a plan). */
  readonly signalsReceived: number;
  /** Why it ended the way it did, in words. */
  readonly outcome?: string;
}
export const remediationStateQuery = defineQuery<RemediationStateView>(QUERY_NAMES.remediationState);

/** What the workflow returns. */
export interface RemediationOutcome {
  readonly state: WorkflowState;
  readonly outcome: string;
  readonly plan?: RemediationPlan;
  readonly policy?: PolicyVerdict;
  readonly decision?: ApprovalDecision;
  readonly decisions: readonly ApprovalDecision[];
  readonly receipts: readonly ActionReceipt[];
  readonly verification?: VerificationResult;
  readonly signalsReceived: number;
}
