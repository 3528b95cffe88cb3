import type { ApprovalDecision, ApprovalRequest, WorkflowState } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { approvalsOutstanding, cancelRefusal, decisionRefusal } from './approval-gate.js';

const HASH = 'a'.repeat(64);
const request = { requestId: 'incident-x/approval/1', planHash: HASH, approvalsRequired: 1 } as ApprovalRequest;
const critical = { ...request, approvalsRequired: 2 };

function decision(approver: string, overrides: Partial<ApprovalDecision> = {}): ApprovalDecision {
  return { requestId: request.requestId, planHash: HASH, decision: 'approve', approver, channel: 'http', decidedAt: '2026-11-30T10:00:00Z', ...overrides };
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
  ])('%s', (_name, state, current, earlier, incoming, refusal) => {
    expect(decisionRefusal(state, current, earlier, incoming)?.type).toBe(refusal);
  });

  it('critical plans need two distinct approvers; others one', () => {
    expect(approvalsOutstanding(request, [])).toBe(1);
    expect(approvalsOutstanding(request, [decision('alice')])).toBe(0);
    expect(approvalsOutstanding(critical, [decision('alice')])).toBe(1);
    expect(approvalsOutstanding(critical, [decision('alice'), decision('bob')])).toBe(0);
    expect(approvalsOutstanding(critical, [decision('alice', { decision: 'reject' })])).toBe(2);
  });

  it('cancel — taken once, never after the end or while compensating', () => {
    const by = { actor: 'oncall', channel: 'http', reason: 'by hand', requestedAt: '2026-11-30T10:00:00Z' } as const;
    expect(cancelRefusal('APPROVAL_PENDING', undefined)).toBeUndefined();
    expect(cancelRefusal('VERIFYING', undefined)).toBeUndefined();
    expect(cancelRefusal('VERIFYING', by)?.type).toBe('NotCancellable');
    expect(cancelRefusal('COMPENSATING', undefined)?.type).toBe('NotCancellable');
    expect(cancelRefusal('RESOLVED', undefined)?.type).toBe('NotCancellable');
  });
});
