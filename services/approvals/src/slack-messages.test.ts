import type { ApprovalDecision, ApprovalRequest } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import {
  buttonValue,
  escapeMrkdwn,
  noteBlocks,
  noteText,
  parseButtonValue,
  progressBlocks,
  requestBlocks,
  settledBlocks,
  settlementText,
  SLACK_IDS,
} from './slack-messages.js';

const PLAN_HASH = 'ab'.repeat(32);

const request: ApprovalRequest = {
  requestId: 'incident-inc-1/approval/1',
  planHash: PLAN_HASH,
  incidentId: 'inc-1',
  workflowId: 'incident-inc-1',
  approvalsRequired: 1,
  summary: 'pods <crash> & burn',
  plan: {
    incidentId: 'inc-1',
    actions: [{ type: 'scale', kind: 'Deployment', namespace: 'demo', name: 'web', replicas: 4 }],
    rationale: 'traffic doubled',
    source: 'llm',
    risk: 'medium',
    verification: { checks: [{ type: 'rollout', name: 'rollout' }], stabilisationMs: 0, intervalMs: 1000, count: 1, failureLimit: 0, inconclusiveLimit: 0, minSamples: 1 },
    createdAt: '2026-11-22T10:00:00Z',
  },
  dryRunDiff: 'x'.repeat(10_000),
  policy: { allow: true, mode: 'approve', requireApproval: true, reasons: ['scale above 3 needs approval'], violations: ['no <b>change</b> window'] },
  requestedAt: '2026-11-22T10:00:00Z',
  expiresAt: '2026-11-22T10:15:00Z',
};

function decision(approver: string, overrides: Partial<ApprovalDecision> = {}): ApprovalDecision {
  return { requestId: request.requestId, planHash: PLAN_HASH, decision: 'approve', approver, channel: 'slack', decidedAt: '2026-11-22T10:05:00Z', ...overrides };
}

function texts(blocks: unknown[]): string[] {
  return blocks.flatMap((b) => {
    const block = b as { type: string; text?: { text: string }; elements?: { text?: unknown }[] };
    if (block.text) return [block.text.text];
    if (block.type !== 'context') return [];
    return (block.elements ?? []).flatMap((e) => (typeof e.text === 'string' ? [e.text] : []));
  });
}

