import { z } from 'zod';
import type { ApprovalDecision, CancelRequest } from './approval.js';

/**
 * Decisions and cancels reach the remediation workflow signed by the approvals service (Ed25519): the service holds the
 * private key, the worker only the public keys, and the workflow's update validators refuse anything else — so a bare
 * Temporal client can neither approve nor cancel. These are the exact bytes signed (UTF-8 of the JSON array), shared by
 * the signer (services/approvals) and the verifier (packages/workflows).
 */
export const APPROVAL_SIGNATURE_CONTEXT = { decision: 'cortexops.approval-decision.v1', cancel: 'cortexops.cancel.v1' } as const;

/** An Ed25519 signature, lowercase hex (64 bytes). */
export const approvalSignature = z.string().regex(/^[0-9a-f]{128}$/, 'must be a lowercase hex Ed25519 signature (128 digits)');

/** An Ed25519 public key as the workflow reads it: raw 32 bytes, lowercase hex. */
export const approvalVerifyKey = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex Ed25519 public key (64 digits)');

/** What the signature of a decision covers: request id (it names the workflow), plan hash, decision, decider, channel, time, comment. */
export function decisionSigningPayload(decision: Omit<ApprovalDecision, 'signature'>): string {
  return JSON.stringify([
    APPROVAL_SIGNATURE_CONTEXT.decision,
    decision.requestId,
    decision.planHash,
    decision.decision,
    decision.approver,
    decision.channel,
    decision.decidedAt,
    decision.comment ?? null,
  ]);
}

/** What the signature of a cancel covers: the workflow it stops, who, how, why and when. */
export function cancelSigningPayload(workflowId: string, cancel: Omit<CancelRequest, 'signature'>): string {
  return JSON.stringify([APPROVAL_SIGNATURE_CONTEXT.cancel, workflowId, cancel.actor, cancel.channel, cancel.reason, cancel.requestedAt]);
}
