import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { ApprovalDecision } from './approval.js';
import type { Incident } from './incident.js';
import type { PolicyInput } from './policy.js';
import { QUERY_NAMES, SIGNAL_NAMES, UPDATE_NAMES } from './names.js';
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
] as const;
export const workflowState = z.enum(WORKFLOW_STATES);
export type WorkflowState = z.infer<typeof workflowState>;
export const TERMINAL_STATES: ReadonlySet<WorkflowState> = new Set(['RESOLVED', 'ROLLED_BACK', 'DENIED', 'REJECTED', 'EXPIRED', 'FAILED']);

/** Argument of the remediation workflow, passed once by signal-with-start. */
export interface RemediationWorkflowInput {
  readonly incident: Incident;
  /** How long a human has to decide; DEFAULT_APPROVAL_TIMEOUT_MS when absent. */
  readonly approvalTimeoutMs?: number;
  /**
   * Actions already planned and dry-run by the caller (a manual action through the api), each put to the
   * policy gate before anything else; a denial ends the workflow at once (DENIED). The workflow issue's own
   * planner and dry-run step produce these in the workflow itself.
   */
  readonly proposals?: readonly PolicyInput[];
}

/** Later signals of the same incident reach the running workflow through this signal. */
export const incidentSignal = defineSignal<[Signal]>(SIGNAL_NAMES.incidentSignal);

/** A human decision; its validator refuses late and duplicate decisions. */
export const approvalDecisionUpdate = defineUpdate<ApprovalDecisionOutcome, [ApprovalDecision]>(UPDATE_NAMES.approvalDecision);
export interface ApprovalDecisionOutcome {
  readonly accepted: true;
  readonly decision: ApprovalDecision['decision'];
  readonly state: WorkflowState;
}

export interface RemediationStateView {
  readonly state: WorkflowState;
  readonly incidentId: string;
  readonly history: readonly { state: WorkflowState; at: string }[];
}
export const remediationStateQuery = defineQuery<RemediationStateView>(QUERY_NAMES.remediationState);
