import { ClusterResources, KubernetesConflictError, type KubeObject, type ObjectRef, type Receipt } from '@cortexops/k8s';
import { kubeconfigPaths } from '@cortexops/testkit';
import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deployment,
  kubeConfigOf,
  printTimings,
  readDeployment,
  roundTrip,
  SETTLE,
  settledDeployment,
  settledStatefulSet,
  startCluster,
  statefulSet,
  type Cluster,
  type Observed,
  remediationId,
} from './fixtures.js';

const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const id = remediationId;

function observed<T>(obj: { metadata?: { resourceVersion?: string; annotations?: Record<string, string> } }, value: T): Observed<T> {
  return { resourceVersion: obj.metadata?.resourceVersion ?? '', annotations: obj.metadata?.annotations ?? {}, value };
}

describe('k8s gateway — workload actions against the local control plane (worker credentials)', () => {
  let cluster: Cluster;
  let ns: string;

  beforeAll(async () => {
    cluster = await startCluster('k8s-gw');
    ns = cluster.namespace;
  });

  afterAll(async () => {
    printTimings();
    await cluster?.dispose();
  });

  const createDeployment = async (name: string, options: Parameters<typeof deployment>[2] = {}) => {
    await cluster.admin.apps.createNamespacedDeployment({ namespace: ns, body: deployment(ns, name, options) });
    await settledDeployment(cluster.admin, ns, name);
  };
  const template = (name: string) => async () => {
    const d = await readDeployment(cluster.admin, ns, name);
    return observed(d, d.spec?.template);
  };

  it('rollout-restart Deployment — dry run, apply, apply again, revert', async () => {
    await createDeployment('restart');
    await roundTrip({
      cluster,
      action: { type: 'rollout-restart', kind: 'Deployment', namespace: ns, name: 'restart' },
      id: id('restart'),
      observe: template('restart'),
      settle: async () => void (await settledDeployment(cluster.admin, ns, 'restart')),
      diffShows: [/^\+\s+kubectl\.kubernetes\.io\/restartedAt: /m, /^--- Deployment .*\/restart \(live\)$/m],
      applied: (after, before) => {
        expect(after?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-/);
        expect(after?.spec).toEqual(before?.spec);
      },
    });
  });

  it('rollout-restart StatefulSet — dry run, apply, apply again, revert', async () => {
    await cluster.admin.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSet(ns, 'db') });
    await settledStatefulSet(cluster.admin, ns, 'db');
    await roundTrip({
      cluster,
      action: { type: 'rollout-restart', kind: 'StatefulSet', namespace: ns, name: 'db' },
      id: id('restart-sts'),
      observe: async () => {
        const s = JSON.parse(JSON.stringify(await cluster.admin.apps.readNamespacedStatefulSet({ name: 'db', namespace: ns }))) as V1Deployment;
        return observed(s, s.spec?.template);
      },
      settle: () => settledStatefulSet(cluster.admin, ns, 'db'),
      diffShows: [/^\+\s+kubectl\.kubernetes\.io\/restartedAt: /m],
      applied: (after) => expect(after?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined(),
    });
  });

  it('scale Deployment — dry run, apply, apply again, revert', async () => {
    await createDeployment('scale', { replicas: 2 });
    const receipt = await roundTrip({
      cluster,
      action: { type: 'scale', kind: 'Deployment', namespace: ns, name: 'scale', replicas: 4 },
      id: id('scale'),
      observe: async () => {
        const d = await readDeployment(cluster.admin, ns, 'scale');
        return observed(d, d.spec?.replicas);
      },
      settle: async () => void (await settledDeployment(cluster.admin, ns, 'scale')),
      diffShows: [/^-\s+replicas: 2$/m, /^\+\s+replicas: 4$/m],
      applied: (after) => expect(after).toBe(4),
    });
    expect(receipt.priorSpec).toEqual({ field: 'spec.replicas', replicas: 2 });
  });

  it('raise-memory-limit Deployment — dry run, apply, apply again, revert', async () => {
    await createDeployment('memory', { memory: '256Mi' });
    await roundTrip({
      cluster,
      action: { type: 'raise-memory-limit', kind: 'Deployment', namespace: ns, name: 'memory', container: 'app', memory: '512Mi' },
      id: id('memory'),
      observe: template('memory'),
      settle: async () => void (await settledDeployment(cluster.admin, ns, 'memory')),
      diffShows: [/^-\s+memory: 256Mi$/m, /^\+\s+memory: 512Mi$/m],
      applied: (after, before) => {
        expect(after?.spec?.containers.map((c) => c.resources?.limits?.memory)).toEqual(['512Mi', '64Mi']);
        expect(after?.spec?.containers[0]?.resources?.requests).toEqual(before?.spec?.containers[0]?.resources?.requests);
      },
    });
  });

  it('rollback Deployment — dry run, apply (previous revision), apply again, revert', async () => {
    await createDeployment('rollback', { image: 'registry.cortexops.local/rollback:1' });
    await cluster.admin.apps.patchNamespacedDeployment(
      { name: 'rollback', namespace: ns, body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.cortexops.local/rollback:2' }] },
      JSON_PATCH,
    );
    await settledDeployment(cluster.admin, ns, 'rollback');
    await expect.poll(async () => (await readDeployment(cluster.admin, ns, 'rollback')).metadata?.annotations?.['deployment.kubernetes.io/revision'], SETTLE).toBe('2');
    await roundTrip({
      cluster,
      action: { type: 'rollback', kind: 'Deployment', namespace: ns, name: 'rollback' },
      id: id('rollback'),
      observe: template('rollback'),
      settle: async () => void (await settledDeployment(cluster.admin, ns, 'rollback')),
      diffShows: [/^-\s+- image: registry\.cortexops\.local\/rollback:2$/m, /^\+\s+- image: registry\.cortexops\.local\/rollback:1$/m],
      applied: (after) => {
        expect(after?.spec?.containers[0]?.image).toBe('registry.cortexops.local/rollback:1');
        expect(after?.metadata?.labels?.['pod-template-hash']).toBeUndefined();
      },
    });
  });

  it('rollback — a Deployment with no previous revision is refused with a clear error, nothing written', async () => {
    await createDeployment('fresh');
    const before = await readDeployment(cluster.admin, ns, 'fresh');
    const action = { type: 'rollback', kind: 'Deployment', namespace: ns, name: 'fresh' };
    for (const call of [() => cluster.gateway.dryRun(action, id('rb')), () => cluster.gateway.apply(action, id('rb'))]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'K8S_NO_PREVIOUS_REVISION', retryable: false });
      expect((error as Error).message).toMatch(new RegExp(`Deployment ${ns}/fresh has no ReplicaSet with a revision older than 1`));
    }
    expect((await readDeployment(cluster.admin, ns, 'fresh')).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('bounds — scale and memory outside the bounds fail before any call; a memory "raise" below the current limit fails before any write', async () => {
    await createDeployment('bounded', { replicas: 2, memory: '256Mi' });
    const before = await readDeployment(cluster.admin, ns, 'bounded');
    const base = { kind: 'Deployment', namespace: ns, name: 'bounded' };
    const cases = [
      { action: { ...base, type: 'scale', replicas: 21 }, field: /replicas 21 is outside the allowed range \[1, 20\]/ },
      { action: { ...base, type: 'scale', replicas: 0 }, field: /replicas 0 is outside the allowed range \[1, 20\]/ },
      { action: { ...base, type: 'raise-memory-limit', container: 'app', memory: '8Gi' }, field: /memory 8Gi is above the maximum of 4Gi/ },
    ];
    for (const { action, field } of cases) {
      for (const call of [() => cluster.gateway.dryRun(action, id('oob')), () => cluster.gateway.apply(action, id('oob'))]) {
        cluster.requests.length = 0;
        await expect(call()).rejects.toMatchObject({ code: 'K8S_OUT_OF_BOUNDS', message: expect.stringMatching(field) as unknown });
        expect(cluster.requests).toEqual([]);
      }
    }
    cluster.requests.length = 0;
    const lower = { ...base, type: 'raise-memory-limit', container: 'app', memory: '128Mi' };
    await expect(cluster.gateway.apply(lower, id('lower'))).rejects.toMatchObject({ code: 'K8S_OUT_OF_BOUNDS', message: expect.stringMatching(/128Mi is not higher than the current limit 256Mi/) as unknown });
    expect(cluster.requests.map((r) => r.verb)).toEqual(['get']);
    const missing = { ...base, type: 'raise-memory-limit', container: 'nope', memory: '512Mi' };
    await expect(cluster.gateway.apply(missing, id('nope'))).rejects.toThrow(/"nope" is not a container of Deployment bounded \(it has app, sidecar\)/);
    expect((await readDeployment(cluster.admin, ns, 'bounded')).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('idempotency — a remediation id reused for a different action on the same object is refused', async () => {
    await createDeployment('reuse');
    const rid = id('reuse');
    await cluster.gateway.apply({ type: 'scale', kind: 'Deployment', namespace: ns, name: 'reuse', replicas: 3 }, rid);
    await expect(cluster.gateway.apply({ type: 'scale', kind: 'Deployment', namespace: ns, name: 'reuse', replicas: 5 }, rid)).rejects.toMatchObject({
      code: 'K8S_REMEDIATION_ID_REUSED',
    });
    expect((await readDeployment(cluster.admin, ns, 'reuse')).spec?.replicas).toBe(3);
  });

  it('idempotency — concurrent applies of the same remediation id change the object once and return one receipt', async () => {
    await createDeployment('twice');
    const before = await readDeployment(cluster.admin, ns, 'twice');
    const rid = id('twice');
    const gateway = cluster.workerGateway({ retry: { retries: 10, minTimeoutMs: 10 } });
    const receipts = await Promise.all([1, 2, 3].map(() => gateway.apply({ type: 'rollout-restart', kind: 'Deployment', namespace: ns, name: 'twice' }, rid)));
    expect(receipts[1]).toEqual(receipts[0]);
    expect(receipts[2]).toEqual(receipts[0]);
    const after = await readDeployment(cluster.admin, ns, 'twice');
    // One spec change: the generation moved by exactly one.
    expect(after.metadata?.generation).toBe((before.metadata?.generation ?? 0) + 1);
    expect(after.metadata?.annotations?.['cortexops.io/remediation-id']).toBe(rid);
    await settledDeployment(cluster.admin, ns, 'twice');
  });

  it('conflict — the object changes between the read and the patch: the patch is refused (409) and retried on a fresh read', async () => {
    await createDeployment('conflict', { replicas: 2 });
    let interfered = 0;
    // The same resources the gateway uses, with another writer slipping in right after the gateway's first read.
    class Interfering extends ClusterResources {
      override async read(ref: ObjectRef): Promise<KubeObject> {
        const obj = await super.read(ref);
        if (interfered === 0) {
          interfered++;
          await cluster.admin.apps.patchNamespacedDeployment(
            { name: 'conflict', namespace: ns, body: [{ op: 'add', path: '/metadata/labels/touched-by', value: 'someone-else' }] },
            JSON_PATCH,
          );
        }
        return obj;
      }
    }
    const retries: string[] = [];
    const gateway = cluster.workerGateway({
      resources: new Interfering(kubeConfigOf(kubeconfigPaths(cluster.ctx).worker)),
      retry: { minTimeoutMs: 10, onRetry: (error) => retries.push(error.code) },
    });
    const before = await readDeployment(cluster.admin, ns, 'conflict');
    const receipt: Receipt = await gateway.apply({ type: 'scale', kind: 'Deployment', namespace: ns, name: 'conflict', replicas: 3 }, id('conflict'));
    expect(retries).toEqual(['K8S_CONFLICT']);
    const after = await readDeployment(cluster.admin, ns, 'conflict');
    // Both writes are there: the other writer's label was not overwritten, and the receipt is of the second read.
    expect(after.metadata?.labels?.['touched-by']).toBe('someone-else');
    expect(after.spec?.replicas).toBe(3);
    expect(receipt.priorResourceVersion).not.toBe(before.metadata?.resourceVersion);
  });

  it('conflict — concurrent applies of different remediations on one Deployment all land, none lost', async () => {
    await createDeployment('busy', { replicas: 2 });
    const retries: string[] = [];
    const gateway = cluster.workerGateway({ retry: { retries: 10, minTimeoutMs: 10, onRetry: (error) => retries.push(error.code) } });
    const ids = [1, 2, 3, 4].map((n) => id(`busy-${n}`));
    const receipts = await Promise.all(ids.map((rid) => gateway.apply({ type: 'rollout-restart', kind: 'Deployment', namespace: ns, name: 'busy' }, rid)));
    // Each apply read, then patched with the resourceVersion it read: at most one per resourceVersion wins, the others retried.
    const versions = new Set(receipts.map((r) => r.priorResourceVersion));
    expect(versions.size).toBe(ids.length);
    expect(retries.filter((c) => c === 'K8S_CONFLICT').length).toBeGreaterThan(0);
    const holder = (await readDeployment(cluster.admin, ns, 'busy')).metadata?.annotations?.['cortexops.io/remediation-id'];
    expect(ids).toContain(holder);
  });

  it('conflict — a Conflict that outlasts the retry budget is reported as a retryable KubernetesConflictError', async () => {
    await createDeployment('stubborn');
    class AlwaysStale extends ClusterResources {
      override async read(ref: ObjectRef): Promise<KubeObject> {
        const obj = await super.read(ref);
        await cluster.admin.apps.patchNamespacedDeployment(
          { name: 'stubborn', namespace: ns, body: [{ op: 'add', path: '/metadata/labels/bump', value: String(Date.now()) }] },
          JSON_PATCH,
        );
        return obj;
      }
    }
    const gateway = cluster.workerGateway({ resources: new AlwaysStale(kubeConfigOf(kubeconfigPaths(cluster.ctx).worker)), retry: { retries: 2, minTimeoutMs: 5 } });
    const error = await gateway.apply({ type: 'scale', kind: 'Deployment', namespace: ns, name: 'stubborn', replicas: 3 }, id('stubborn')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesConflictError);
    expect(error).toMatchObject({ retryable: true, status: 409, request: { verb: 'patch', resource: 'deployments', group: 'apps', namespace: ns } });
    expect((await readDeployment(cluster.admin, ns, 'stubborn')).spec?.replicas).toBe(2);
  });
});
