import type { AuditRecord, IncidentReview } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { describeRecord, reviewMarkdown } from './review.js';

const HASH = 'a'.repeat(64);

function record(kind: AuditRecord['kind'], payload: Record<string, unknown>, actor = 'worker'): AuditRecord {
  return { sequence: 1, idempotencyKey: 'k', incidentId: 'inc-1', kind, actor, occurredAt: '2026-11-30T04:00:00.000Z', recordedAt: '2026-11-30T04:00:00.000Z', payload, prevHash: HASH, hash: HASH };
}

describe('api review — steps and evidence in words', () => {
  it.each<[AuditRecord['kind'], Record<string, unknown>, string, RegExp]>([
    ['workflow.state', { from: 'VERIFYING', to: 'RESOLVED', detail: 'verified' }, 'VERIFYING → RESOLVED', /verified/],
    ['workflow.state', { to: 'DIAGNOSING' }, 'start → DIAGNOSING', /^$/],
    ['approval.decided', { decision: 'reject', channel: 'slack', planHash: 'b'.repeat(64), comment: 'too risky' }, 'rejected by carol', /via slack; plan bbbbbbbbbbbb; too risky/],
    ['approval.decided', { voided: true, approvedPlanHash: 'c'.repeat(64), currentPlanHash: 'd'.repeat(64) }, 'approval voided: the plan changed', /approved cccccccccccc; now dddddddddddd/],
    ['approval.refused', { code: 'STALE_PLAN', reason: 'the plan changed' }, 'refused: STALE_PLAN', /the plan changed/],
    ['manual.action', { action: 'cancel', reason: 'by hand', effect: 'compensate', channel: 'cli' }, 'cancel by carol', /by hand; effect compensate; via cli/],
    ['remediation.escalated', { reason: 'no safe action' }, 'escalated to a human', /no safe action/],
    ['compensation.failed', { target: 'Deployment demo/x', problem: 'conflict' }, 'compensation failed', /conflict/],
    ['verification.completed', { verdict: 'inconclusive', reason: 'empty result', rounds: 4 }, 'verification: inconclusive', /empty result; 4 rounds/],
  ])('%s %j', (kind, payload, step, evidence) => {
    const described = describeRecord(record(kind, payload, 'carol'));
    expect(described.step).toBe(step);
    expect(described.evidence).toMatch(evidence);
  });

  it('diagnosis — the similar past incidents incident memory attached: id, score, action, outcome; none attached, nothing said', () => {
    const diagnosis = { pods: [{ restarts: 2, lastTerminationReason: 'OOMKilled' }], events: [], metrics: [], problems: [] };
    const past = { incidentId: 'inc-past-1', incidentKind: 'oom-killed', title: 't', action: { type: 'raise-memory-limit', kind: 'Deployment', namespace: 'demo', name: 'checkout', container: 'app', memory: '384Mi' }, outcome: 'resolved' };
    const withSimilar = describeRecord(record('diagnosis.completed', { diagnosis: { ...diagnosis, similar: [{ score: 0.876, incident: past }] } }));
    expect(withSimilar.evidence).toBe('1 pods, 2 restarts (last termination OOMKilled); similar past incidents: inc-past-1 (score 0.88, raise-memory-limit, resolved)');
    expect(describeRecord(record('diagnosis.completed', { diagnosis: { ...diagnosis, similar: [] } })).evidence).toContain('no similar past incident in memory');
    expect(describeRecord(record('diagnosis.completed', { diagnosis })).evidence).not.toContain('similar');
    // A list that does not read against its contract is left out, not shown half-read.
    expect(describeRecord(record('diagnosis.completed', { diagnosis: { ...diagnosis, similar: [{ score: 'high', incident: past }] } })).evidence).not.toContain('similar');
  });

  it('does not throw on payloads of unexpected shape (older or hostile records)', () => {
    for (const kind of ['diagnosis.completed', 'plan.proposed', 'dryrun.completed', 'policy.decision', 'verification.measured', 'action.applied'] as const) {
      expect(() => describeRecord(record(kind, { diagnosis: 7, plan: 'x', report: null, verdict: [], measurement: {}, action: 1 }))).not.toThrow();
    }
  });
});

describe('api review — Markdown', () => {
  const review: IncidentReview = {
    incident: {
      id: 'inc-1',
      cluster: 'local',
      title: 'evil | title\nwith a break',
      severity: 'warning',
      status: 'open',
      target: { kind: 'Deployment', namespace: 'demo', name: 'checkout' },
      openedAt: '2026-11-30T04:00:00.000Z',
      updatedAt: '2026-11-30T04:00:00.000Z',
      workflowId: 'incident-inc-1',
      state: 'APPROVAL_PENDING',
      stateAt: '2026-11-30T04:00:01.000Z',
    },
    outcome: 'in progress (APPROVAL_PENDING)',
    startedAt: '2026-11-30T04:00:00.000Z',
    endedAt: null,
    durationMs: null,
    timeline: [{ sequence: 1, at: '2026-11-30T04:00:01.000Z', actor: 'a|b', kind: 'approval.refused', step: 'refused: X', evidence: 'line one\nline two | `code`', hash: HASH }],
    plan: null,
    dryRun: null,
    verification: [],
    receipts: [],
  };

  it('keeps hostile text inside its table cell: pipes escaped, line breaks folded, backticks neutralised', () => {
    const markdown = reviewMarkdown(review);
    expect(markdown).toContain('# Incident review — evil \\| title with a break');
    expect(markdown).toContain("| 2026-11-30T04:00:01.000Z | a\\|b | refused: X | line one line two \\| 'code' |");
    expect(markdown).toContain('| Duration | in progress |');
    expect(markdown).toContain('No plan was recorded.');
    expect(markdown).toContain('No dry run was recorded.');
    expect(markdown).toContain('No verification was measured.');
  });
});
