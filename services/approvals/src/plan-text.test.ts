import type { ApprovalRequest, RemediationPlan } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { planOrigin, trackRecordText } from './plan-text.js';
import { requestBlocks } from './slack-messages.js';

const plan: RemediationPlan = {
  incidentId: 'inc-1',
  actions: [{ type: 'raise-memory-limit', kind: 'Deployment', namespace: 'demo', name: 'web', container: 'app', memory: '1536Mi' }],
  rationale: 'OOMKilled at its 1Gi limit',
  source: 'heuristic',
  rule: 'oom-killed',
  risk: 'low',
  verification: { checks: [{ type: 'rollout', name: 'rollout' }], stabilisationMs: 0, intervalMs: 1000, count: 1, failureLimit: 0, inconclusiveLimit: 0, minSamples: 1 },
  createdAt: '2026-11-22T10:00:00Z',
  trackRecord: { incidentKind: 'oom-killed', resolved: 3, total: 4 },
};

describe('plan text — origin and track record', () => {
  it('origin — the advisor or the heuristics, with the rule or model', () => {
    expect(planOrigin(plan)).toBe('the heuristics (rule oom-killed)');
    expect(planOrigin({ source: 'llm', rule: 'llm:gpt-4o-mini' })).toBe('the LLM advisor (llm:gpt-4o-mini)');
    expect(planOrigin({ source: 'manual' })).toBe('a person');
  });

  it('track record — "3 of 4 resolved", none yet, and nothing without an action or a record', () => {
    expect(trackRecordText(plan)).toBe('raise-memory-limit: 3 of 4 resolved on past oom-killed incidents');
    expect(trackRecordText({ ...plan, trackRecord: { incidentKind: 'oom-killed', resolved: 0, total: 0 } })).toBe('raise-memory-limit has no record on past oom-killed incidents yet');
    expect(trackRecordText({ ...plan, actions: [] })).toBeUndefined();
    const { trackRecord: _, ...without } = plan;
    expect(trackRecordText(without)).toBeUndefined();
  });

  it('approval request — the Slack plan section shows origin, rationale and track record, escaped', () => {
    const request: ApprovalRequest = {
      requestId: 'incident-inc-1/approval/1',
      planHash: 'ab'.repeat(32),
      incidentId: 'inc-1',
      workflowId: 'incident-inc-1',
      approvalsRequired: 1,
      summary: 'OOMKilling',
      plan: { ...plan, source: 'llm', rule: 'llm:<model>', trackRecord: { incidentKind: 'oom-killed', resolved: 3, total: 4 } },
      dryRunDiff: '-1Gi\n+1536Mi',
      policy: { allow: true, mode: 'approve', requireApproval: true, reasons: [], violations: [] },
      requestedAt: '2026-11-22T10:00:00Z',
      expiresAt: '2026-11-22T10:15:00Z',
    };
    const section = requestBlocks(request).map((b) => JSON.stringify(b)).find((b) => b.includes('*Plan*'));
    expect(section).toContain('from the LLM advisor (llm:&lt;model&gt;)');
    expect(section).toContain('OOMKilled at its 1Gi limit');
    expect(section).toContain('*Track record:* raise-memory-limit: 3 of 4 resolved on past oom-killed incidents');
  });
});
