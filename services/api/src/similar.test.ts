import type { SimilarIncidentSummary } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { similarIncidentsLine, similarIncidentsOf, similarIncidentText } from './similar.js';

const resolved: SimilarIncidentSummary = {
  score: 0.91666,
  incident: {
    incidentId: 'inc-past-1',
    incidentKind: 'oom-killed',
    title: 'checkout OOMKilled',
    action: { type: 'raise-memory-limit', kind: 'Deployment', namespace: 'demo', name: 'checkout', container: 'app', memory: '384Mi' },
    outcome: 'resolved',
    timeToResolveMs: 31_000,
  },
};
const escalated: SimilarIncidentSummary = { score: 0.4, incident: { incidentId: 'inc-past-2', incidentKind: 'unknown', title: 'x', outcome: 'escalated' } };

describe('api similar incidents — in words', () => {
  it('text — id, score to two decimals, action, outcome; no action said so', () => {
    expect(similarIncidentText(resolved)).toBe('inc-past-1 (score 0.92, raise-memory-limit, resolved)');
    expect(similarIncidentText(escalated)).toBe('inc-past-2 (score 0.40, no action, escalated)');
  });

  it('line — the list, "none" for an empty one, nothing when memory attached nothing', () => {
    expect(similarIncidentsLine([resolved, escalated])).toBe('similar past incidents: inc-past-1 (score 0.92, raise-memory-limit, resolved), inc-past-2 (score 0.40, no action, escalated)');
    expect(similarIncidentsLine([])).toBe('no similar past incident in memory');
    expect(similarIncidentsLine(undefined)).toBe('');
  });

  it('of a diagnosis payload — the list read against its contract; absent, malformed or hostile shapes give none', () => {
    expect(similarIncidentsOf({ pods: [], similar: [resolved] })).toEqual([resolved]);
    expect(similarIncidentsOf({ pods: [] })).toBeUndefined();
    for (const bad of [null, 7, 'x', [], { similar: 'x' }, { similar: [{ score: 2, incident: resolved.incident }] }, { similar: [{ score: 0.5, incident: { incidentId: 'i' } }] }, { similar: Array.from({ length: 21 }, () => resolved) }]) {
      expect(similarIncidentsOf(bad), JSON.stringify(bad).slice(0, 80)).toBeUndefined();
    }
  });
});
