import { diagnosisSchema } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from './resources.js';
import { eventOrder, eventSummary, liveSummary, podOrder, podSummary, rolloutDecision } from './status.js';

const deployment = (spec: { replicas?: number; generation?: number }, status: Record<string, unknown>): KubeObject => ({
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', generation: spec.generation ?? 2 },
  spec: {
    replicas: spec.replicas ?? 3,
    template: { spec: { containers: [{ name: 'app', image: 'shop/web:2', resources: { limits: { memory: '256Mi' } } }, { name: 'sidecar', image: 'sidecar:1' }] } },
  },
  status,
});
const done = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 };

describe('status — rollout decision (Deployment)', () => {
  it.each([
    ['complete: observed, every replica updated and available', {}, done, true, /3 of 3 replicas updated and available/],
    ['generation not observed yet', {}, { ...done, observedGeneration: 1 }, false, /waiting for the controller to observe generation 2 \(observed 1\)/],
    ['no status at all yet', {}, {}, false, /observe generation 2 \(observed none\)/],
    ['replicas not all updated', {}, { ...done, updatedReplicas: 1 }, false, /1 of 3 replicas updated/],
    ['old replicas still there', {}, { ...done, replicas: 4 }, false, /1 old replicas pending termination/],
    ['updated but not available (pods cannot schedule)', {}, { ...done, availableReplicas: 0, readyReplicas: 0 }, false, /0 of 3 updated replicas available/],
    ['scaled to zero is complete', { replicas: 0 }, { observedGeneration: 2 }, true, /0 of 0 replicas/],
    [
      'progress deadline exceeded',
      {},
      { ...done, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.' }] },
      false,
      /progress deadline exceeded: ReplicaSet "web-1" has timed out/,
    ],
  ])('%s', (_name, spec, status, complete, detail) => {
    const result = rolloutDecision('Deployment', deployment(spec, status));
    expect(result.complete).toBe(complete);
    expect(result.detail).toMatch(detail);
    expect(result.detail).toMatch(/^Deployment shop\/web: /);
  });
});

describe('status — rollout decision (other kinds)', () => {
  const sts = (status: Record<string, unknown>): KubeObject => ({ kind: 'StatefulSet', metadata: { name: 'db', namespace: 'shop', generation: 1 }, spec: { replicas: 2 }, status });
  const node = (ready: string, unschedulable?: boolean): KubeObject => ({ kind: 'Node', metadata: { name: 'n1' }, spec: { unschedulable }, status: { conditions: [{ type: 'Ready', status: ready, reason: 'KubeletNotReady' }] } });
  const pod = (phase: string, ready: string, deleting = false): KubeObject => ({
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'shop', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    status: { phase, conditions: [{ type: 'Ready', status: ready }] },
  });

  it('StatefulSet: replicas updated and available, and the update revision current', () => {
    const base = { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2, currentRevision: 'db-2', updateRevision: 'db-2' };
    expect(rolloutDecision('StatefulSet', sts(base)).complete).toBe(true);
    expect(rolloutDecision('StatefulSet', sts({ ...base, currentRevision: 'db-1' }))).toEqual({ complete: false, detail: 'StatefulSet shop/db: revision db-2 not yet current (current db-1)' });
    expect(rolloutDecision('StatefulSet', sts({ ...base, availableReplicas: 1 })).complete).toBe(false);
  });

  it('Node: Ready, and cordoned or not as expected', () => {
    expect(rolloutDecision('Node', node('True'))).toEqual({ complete: true, detail: 'Node n1: Ready and schedulable' });
    expect(rolloutDecision('Node', node('False'))).toEqual({ complete: false, detail: 'Node n1: not Ready (KubeletNotReady)' });
    expect(rolloutDecision('Node', node('True', true), { unschedulable: true })).toEqual({ complete: true, detail: 'Node n1: Ready and cordoned' });
    expect(rolloutDecision('Node', node('True', false), { unschedulable: true })).toEqual({ complete: false, detail: 'Node n1: Ready but schedulable, expected cordoned' });
    expect(rolloutDecision('Node', node('True', true))).toMatchObject({ complete: true });
  });

  it('Pod: Running and Ready; not while terminating', () => {
    expect(rolloutDecision('Pod', pod('Running', 'True'))).toEqual({ complete: true, detail: 'Pod shop/p: Running and Ready' });
    expect(rolloutDecision('Pod', pod('Running', 'False')).detail).toBe('Pod shop/p: Running but not Ready');
    expect(rolloutDecision('Pod', pod('Pending', 'False')).detail).toBe('Pod shop/p: phase Pending');
    expect(rolloutDecision('Pod', pod('Running', 'True', true)).detail).toBe('Pod shop/p: terminating');
  });

  it('DaemonSet and Job', () => {
    const ds: KubeObject = { metadata: { name: 'agent', namespace: 'ops', generation: 3 }, status: { observedGeneration: 3, desiredNumberScheduled: 4, updatedNumberScheduled: 4, numberAvailable: 3 } };
    expect(rolloutDecision('DaemonSet', ds)).toEqual({ complete: false, detail: 'DaemonSet ops/agent: 3 of 4 updated replicas available' });
    const job = (conditions: unknown[]): KubeObject => ({ metadata: { name: 'j', namespace: 'ops' }, status: { succeeded: 1, conditions } });
    expect(rolloutDecision('Job', job([{ type: 'Complete', status: 'True' }]))).toEqual({ complete: true, detail: 'Job ops/j: completed (1 succeeded)' });
    expect(rolloutDecision('Job', job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }])).detail).toBe('Job ops/j: failed: BackoffLimitExceeded');
  });
});

