import type { ApprovalRequest } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, requestBlocks, settledBlocks, settlementText, SLACK_IDS } from './slack-messages.js';

const request: ApprovalRequest = {
  incidentId: 'inc-1',
  workflowId: 'incident-inc-1',
  summary: 'pods <crash> & burn',
  plan: {
    incidentId: 'inc-1',
    actions: [{ type: 'scale', kind: 'Deployment', namespace: 'demo', name: 'web', replicas: 4 }],
    rationale: 'traffic doubled',
    source: 'llm',
    risk: 'medium',
    createdAt: '2026-11-22T10:00:00Z',
  },
  dryRunDiff: 'x'.repeat(10_000),
  policy: { allow: true, requireApproval: true, reasons: ['scale above 3 needs approval'], violations: ['no <b>change</b> window'] },
  requestedAt: '2026-11-22T10:00:00Z',
  expiresAt: '2026-11-22T10:15:00Z',
};

function texts(blocks: unknown[]): string[] {
  return blocks.flatMap((b) => {
    const block = b as { text?: { text: string } };
    return block.text ? [block.text.text] : [];
  });
}

describe('slack messages — Block Kit', () => {
  it('request — escapes mrkdwn, keeps every section within Slack limits, ends with Approve and Reject', () => {
    const blocks = requestBlocks(request);
    for (const text of texts(blocks)) expect(text.length).toBeLessThanOrEqual(3000);
    const all = texts(blocks).join('\n');
    expect(all).toContain('pods &lt;crash&gt; &amp; burn');
    expect(all).toContain('`scale` Deployment demo/web to 4 replicas');
    expect(all).toContain(':warning: no &lt;b&gt;change&lt;/b&gt; window');
    expect(all).toContain('…```');
    const actions = blocks.at(-1) as { type: string; elements: { action_id: string }[] };
    expect(actions.type).toBe('actions');
    expect(actions.elements.map((e) => e.action_id)).toEqual([SLACK_IDS.approve, SLACK_IDS.reject]);
  });

  it('settled — the buttons go, one outcome line shows who decided, a later outcome replaces it', () => {
    const decided = settledBlocks(requestBlocks(request), {
      kind: 'decided',
      decision: { decision: 'approve', approver: 'U1', channel: 'slack', decidedAt: '2026-11-22T10:05:00Z' },
    });
    expect(decided.some((b) => b.type === 'actions')).toBe(false);
    expect(texts(decided).at(-1)).toBe(':white_check_mark: *Approved* by <@U1> at 2026-11-22T10:05:00Z');
    const finished = settledBlocks(decided, {
      kind: 'decided',
      decision: { decision: 'approve', approver: 'U1', channel: 'slack', decidedAt: '2026-11-22T10:05:00Z' },
      finalState: 'RESOLVED',
    });
    expect(finished.filter((b) => b.block_id === SLACK_IDS.outcomeBlock)).toHaveLength(1);
    expect(texts(finished).at(-1)).toContain('Remediation finished: *RESOLVED*');
  });

  it('settled — expiry, a non-Slack approver and an abnormal end read plainly', () => {
    expect(settlementText({ kind: 'expired', at: '2026-11-22T10:15:00Z' })).toContain('*Expired* at 2026-11-22T10:15:00Z');
    expect(
      settlementText({ kind: 'decided', decision: { decision: 'reject', approver: '<alice>', channel: 'cli', comment: 'no', decidedAt: '2026-11-22T10:05:00Z' } }),
    ).toBe(':x: *Rejected* by &lt;alice&gt; (via CLI) at 2026-11-22T10:05:00Z\n> no');
    expect(settlementText({ kind: 'closed', status: 'TERMINATED' })).toContain('ended (TERMINATED) before a decision');
    expect(escapeMrkdwn('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });
});
