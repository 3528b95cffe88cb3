import { type ApprovalDecision, type ApprovalRequest, type CancelRequest, cancelSigningPayload, decisionSigningPayload, type WorkflowState } from '@cortexops/contracts';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/curves/utils.js';
import { describe, expect, it } from 'vitest';
import { approvalsOutstanding, cancelRefusal, decisionRefusal } from './approval-gate.js';

const HASH = 'a'.repeat(64);
const request = { requestId: 'incident-x/approval/1', planHash: HASH, approvalsRequired: 1 } as ApprovalRequest;
const critical = { ...request, approvalsRequired: 2 };
const askedByCarol = { ...request, requestedBy: 'carol@example.com' };

/** The approvals service's key (the worker knows its public half) and someone else's. */
const service = ed25519.keygen();
const stranger = ed25519.keygen();
const KEYS = [bytesToHex(service.publicKey)];
const sign = (payload: string, secretKey = service.secretKey) => bytesToHex(ed25519.sign(new TextEncoder().encode(payload), secretKey));

function decision(approver: string, overrides: Partial<ApprovalDecision> = {}): ApprovalDecision {
  const unsigned = { requestId: request.requestId, planHash: HASH, decision: 'approve' as const, approver, channel: 'http' as const, decidedAt: '2026-11-30T10:00:00Z', ...overrides };
  return { ...unsigned, signature: sign(decisionSigningPayload(unsigned)) };
}

function cancelBy(actor: string, workflowId = 'incident-x', secretKey = service.secretKey): CancelRequest {
  const unsigned = { actor, channel: 'http' as const, reason: 'by hand', requestedAt: '2026-11-30T10:00:00Z' };
  return { ...unsigned, signature: sign(cancelSigningPayload(workflowId, unsigned), secretKey) };
}