describe('status — summaries in the shapes of contracts Diagnosis', () => {
  const crashing: KubeObject = {
    metadata: { name: 'web-1', uid: 'p-1' },
    spec: { nodeName: 'kwok-node-0' },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ restartCount: 4, lastState: { terminated: { reason: 'OOMKilled' } } }, { restartCount: 1, state: { running: {} } }],
    },
  };
  const healthy: KubeObject = { metadata: { name: 'web-0' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ restartCount: 0 }] } };
  const event = (lastTimestamp: string | undefined, reason: string): KubeObject =>
    ({ metadata: { creationTimestamp: '2026-01-01T00:00:00Z' }, involvedObject: { kind: 'Pod', namespace: 'shop', name: 'web-1', uid: 'p-1' }, reason, message: 'x'.repeat(3000), count: 3, lastTimestamp }) as unknown as KubeObject;

  it('a Deployment, its pods and events validate against diagnosisSchema', () => {
    const live = liveSummary('Deployment', deployment({}, { ...done, readyReplicas: 2 }));
    expect(live).toEqual({
      uid: 'u-1',
      generation: 2,
      observedGeneration: 2,
      replicas: 3,
      readyReplicas: 2,
      updatedReplicas: 3,
      availableReplicas: 3,
      containers: [
        { name: 'app', image: 'shop/web:2', memoryLimit: '256Mi' },
        { name: 'sidecar', image: 'sidecar:1' },
      ],
    });
    const pods = [healthy, crashing].map(podSummary).sort(podOrder);
    expect(pods[0]).toEqual({ name: 'web-1', phase: 'Running', ready: false, restarts: 5, node: 'kwok-node-0', lastTerminationReason: 'OOMKilled' });
    expect(pods[1]).toEqual({ name: 'web-0', phase: 'Running', ready: true, restarts: 0 });
    const events = [event('2026-01-01T00:01:00Z', 'Old'), event('2026-01-01T00:05:00Z', 'New'), event(undefined, 'Created')].map(eventSummary).sort(eventOrder);
    expect(events.map((e) => e.reason)).toEqual(['New', 'Old', 'Created']);
    expect(events[0]).toMatchObject({ count: 3, object: 'Pod shop/web-1', lastSeen: '2026-01-01T00:05:00Z' });
    expect(events[0]?.message.length).toBeLessThanOrEqual(2000);
    const diagnosis = { target: { kind: 'Deployment', namespace: 'shop', name: 'web' }, live, pods, events, metrics: [], problems: [], observedAt: '2026-01-01T00:00:00.000Z' };
    expect(diagnosisSchema.safeParse(diagnosis).success).toBe(true);
  });

  it('a Node: unschedulable, no containers', () => {
    expect(liveSummary('Node', { metadata: { uid: 'n-1' }, spec: { unschedulable: true }, status: {} })).toEqual({ uid: 'n-1', unschedulable: true, containers: [] });
  });
});