describe('slack messages — Block Kit', () => {
  it('request — escapes mrkdwn, keeps every section within Slack limits, names the plan hash and request, ends with Approve and Reject', () => {
    const blocks = requestBlocks(request);
    for (const text of texts(blocks)) expect(text.length).toBeLessThanOrEqual(3000);
    const all = texts(blocks).join('\n');
    expect(all).toContain('pods &lt;crash&gt; &amp; burn');
    expect(all).toContain('`scale` Deployment demo/web to 4 replicas');
    expect(all).toContain(':warning: no &lt;b&gt;change&lt;/b&gt; window');
    expect(all).toContain('mode approve');
    expect(all).toContain('…```');
    expect(all).toContain(`Plan \`${PLAN_HASH.slice(0, 12)}\` · request \`incident-inc-1/approval/1\``);
    expect(all).not.toContain('distinct approvers');
    const actions = blocks.at(-1) as { type: string; elements: { action_id: string; value: string }[] };
    expect(actions.type).toBe('actions');
    expect(actions.elements.map((e) => e.action_id)).toEqual([SLACK_IDS.approve, SLACK_IDS.reject]);
    // Each button names the incident, the request and the plan it showed.
    for (const element of actions.elements) expect(parseButtonValue(element.value)).toEqual({ incidentId: 'inc-1', requestId: request.requestId, planHash: PLAN_HASH });
    expect(texts(requestBlocks({ ...request, approvalsRequired: 2 })).join('\n')).toContain('needs *2 distinct approvers*');
  });

  it('button value — only the shape this service writes is read; anything else (an older message, a forged value) is undefined', () => {
    expect(parseButtonValue(buttonValue(request))).toEqual({ incidentId: 'inc-1', requestId: request.requestId, planHash: PLAN_HASH });
    const bad = [
      undefined,
      'inc-1',
      '{"incidentId":"inc-1"',
      JSON.stringify({ incidentId: 'inc-1', requestId: request.requestId }),
      JSON.stringify({ incidentId: 'inc-1', requestId: request.requestId, planHash: 'AB'.repeat(32) }),
      JSON.stringify({ incidentId: 'inc-1', requestId: 'Not An Id', planHash: PLAN_HASH }),
      JSON.stringify({ incidentId: 'INC 1', requestId: request.requestId, planHash: PLAN_HASH }),
      JSON.stringify({ incidentId: 'inc-1', requestId: request.requestId, planHash: PLAN_HASH, extra: 1 }),
      JSON.stringify([1, 2]),
      'x'.repeat(3000),
    ];
    for (const value of bad) expect(parseButtonValue(value), String(value).slice(0, 80)).toBeUndefined();
  });

  it('progress — "1 of 2 approvals" shows above the buttons, which stay; a later progress replaces it', () => {
    const critical = { ...request, approvalsRequired: 2 };
    const once = progressBlocks(requestBlocks(critical), [decision('U1')], 2);
    expect(once.at(-1)?.type).toBe('actions');
    expect(once.filter((b) => b.block_id === SLACK_IDS.progressBlock)).toHaveLength(1);
    expect(texts(once).join('\n')).toContain('*1 of 2 approvals* — approved by <@U1>; waiting for one more approver (someone else).');
    const again = progressBlocks(once, [decision('U1'), decision('alice', { channel: 'cli' })], 3);
    expect(again.filter((b) => b.block_id === SLACK_IDS.progressBlock)).toHaveLength(1);
    expect(texts(again).join('\n')).toContain('*2 of 3 approvals* — approved by <@U1>, alice (via CLI)');
    // Settling removes both the buttons and the progress line.
    const settled = settledBlocks(again, { kind: 'decided', decisions: [decision('U1'), decision('U2')] });
    expect(settled.some((b) => b.type === 'actions' || b.block_id === SLACK_IDS.progressBlock)).toBe(false);
    expect(texts(settled).at(-1)).toBe(':white_check_mark: *Approved* by <@U1> and <@U2> at 2026-11-22T10:05:00Z');
  });

  it('settled — the buttons go, one outcome line shows who decided, a later outcome replaces it', () => {
    const decided = settledBlocks(requestBlocks(request), { kind: 'decided', decisions: [decision('U1')] });
    expect(decided.some((b) => b.type === 'actions')).toBe(false);
    expect(texts(decided).at(-1)).toBe(':white_check_mark: *Approved* by <@U1> at 2026-11-22T10:05:00Z');
    const finished = settledBlocks(decided, { kind: 'decided', decisions: [decision('U1')], finalState: 'RESOLVED' });
    expect(finished.filter((b) => b.block_id === SLACK_IDS.outcomeBlock)).toHaveLength(1);
    expect(texts(finished).at(-1)).toContain('Remediation finished: *RESOLVED*');
  });

  it('settled — expiry, a non-Slack approver, a rejection after an approval, a cancel, a changed plan and an abnormal end read plainly', () => {
    expect(settlementText({ kind: 'expired', at: '2026-11-22T10:15:00Z' })).toContain('*Expired* at 2026-11-22T10:15:00Z');
    expect(settlementText({ kind: 'decided', decisions: [decision('<alice>', { decision: 'reject', channel: 'cli', comment: 'no' })] })).toBe(
      ':x: *Rejected* by &lt;alice&gt; (via CLI) at 2026-11-22T10:05:00Z\n> no',
    );
    expect(settlementText({ kind: 'decided', decisions: [decision('U1'), decision('U2', { decision: 'reject' })] })).toContain(
      '*Rejected* by <@U2> at 2026-11-22T10:05:00Z (after an approval by <@U1>)',
    );
    expect(
      settlementText({ kind: 'cancelled', cancel: { actor: 'bob', channel: 'http', reason: 'wrong <target>', requestedAt: '2026-11-22T10:06:00Z' }, finalState: 'CANCELLED' }),
    ).toBe(':octagonal_sign: *Cancelled* by bob (via HTTP API) at 2026-11-22T10:06:00Z\n> wrong &lt;target&gt;\nRemediation finished: *CANCELLED*');
    expect(settlementText({ kind: 'superseded', by: { ...request, planHash: 'cd'.repeat(32) } })).toContain('the plan changed (now plan `cdcdcdcdcdcd`)');
    expect(settlementText({ kind: 'closed', status: 'TERMINATED' })).toContain('ended (TERMINATED) before a decision');
    expect(escapeMrkdwn('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });

  it('note — a plain message without buttons, escaped, saying what happened to which incident', () => {
    const note = { incidentId: 'inc-1', workflowId: 'incident-inc-1', kind: 'escalated', summary: 'no safe action for <OOMKilled> & friends', at: '2026-11-22T10:20:00Z' } as const;
    const blocks = noteBlocks(note);
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
    const all = texts(blocks).join('\n');
    expect(all).toContain(':rotating_light: *Escalated* — a person is needed — incident inc-1');
    expect(all).toContain('no safe action for &lt;OOMKilled&gt; &amp; friends');
    expect(all).toContain('workflow `incident-inc-1`');
    expect(noteText(note)).toBe('escalated — incident inc-1: no safe action for <OOMKilled> & friends');
  });
});
