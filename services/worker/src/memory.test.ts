import type { Incident, RemediationPlan, RememberIncidentRequest } from '@cortexops/contracts';
import { ContractValidationError, diagnosisSchema, IncidentMemory } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { describeIncident, memoryRecord, similarSummary } from './memory.js';

const incident: Incident = {
  id: 'inc-1',
  cluster: 'local',
  title: 'OOMKilling: Memory cgroup out of memory',
  severity: 'warning',
  status: 'open',
  target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
  fingerprints: ['f1'],
  signalIds: ['s1'],
  flapCount: 0,
  openedAt: '2026-11-30T10:00:00.000Z',
  updatedAt: '2026-11-30T10:00:00.000Z',
};
const plan: RemediationPlan = {
  incidentId: 'inc-1',
  actions: [{ type: 'raise-memory-limit', kind: 'Deployment', namespace: 'shop', name: 'checkout', container: 'app', memory: '1536Mi' }],
  rationale: 'OOMKilled at its 1Gi limit',
  source: 'heuristic',
  rule: 'oom-killed',
  risk: 'low',
  verification: { checks: [{ type: 'rollout', name: 'rollout' }], stabilisationMs: 0, intervalMs: 1000, count: 1, failureLimit: 0, inconclusiveLimit: 0, minSamples: 1 },
  createdAt: '2026-11-30T10:00:01.000Z',
};
const request = (overrides: Partial<RememberIncidentRequest> = {}): RememberIncidentRequest => ({ workflowId: 'incident-inc-1', incident, state: 'RESOLVED', plan, endedAt: '2026-11-30T10:02:00.000Z', ...overrides });

describe('worker — incident memory records', () => {
  it('record — a resolved workflow: kind, action, origin, time to resolve; valid for the contract', () => {
    const record = memoryRecord(request(), 'oom-killed');
    expect(record).toMatchObject({ incidentId: 'inc-1', namespace: 'shop', incidentKind: 'oom-killed', outcome: 'resolved', planOrigin: 'heuristic', timeToResolveMs: 120_000, action: { type: 'raise-memory-limit' } });
    expect(IncidentMemory.validate(record).ok).toBe(true);
  });

  it('record — every final state maps to an outcome; a state that is not final, or no plan, are handled', () => {
    expect(memoryRecord(request({ state: 'ROLLED_BACK' }), 'oom-killed')?.outcome).toBe('rolled-back');
    expect(memoryRecord(request({ state: 'ESCALATED' }), 'oom-killed')).not.toHaveProperty('timeToResolveMs');
    expect(memoryRecord(request({ state: 'APPLYING' }), 'oom-killed')).toBeUndefined();
    const { plan: _, ...noPlan } = request({ state: 'FAILED' });
    const record = memoryRecord(noPlan, 'unknown');
    expect(record).toMatchObject({ outcome: 'failed', diagnosis: 'no plan' });
    expect(record).not.toHaveProperty('action');
    expect(IncidentMemory.validate(record).ok).toBe(true);
  });

  it('description — event reasons and messages, last terminations; hostile lengths are cut to the contract', () => {
    const described = describeIncident(incident, {
      target: incident.target,
      pods: [{ name: 'checkout-1', ready: false, restarts: 3, lastTerminationReason: 'OOMKilled' }],
      events: Array.from({ length: 25 }, (_, i) => ({ reason: 'OOMKilling', message: 'x'.repeat(2000), count: i, object: 'Pod shop/checkout-1' })),
      metrics: [],
      problems: [],
      observedAt: '2026-11-30T10:00:00.000Z',
    });
    expect(described.signals).toHaveLength(20);
    expect(described.signals.every((s) => s.length <= 512)).toBe(true);
    expect(IncidentMemory.validate(memoryRecord(request({ diagnosis: { events: [], pods: [] } as unknown as RememberIncidentRequest['diagnosis'] }), 'oom-killed')).ok).toBe(true);
  });

  it('similar summary — what a diagnosis carries of a past incident: id, kind, title, action, outcome, time to resolve, the score to three decimals; its signals, diagnosis and rationale left out', () => {
    const past = memoryRecord(request(), 'oom-killed')!;
    const summary = similarSummary({ score: 0.912345678, incident: past });
    expect(summary).toEqual({
      score: 0.912,
      incident: { incidentId: 'inc-1', incidentKind: 'oom-killed', title: incident.title, action: plan.actions[0], outcome: 'resolved', timeToResolveMs: 120_000 },
    });
    // A past incident that was not resolved has no time to resolve; the summary has none either.
    const { plan: _, ...noPlan } = request({ state: 'ESCALATED' });
    const escalated = similarSummary({ score: -0.5, incident: memoryRecord(noPlan, 'unknown')! });
    expect(escalated.incident).toEqual({ incidentId: 'inc-1', incidentKind: 'unknown', title: incident.title, outcome: 'escalated' });
    // The diagnosis contract takes the summaries; more than twenty, or a score outside [-1, 1], it refuses.
    const diagnosis = { target: incident.target, pods: [], events: [], metrics: [], problems: [], observedAt: '2026-11-30T10:00:00.000Z' };
    expect(diagnosisSchema.safeParse({ ...diagnosis, similar: [summary, escalated] }).success).toBe(true);
    expect(diagnosisSchema.safeParse({ ...diagnosis, similar: Array.from({ length: 21 }, () => summary) }).success).toBe(false);
    expect(diagnosisSchema.safeParse({ ...diagnosis, similar: [{ ...summary, score: 1.5 }] }).success).toBe(false);
    expect(diagnosisSchema.safeParse({ ...diagnosis, similar: [{ score: 0.5, incident: { incidentId: 'inc-1' } }] }).success).toBe(false);
  });

  it('similar summary — a record memory should never have returned (a bad id, an unknown outcome) is refused, naming the field', () => {
    const past = memoryRecord(request(), 'oom-killed')!;
    expect(() => similarSummary({ score: 0.5, incident: { ...past, outcome: 'vanished' as never } })).toThrow(ContractValidationError);
    expect(() => similarSummary({ score: 0.5, incident: { ...past, incidentId: '' } })).toThrow(/incident\.incidentId/);
  });
});
