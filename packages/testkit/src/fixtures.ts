import type { Incident } from '@cortexops/contracts';
import { uniqueName } from './testing.js';

/** An open incident on the demo checkout Deployment, with an id that never repeats (one workflow each). */
export function fixtureIncident(prefix = 'inc', overrides: Partial<Incident> = {}): Incident {
  return {
    id: uniqueName(prefix).replace(/_/g, '-'),
    cluster: 'local',
    title: 'checkout pods crash looping',
    severity: 'critical',
    status: 'open',
    target: { kind: 'Deployment', namespace: 'demo', name: 'checkout' },
    fingerprints: ['0123456789abcdef'],
    signalIds: ['sig-1'],
    flapCount: 0,
    openedAt: '2026-11-22T10:00:00Z',
    updatedAt: '2026-11-22T10:00:00Z',
    ...overrides,
  };
}
