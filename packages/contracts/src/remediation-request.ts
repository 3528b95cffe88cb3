import { z } from 'zod';
import { approvalSignature } from './approval-signature.js';
import { isoTimestamp } from './common.js';

/**
 * A person asks CortexOps to remediate an incident again (its earlier run ended: expired, rejected, escalated, ...),
 * through the approvals service (HTTP API or `cortexops-approve request`). Who asks comes from their personal token,
 * never from a body, and the approvals service signs it (Ed25519, like decisions): the workflow refuses an unsigned
 * one. The requester may not approve the change (four-eyes), and a change a person asked for always waits for an
 * approval, whatever the policy says.
 */
export const remediationRequestSchema = z.strictObject({
  requestedBy: z.string().min(1).max(256),
  channel: z.enum(['http', 'cli']),
  reason: z.string().min(1).max(2000),
  requestedAt: isoTimestamp,
  signature: approvalSignature,
});
export type RemediationRequest = z.output<typeof remediationRequestSchema>;

export const REMEDIATION_REQUEST_SIGNATURE_CONTEXT = 'cortexops.remediation-request.v1';

/** What the signature of a person's request covers: the workflow it starts, who, how, why and when. */
export function remediationRequestSigningPayload(workflowId: string, request: Omit<RemediationRequest, 'signature'>): string {
  return JSON.stringify([REMEDIATION_REQUEST_SIGNATURE_CONTEXT, workflowId, request.requestedBy, request.channel, request.reason, request.requestedAt]);
}
