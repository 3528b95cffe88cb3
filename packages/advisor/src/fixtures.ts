import type { Diagnosis, Incident, TargetRef } from '@cortexops/contracts';
import type { GatewayBounds } from '@cortexops/k8s';
import type { PlannerInput, PlannerSettings } from './planner.js';

/** Test fixtures of this package's unit tests (not exported from the package). */

export const NOW = '2026-11-30T10:00:00.000Z';
export const CHECKOUT: TargetRef = { kind: 'Deployment', namespace: 'shop', name: 'checkout' };
export const LEDGER: TargetRef = { kind: 'StatefulSet', namespace: 'shop', name: 'ledger' };
export const NODE: TargetRef = { kind: 'Node', name: 'node-1' };
export const POD: TargetRef = { kind: 'Pod', namespace: 'shop', name: 'checkout-7d9f8-abcde' };

export const SETTINGS: PlannerSettings = {
  maxMemory: '4Gi',
  verification: { stabilisationMs: 60_000, intervalMs: 30_000, count: 5, minSamples: 3 },
};
export const BOUNDS: GatewayBounds = { minReplicas: 1, maxReplicas: 20, maxMemory: '4Gi' };

export function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-0123456789abcdef',
    cluster: 'local',
    title: 'OOMKilling: Pod/checkout-7d9f8-abcde Memory cgroup out of memory',
    severity: 'critical',
    status: 'open',
    target: CHECKOUT,
    fingerprints: ['0123456789abcdef'],
    signalIds: ['sig-1'],
    flapCount: 0,
    openedAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

type Live = NonNullable<Diagnosis['live']>;
type Pod = Diagnosis['pods'][number];
type Event = Diagnosis['events'][number];

export function live(overrides: Partial<Live> = {}): Live {
  return {
    uid: '5f0c6a43-1111-4d2e-9a57-000000000001',
    generation: 2,
    observedGeneration: 2,
    replicas: 3,
    readyReplicas: 3,
    updatedReplicas: 3,
    availableReplicas: 3,
    containers: [{ name: 'app', image: 'registry.local/checkout:2', memoryLimit: '256Mi' }],
    ...overrides,
  };
}

export function pod(name: string, overrides: Partial<Pod> = {}): Pod {
  return { name, phase: 'Running', ready: true, restarts: 0, node: 'node-1', ...overrides };
}

export function event(reason: string, overrides: Partial<Event> = {}): Event {
  return { reason, message: `${reason} happened`, count: 3, object: 'Pod/checkout-7d9f8-abcde', ...overrides };
}

/** A diagnosis of `target` (checkout by default) with live state; `live: undefined` in overrides drops it. */
export function diagnosis(overrides: Partial<Diagnosis> = {}): Diagnosis {
  return { target: CHECKOUT, live: live(), pods: [], events: [], metrics: [], problems: [], observedAt: NOW, ...overrides };
}

export function input(inc: Partial<Incident> = {}, diag: Partial<Diagnosis> = {}, settings: PlannerSettings = SETTINGS): PlannerInput {
  return { incident: incident(inc), diagnosis: diagnosis(diag), now: NOW, settings };
}
