import { z } from 'zod';
import { identifier, isoTimestamp, sha256Hex } from './common.js';
import { actionSchema } from './remediation.js';
import { defineContract } from './validation.js';

export const AUDIT_KINDS = [
  'incident.opened',
  'incident.updated',
  'incident.resolved',
  'workflow.state',
  /** What the workflow read of its target before planning (live state, pods, events, metrics). */
  'diagnosis.completed',
  'plan.proposed',
  'dryrun.completed',
  'policy.decision',
  'policy.violation',
  'approval.requested',
  'approval.decided',
  /** A decision or request the approvals service refused (bad signature, replay, not allowed, late ...). */
  'approval.refused',
  'approval.expired',
  'action.applied',
  'action.reverted',
  /** One round of verification measurements. */
  'verification.measured',
  'verification.completed',
  /** A remediation handed to a human without a change: no safe action, inconclusive verification, a failed revert. */
  'remediation.escalated',
  'compensation.failed',
  'manual.action',
  /** A person's approver credential was created, revoked or expired by an administrator (approvals CLI). */
  'approver.changed',
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


/** An audit event as stored: its place in the hash chain and when the store recorded it. */
export const auditRecordSchema = auditEventSchema.extend({
  sequence: z.int().min(1),
  recordedAt: isoTimestamp,
  prevHash: sha256Hex,
  hash: sha256Hex,
});
export type AuditRecord = z.output<typeof auditRecordSchema>;
export const AuditRecord = defineContract('AuditRecord', auditRecordSchema);

export const AUDIT_QUERY_MAX_LIMIT = 1000;

/** Filter over the audit trail; pages by sequence (`afterSequence` = the last sequence of the previous page). */
export const auditQuerySchema = z
  .object({
    incidentId: identifier.optional(),
    actor: z.string().min(1).max(256).optional(),
    kinds: z.array(auditKind).min(1).max(AUDIT_KINDS.length).optional(),
    /** Inclusive lower bound on `occurredAt`. */
    from: isoTimestamp.optional(),
    /** Exclusive upper bound on `occurredAt`. */
    to: isoTimestamp.optional(),
    afterSequence: z.int().min(0).optional(),
    limit: z.int().min(1).max(AUDIT_QUERY_MAX_LIMIT).default(100),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to), {
    path: ['to'],
    message: 'must be later than from',
  });
export type AuditQuery = z.input<typeof auditQuerySchema>;
export const AuditQuery = defineContract('AuditQuery', auditQuerySchema);

/**
 * What one applied action changed, kept so that it can be reverted. `remediationId` is the value of
 * the `cortexops.io/remediation-id` annotation on the changed object; a receipt is written once per id.
 */
export const actionReceiptSchema = z.object({
  remediationId: identifier,
  incidentId: identifier,
  workflowId: z.string().min(1).max(256).optional(),
  action: actionSchema,
  /** The object's spec before the change (absent when the action created nothing to restore). */
  priorSpec: z.record(z.string(), z.unknown()).optional(),
  /** What the cluster answered (resource version, generation, ...). */
  receipt: z.record(z.string(), z.unknown()).default({}),
  appliedAt: isoTimestamp,
  revertedAt: isoTimestamp.optional(),
});
export type ActionReceipt = z.output<typeof actionReceiptSchema>;
export const ActionReceipt = defineContract('ActionReceipt', actionReceiptSchema);
