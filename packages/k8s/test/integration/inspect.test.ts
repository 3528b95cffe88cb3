import { diagnosisSchema, type TargetRef } from '@cortexops/contracts';
import type { Inspection } from '@cortexops/k8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSettledDeployment, deployment, SETTLE, startCluster, testNamespace, type Cluster } from './fixtures.js';

/** The inspection is what DIAGNOSING stores: it must validate as a contracts Diagnosis. */
function expectDiagnosis(target: TargetRef, inspection: Inspection): void {
  const result = diagnosisSchema.safeParse({ target, ...inspection, metrics: [], observedAt: new Date().toISOString() });
  expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
}

const timings: Record<string, number> = {};
async function timed<T>(name: string, call: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const result = await call();
  timings[name] = performance.now() - t;
  return result;
}

describe('k8s gateway — inspect and rollout status against the local control plane (worker credentials)', () => {
  let cluster: Cluster;
  let ns: string;
  /** Not enrolled: the worker may read nothing there. */
  let outside: string;

  beforeAll(async () => {
    cluster = await startCluster('k8s-inspect');
    ns = cluster.namespace;
    outside = testNamespace('k8s-inspect-out');
    await cluster.admin.core.createNamespace({ body: { metadata: { name: outside } } });
  });

  afterAll(async () => {
    console.log(Object.entries(timings).map(([name, ms]) => `${name.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms`).join('\n'));
    await cluster?.admin.core.deleteNamespace({ name: outside }).catch(() => undefined);
    await cluster?.dispose();
  });

  it('inspect — a Deployment with Running kwok pods: live summary, its pods, no problems; rollout complete', async () => {
    const created = await createSettledDeployment(cluster, 'web', { replicas: 2, memory: '256Mi' });
    const target = { kind: 'Deployment', namespace: ns, name: 'web' } as const;
    const inspection = await timed('inspect Deployment (2 pods)', () => cluster.gateway.inspect(target));
    expect(inspection.problems).toEqual([]);
    expect(inspection.live).toEqual({
      uid: created.metadata?.uid,
      generation: 1,
      observedGeneration: 1,
      replicas: 2,
      readyReplicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
      containers: [
        { name: 'app', image: 'registry.cortexops.local/web:1', memoryLimit: '256Mi' },
        { name: 'sidecar', image: 'registry.cortexops.local/sidecar:1', memoryLimit: '64Mi' },
      ],
    });
    expect(inspection.pods).toHaveLength(2);
    for (const pod of inspection.pods) {
      expect(pod).toMatchObject({ name: expect.stringMatching(/^web-/) as unknown, phase: 'Running', ready: true, restarts: 0, node: expect.stringMatching(/^kwok-node-/) as unknown });
    }
    expectDiagnosis(target, inspection);
    await expect(timed('rolloutStatus Deployment', () => cluster.gateway.rolloutStatus(target))).resolves.toEqual({
      complete: true,
      detail: `Deployment ${ns}/web: 2 of 2 replicas updated and available`,
    });

    // A pod of it: itself, Running and Ready.
    const pod = inspection.pods[0]?.name ?? '';
    const ofPod = await cluster.gateway.inspect({ kind: 'Pod', namespace: ns, name: pod });
    expect(ofPod).toMatchObject({ live: { uid: expect.any(String) as unknown }, pods: [{ name: pod, ready: true }], problems: [] });
    await expect(cluster.gateway.rolloutStatus({ kind: 'Pod', namespace: ns, name: pod })).resolves.toMatchObject({ complete: true });
  });

  it('inspect — a missing target: no live object, a problem saying so, no throw; its rollout status is NotFound', async () => {
    const target = { kind: 'Deployment', namespace: ns, name: 'ghost' } as const;
    const inspection = await timed('inspect missing Deployment', () => cluster.gateway.inspect(target));
    expect(inspection).toEqual({ pods: [], events: [], problems: [`Deployment ${ns}/ghost not found`] });
    expectDiagnosis(target, inspection);
    await expect(cluster.gateway.rolloutStatus(target)).rejects.toMatchObject({ code: 'K8S_NOT_FOUND', retryable: false });
  });

  it('inspect — a Deployment whose pods cannot be scheduled: Pending pods, the scheduler’s Warning events; rollout not complete', async () => {
    const target = { kind: 'Deployment', namespace: ns, name: 'stuck' } as const;
    await cluster.admin.apps.createNamespacedDeployment({ namespace: ns, body: deployment(ns, 'stuck', { replicas: 1, nodeSelector: { 'cortexops.io/no-such-node': 'true' } }) });
    let inspection: Inspection | undefined;
    await expect
      .poll(async () => {
        inspection = await cluster.gateway.inspect(target);
        return inspection.pods.length === 1 && inspection.events.some((e) => e.reason === 'FailedScheduling');
      }, SETTLE)
      .toBe(true);
    expect(inspection?.pods[0]).toMatchObject({ phase: 'Pending', ready: false, restarts: 0 });
    expect(inspection?.pods[0]?.node).toBeUndefined();
    const event = inspection?.events.find((e) => e.reason === 'FailedScheduling');
    expect(event).toMatchObject({ object: `Pod ${ns}/${inspection?.pods[0]?.name}`, message: expect.stringMatching(/node\(s\) didn't match Pod's node affinity\/selector/) as unknown });
    expect(inspection?.problems).toEqual([]);
    expectDiagnosis(target, inspection!);
    // The controller has seen the spec (observedGeneration) and the rollout is still not complete: nothing is available.
    await expect.poll(async () => (await cluster.gateway.rolloutStatus(target)).detail, SETTLE).toBe(`Deployment ${ns}/stuck: 0 of 1 updated replicas available`);
    await expect(timed('rolloutStatus Deployment (stuck)', () => cluster.gateway.rolloutStatus(target))).resolves.toMatchObject({ complete: false });
  });

  it('inspect — where the worker may not read: each read is a problem naming the missing permission, no throw', async () => {
    await cluster.admin.apps.createNamespacedDeployment({ namespace: outside, body: deployment(outside, 'web', { replicas: 1 }) });
    const target = { kind: 'Deployment', namespace: outside, name: 'web' } as const;
    const inspection = await cluster.gateway.inspect(target);
    expect(inspection.live).toBeUndefined();
    expect(inspection.problems).toEqual([
      expect.stringMatching(new RegExp(`^Deployment ${outside}/web not read: forbidden: .*missing RBAC verb "get" on resource "deployments\\.apps" in namespace "${outside}"`)),
      expect.stringMatching(new RegExp(`^Warning events in namespace "${outside}" not read: forbidden: .*missing RBAC verb "list" on resource "events" in namespace "${outside}"`)),
    ]);
    expectDiagnosis(target, inspection);
    await expect(cluster.gateway.rolloutStatus(target)).rejects.toMatchObject({ code: 'K8S_FORBIDDEN' });
  });

  it('inspect — a node: Ready and schedulable; its pods and events need cluster-wide reads the worker lacks, named as problems', async () => {
    const node = 'kwok-node-0';
    const target = { kind: 'Node', name: node } as const;
    const inspection = await timed('inspect Node', () => cluster.gateway.inspect(target));
    expect(inspection.live).toMatchObject({ uid: expect.any(String) as unknown, containers: [] });
    expect(typeof inspection.live?.unschedulable).toBe('boolean');
    expect(inspection.problems).toEqual([
      expect.stringMatching(/^pods on node kwok-node-0 not read: .*missing RBAC verb "list" on resource "pods" cluster-wide/),
      expect.stringMatching(/^Warning events in namespace "default" not read: .*missing RBAC verb "list" on resource "events" in namespace "default"/),
    ]);
    expectDiagnosis(target, inspection);
    const status = await timed('rolloutStatus Node', () => cluster.gateway.rolloutStatus(target, { unschedulable: inspection.live?.unschedulable ?? false }));
    expect(status).toMatchObject({ complete: true, detail: expect.stringMatching(/^Node kwok-node-0: Ready and (schedulable|cordoned)$/) as unknown });
  });

  it('bad input — a target that is not a TargetRef, or a namespaced kind without namespace, throws before any call', async () => {
    cluster.requests.length = 0;
    await expect(cluster.gateway.inspect({ kind: 'Deployment', name: 'web' })).rejects.toMatchObject({ code: 'K8S_INVALID_INPUT', field: 'namespace' });
    await expect(cluster.gateway.inspect({ kind: 'Deployment', namespace: 'Bad_NS', name: 'web' })).rejects.toMatchObject({ code: 'K8S_INVALID_INPUT', field: 'namespace' });
    await expect(cluster.gateway.rolloutStatus({ kind: 'Secret', namespace: ns, name: 'x' } as unknown as TargetRef)).rejects.toMatchObject({ code: 'K8S_INVALID_INPUT', field: 'kind' });
    expect(cluster.requests).toEqual([]);
  });
});