describe('approval gate — which decisions the workflow takes', () => {
  it.each<[string, WorkflowState, ApprovalRequest | undefined, ApprovalDecision[], ApprovalDecision, string | undefined]>([
    ['the decision for the request and plan waiting', 'APPROVAL_PENDING', request, [], decision('alice'), undefined],
    ['before any request', 'PLANNING', undefined, [], decision('alice'), 'NotAwaitingApproval'],
    ['after the approval, while applying', 'APPLYING', request, [decision('alice')], decision('bob'), 'NotAwaitingApproval'],
    ['another plan hash', 'APPROVAL_PENDING', request, [], decision('alice', { planHash: 'b'.repeat(64) }), 'StalePlan'],
    ['an earlier request of the same workflow', 'APPROVAL_PENDING', request, [], decision('alice', { requestId: 'incident-x/approval/0' }), 'StalePlan'],
    ['the same person twice', 'APPROVAL_PENDING', critical, [decision('alice')], decision('alice'), 'DuplicateDecision'],
    ['anyone after a rejection', 'APPROVAL_PENDING', critical, [decision('alice', { decision: 'reject' })], decision('bob'), 'DuplicateDecision'],
    ['a second approver of a critical plan', 'APPROVAL_PENDING', critical, [decision('alice')], decision('bob'), undefined],
    ['no approver', 'APPROVAL_PENDING', request, [], decision(''), 'InvalidDecision'],
    ['the person who asked for the change approving it', 'APPROVAL_PENDING', askedByCarol, [], decision('carol@example.com'), 'SelfApproval'],
    ['the person who asked for the change rejecting it', 'APPROVAL_PENDING', askedByCarol, [], decision('carol@example.com', { decision: 'reject' }), undefined],
    ['someone else approving a change a person asked for', 'APPROVAL_PENDING', askedByCarol, [], decision('alice'), undefined],
    ['no signature (a bare Temporal client)', 'APPROVAL_PENDING', request, [], { ...decision('alice'), signature: undefined }, 'UnsignedDecision'],
    ['a signature that is not hex', 'APPROVAL_PENDING', request, [], { ...decision('alice'), signature: 'z'.repeat(128) }, 'UnsignedDecision'],
    ['signed by another key', 'APPROVAL_PENDING', request, [], { ...decision('alice'), signature: sign(decisionSigningPayload(decision('alice')), stranger.secretKey) }, 'UnsignedDecision'],
    ['signed for alice, sent as bob', 'APPROVAL_PENDING', request, [], { ...decision('alice'), approver: 'bob' }, 'UnsignedDecision'],
    ['signed as a rejection, sent as an approval', 'APPROVAL_PENDING', request, [], { ...decision('alice', { decision: 'reject' }), decision: 'approve' }, 'UnsignedDecision'],
    ['signed on Slack, sent as HTTP', 'APPROVAL_PENDING', request, [], { ...decision('alice', { channel: 'slack' }), channel: 'http' }, 'UnsignedDecision'],
    ['signed for another plan', 'APPROVAL_PENDING', request, [], { ...decision('alice', { planHash: 'b'.repeat(64) }), planHash: HASH }, 'UnsignedDecision'],
    ['its time changed after signing', 'APPROVAL_PENDING', request, [], { ...decision('alice'), decidedAt: '2026-11-30T10:00:01Z' }, 'UnsignedDecision'],
    ['its comment changed after signing', 'APPROVAL_PENDING', request, [], { ...decision('alice', { comment: 'ok' }), comment: 'ok, and more' }, 'UnsignedDecision'],
  ])('%s', (_name, state, current, earlier, incoming, refusal) => {
    expect(decisionRefusal(state, current, earlier, incoming, KEYS)?.type).toBe(refusal);
  });

  it('no keys configured — every decision is refused as unsigned; a second key (rotation) is accepted beside the first', () => {
    expect(decisionRefusal('APPROVAL_PENDING', request, [], decision('alice'), [])?.type).toBe('UnsignedDecision');
    expect(decisionRefusal('APPROVAL_PENDING', request, [], decision('alice'), [bytesToHex(stranger.publicKey), ...KEYS])).toBeUndefined();
    expect(decisionRefusal('APPROVAL_PENDING', request, [], decision('alice'), ['not-a-key', 'f'.repeat(64)])?.type).toBe('UnsignedDecision');
  });

  it('malformed updates are refused, not thrown at', () => {
    expect(decisionRefusal('APPROVAL_PENDING', request, [], null as unknown as ApprovalDecision, KEYS)?.type).toBe('InvalidDecision');
    expect(decisionRefusal('APPROVAL_PENDING', request, [], { approver: 'alice' } as ApprovalDecision, KEYS)?.type).toBe('InvalidDecision');
    expect(cancelRefusal('APPROVAL_PENDING', undefined, 'incident-x', 'cancel' as unknown as CancelRequest, KEYS)?.type).toBe('InvalidDecision');
  });

  it('critical plans need two distinct approvers; others one', () => {
    expect(approvalsOutstanding(request, [])).toBe(1);
    expect(approvalsOutstanding(request, [decision('alice')])).toBe(0);
    expect(approvalsOutstanding(critical, [decision('alice')])).toBe(1);
    expect(approvalsOutstanding(critical, [decision('alice'), decision('bob')])).toBe(0);
    expect(approvalsOutstanding(critical, [decision('alice', { decision: 'reject' })])).toBe(2);
  });

  it('cancel — signed for this workflow, taken once, never after the end or while compensating', () => {
    const by = cancelBy('oncall');
    expect(cancelRefusal('APPROVAL_PENDING', undefined, 'incident-x', by, KEYS)).toBeUndefined();
    expect(cancelRefusal('VERIFYING', undefined, 'incident-x', by, KEYS)).toBeUndefined();
    expect(cancelRefusal('VERIFYING', by, 'incident-x', by, KEYS)?.type).toBe('NotCancellable');
    expect(cancelRefusal('COMPENSATING', undefined, 'incident-x', by, KEYS)?.type).toBe('NotCancellable');
    expect(cancelRefusal('RESOLVED', undefined, 'incident-x', by, KEYS)?.type).toBe('NotCancellable');
    expect(cancelRefusal('VERIFYING', undefined, 'incident-x', { ...by, signature: undefined }, KEYS)?.type).toBe('UnsignedDecision');
    expect(cancelRefusal('VERIFYING', undefined, 'incident-x', cancelBy('oncall', 'incident-y'), KEYS)?.type).toBe('UnsignedDecision');
    expect(cancelRefusal('VERIFYING', undefined, 'incident-x', cancelBy('oncall', 'incident-x', stranger.secretKey), KEYS)?.type).toBe('UnsignedDecision');
    expect(cancelRefusal('VERIFYING', undefined, 'incident-x', { ...by, reason: 'other' }, KEYS)?.type).toBe('UnsignedDecision');
  });
});
