import { z } from 'zod';
import { identifier, isoTimestamp } from './common.js';
import { defineContract } from './validation.js';

export const AUDIT_KINDS = [
  'incident.opened',
  'incident.updated',
  'incident.resolved',
  'workflow.state',
  'plan.proposed',
  'dryrun.completed',
  'policy.decision',
  'policy.violation',
  'approval.requested',
  'approval.decided',
  'approval.expired',
  'action.applied',
  'action.reverted',
  'verification.completed',
  'compensation.failed',
  'manual.action',
] as const;
export const auditKind = z.enum(AUDIT_KINDS);
export type AuditKind = z.infer<typeof auditKind>;

/** One append-only audit record. `idempotencyKey` makes a retried write land once. */
export const auditEventSchema = z.object({
  idempotencyKey: z.string().min(1).max(256),
  incidentId: identifier.optional(),
  workflowId: z.string().max(256).optional(),
  kind: auditKind,
  actor: z.string().min(1).max(256),
  occurredAt: isoTimestamp,
  payload: z.record(z.string(), z.unknown()).default({}),
});
export type AuditEvent = z.output<typeof auditEventSchema>;
export const AuditEvent = defineContract('AuditEvent', auditEventSchema);
