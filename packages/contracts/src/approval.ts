import { z } from 'zod';
import { identifier, isoTimestamp, sha256Hex } from './common.js';
import { policyDecisionSchema } from './policy.js';
import { remediationPlanSchema } from './remediation.js';
import { defineContract } from './validation.js';
import { approvalSignature } from './approval-signature.js';

/** Default time a human has to decide before the request expires. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 15 * 60 * 1000;

/** `<workflowId>/approval/<n>`: minted by the workflow, one per plan it asks about. */
export const approvalRequestId = z.string().regex(/^[a-z0-9][a-z0-9._/-]{0,199}$/, 'must be 1-200 of a-z, 0-9, ".", "_", "/", "-"');

/**
 * What a human is asked to approve. `planHash` binds the request to one exact plan (actions, target uids, parameters,
 * dry-run diff): a decision must carry this request's id and hash, and a changed plan voids earlier decisions.
 */
export const approvalRequestSchema = z.object({
  requestId: approvalRequestId,
  planHash: sha256Hex,
  incidentId: identifier,
  workflowId: z.string().min(1),
  /** Distinct approvers needed (critical risk needs two). */
  approvalsRequired: z.int().min(1).max(2).default(1),
  summary: z.string().min(1).max(3000),
  plan: remediationPlanSchema,
  dryRunDiff: z.string().max(20000),
  policy: policyDecisionSchema,
  requestedAt: isoTimestamp,
  expiresAt: isoTimestamp,
  /**
   * The person who asked for this change, when a person did (absent for a plan CortexOps made from telemetry): they may
   * not approve it (four-eyes, DESIGN safety rule 7).
   */
  requestedBy: z.string().min(1).max(256).optional(),
});
export type ApprovalRequest = z.output<typeof approvalRequestSchema>;
export const ApprovalRequest = defineContract('ApprovalRequest', approvalRequestSchema);

export const approvalDecisionSchema = z.object({
  /** The request decided on and the plan it showed: a decision for another request or plan is refused. */
  requestId: approvalRequestId,
  planHash: sha256Hex,
  decision: z.enum(['approve', 'reject']),
  approver: z.string().min(1).max(256),
  channel: z.enum(['slack', 'http', 'cli']),
  comment: z.string().max(2000).optional(),
  decidedAt: isoTimestamp,
  /**
   * Ed25519 signature by the approvals service over {@link decisionSigningPayload} (approval-signature.ts): the
   * workflow refuses a decision without a valid one. Optional in the schema only so that older histories still parse.
   */
  signature: approvalSignature.optional(),
});
export type ApprovalDecision = z.output<typeof approvalDecisionSchema>;
export const ApprovalDecision = defineContract('ApprovalDecision', approvalDecisionSchema);

/** An operator stops a remediation: before the apply nothing happens; after it, the change is compensated. */
export const cancelRequestSchema = z.object({
  actor: z.string().min(1).max(256),
  channel: z.enum(['slack', 'http', 'cli']),
  reason: z.string().min(1).max(2000),
  requestedAt: isoTimestamp,
  /** Ed25519 signature by the approvals service over {@link cancelSigningPayload}; required by the workflow. */
  signature: approvalSignature.optional(),
});
export type CancelRequest = z.output<typeof cancelRequestSchema>;
export const CancelRequest = defineContract('CancelRequest', cancelRequestSchema);

/** A message to the approval channel that asks for no decision (escalations, outcomes). */
export const remediationNoteSchema = z.object({
  incidentId: identifier,
  workflowId: z.string().min(1),
  kind: z.enum(['escalated', 'failed', 'rolled-back', 'resolved', 'observed']),
  summary: z.string().min(1).max(3000),
  at: isoTimestamp,
});
export type RemediationNote = z.output<typeof remediationNoteSchema>;
export const RemediationNote = defineContract('RemediationNote', remediationNoteSchema);
