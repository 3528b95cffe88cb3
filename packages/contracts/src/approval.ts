import { z } from 'zod';
import { identifier, isoTimestamp } from './common.js';
import { policyDecisionSchema } from './policy.js';
import { remediationPlanSchema } from './remediation.js';
import { defineContract } from './validation.js';

/** Default time a human has to decide before the request expires. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 15 * 60 * 1000;

export const approvalRequestSchema = z.object({
  incidentId: identifier,
  workflowId: z.string().min(1),
  summary: z.string().min(1).max(3000),
  plan: remediationPlanSchema,
  dryRunDiff: z.string().max(20000),
  policy: policyDecisionSchema,
  requestedAt: isoTimestamp,
  expiresAt: isoTimestamp,
});
export type ApprovalRequest = z.output<typeof approvalRequestSchema>;
export const ApprovalRequest = defineContract('ApprovalRequest', approvalRequestSchema);

export const approvalDecisionSchema = z.object({
  decision: z.enum(['approve', 'reject']),
  approver: z.string().min(1).max(256),
  channel: z.enum(['slack', 'http', 'cli']),
  comment: z.string().max(2000).optional(),
  decidedAt: isoTimestamp,
});
export type ApprovalDecision = z.output<typeof approvalDecisionSchema>;
export const ApprovalDecision = defineContract('ApprovalDecision', approvalDecisionSchema);
