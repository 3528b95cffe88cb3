import { PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployment, printTimings, quiet, roundTrip, runningPods, SETTLE, settledDeployment, settledStatefulSet, startCluster, statefulSet, type Cluster, remediationId } from './fixtures.js';

const id = remediationId;
const WRITES = new Set(['patch', 'delete']);
const NODE_TTL = 'node.alpha.kubernetes.io/ttl';

describe('k8s gateway — delete-pod against the local control plane (worker credentials)', () => {
  let cluster: Cluster;
  let ns: string;

  beforeAll(async () => {
    cluster = await startCluster('k8s-pods');
    ns = cluster.namespace;
  });

  afterAll(async () => {
    await cluster?.dispose();
  });

  it('delete-pod (Deployment) — dry run, apply, apply again (pod terminating, then gone), revert checks the replacement', async () => {
    await cluster.admin.apps.createNamespacedDeployment({ namespace: ns, body: deployment(ns, 'victim', { replicas: 2 }) });
    await settledDeployment(cluster.admin, ns, 'victim');
    const [pod] = await runningPods(cluster.admin, ns, 'victim');
    const name = pod?.metadata?.name ?? '';
    const uid = pod?.metadata?.uid ?? '';
    const action = { type: 'delete-pod', kind: 'Pod', namespace: ns, name };
    const rid = id('delete');

    const dry = await cluster.gateway.dryRun(action, rid);
    expect(dry.changed).toBe(true);
    expect(dry.diff).toContain(`+++ Pod ${ns}/${name} (deleted)`);
    expect(dry.diff).toMatch(/^-\s+name: victim-/m);
    const still = await cluster.admin.core.readNamespacedPod({ name, namespace: ns });
    // Still there, the same pod, not terminating (kwok may still touch its status, so not its resourceVersion).
    expect({ uid: still.metadata?.uid, deleting: still.metadata?.deletionTimestamp }).toEqual({ uid, deleting: undefined });

    const receipt = await cluster.gateway.apply(action, rid);
    expect(receipt).toMatchObject({ remediationId: rid, target: { kind: 'Deployment', name: 'victim', namespace: ns }, priorSpec: { field: 'pod', pod: { name, uid } } });
    const holder = await cluster.admin.apps.readNamespacedDeployment({ name: 'victim', namespace: ns });
    expect(holder.metadata?.annotations?.['cortexops.io/remediation-id']).toBe(rid);

    cluster.requests.length = 0;
    await expect(cluster.gateway.apply(action, rid)).resolves.toEqual(receipt);
    expect(cluster.requests.filter((r) => WRITES.has(r.verb))).toEqual([]);

    // kwok finishes the deletion; the receipt is then found on the Deployment without the pod.
    await expect.poll(async () => (await cluster.admin.core.listNamespacedPod({ namespace: ns, fieldSelector: `metadata.name=${name}` })).items.length, SETTLE).toBe(0);
    cluster.requests.length = 0;
    await expect(cluster.gateway.apply(action, rid)).resolves.toEqual(receipt);
    expect(cluster.requests.map((r) => `${r.verb} ${r.resource}`)).toEqual(['get pods', 'list deployments', 'list statefulsets']);

    const reverted = await cluster.gateway.revert(receipt);
    expect(reverted).toMatchObject({ outcome: 'not-applicable', verified: true });
    expect(reverted.detail).toMatch(new RegExp(`pod ${name} was deleted and Deployment ${ns}/victim runs 2/2 replicas again`));
    const pods = await runningPods(cluster.admin, ns, 'victim');
    expect(pods.map((p) => p.metadata?.uid)).not.toContain(uid);
  });

  it('delete-pod (StatefulSet) — the replacement keeps the name; apply again does not delete it', async () => {
    await cluster.admin.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSet(ns, 'store', 1) });
    await settledStatefulSet(cluster.admin, ns, 'store');
    const before = await cluster.admin.core.readNamespacedPod({ name: 'store-0', namespace: ns });
    const action = { type: 'delete-pod', kind: 'Pod', namespace: ns, name: 'store-0' };
    const rid = id('delete-sts');
    const receipt = await cluster.gateway.apply(action, rid);
    expect(receipt.target).toMatchObject({ kind: 'StatefulSet', name: 'store' });
    await expect
      .poll(async () => {
        const pod = await cluster.admin.core.readNamespacedPod({ name: 'store-0', namespace: ns }).catch(() => undefined);
        return pod !== undefined && pod.metadata?.uid !== before.metadata?.uid && pod.status?.phase === 'Running';
      }, SETTLE)
      .toBe(true);
    const replacement = await cluster.admin.core.readNamespacedPod({ name: 'store-0', namespace: ns });
    cluster.requests.length = 0;
    await expect(cluster.gateway.apply(action, rid)).resolves.toEqual(receipt);
    expect(cluster.requests.filter((r) => WRITES.has(r.verb))).toEqual([]);
    expect((await cluster.admin.core.readNamespacedPod({ name: 'store-0', namespace: ns })).metadata?.uid).toBe(replacement.metadata?.uid);
    await expect(cluster.gateway.revert(receipt)).resolves.toMatchObject({ outcome: 'not-applicable', verified: true });
  });

  it('delete-pod — a pod no controller would recreate is refused, and stays', async () => {
    await cluster.admin.core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'lonely', namespace: ns }, spec: { containers: [{ name: 'app', image: 'registry.cortexops.local/lonely:1' }] } } });
    const action = { type: 'delete-pod', kind: 'Pod', namespace: ns, name: 'lonely' };
    for (const call of [() => cluster.gateway.dryRun(action, id('lonely')), () => cluster.gateway.apply(action, id('lonely'))]) {
      await expect(call()).rejects.toMatchObject({ code: 'K8S_UNSUPPORTED_TARGET', message: expect.stringMatching(new RegExp(`Pod ${ns}/lonely has no controller`)) as unknown });
    }
    expect((await cluster.admin.core.readNamespacedPod({ name: 'lonely', namespace: ns })).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('delete-pod — a pod that does not exist (and no receipt for the id) is NotFound, not retried', async () => {
    cluster.requests.length = 0;
    const error = await cluster.gateway.apply({ type: 'delete-pod', kind: 'Pod', namespace: ns, name: 'ghost' }, id('ghost')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'K8S_NOT_FOUND', retryable: false, status: 404 });
    expect((error as Error).message).toMatch(new RegExp(`not found: get pods "ghost" in namespace "${ns}"`));
    expect(cluster.requests.map((r) => r.verb)).toEqual(['get', 'list', 'list']);
  });
});

describe('k8s gateway — cordon and uncordon a node (worker credentials)', () => {
  let cluster: Cluster;
  // A node of this test file's own (no kwok annotation, tainted so nothing is scheduled on it): the shared kwok nodes stay schedulable for everyone else.
  const node = id('k8s-node');

  beforeAll(async () => {
    cluster = await startCluster('k8s-nodes');
    await cluster.admin.core.createNode({
      body: {
        // The controller manager's TTL controller adds this annotation to every new node (a write that
        // would move the resourceVersion mid-test); set it up front, as kwok does for its nodes.
        metadata: { name: node, labels: { 'cortexops.io/test': 'k8s-gateway' }, annotations: { [NODE_TTL]: '0' } },
        spec: { taints: [{ key: 'cortexops.io/test', value: 'k8s-gateway', effect: 'NoSchedule' }] },
      },
    });
  });

  afterAll(async () => {
    printTimings();
    await cluster?.admin.core.deleteNode({ name: node });
    await cluster?.dispose();
  });

  const observe = async () => {
    const n = JSON.parse(JSON.stringify(await cluster.admin.core.readNode({ name: node }))) as V1Node;
    return { resourceVersion: n.metadata?.resourceVersion ?? '', annotations: n.metadata?.annotations ?? {}, value: n.spec?.unschedulable ?? false };
  };
  /** The node lifecycle controller adds (removes) the unschedulable taint after a cordon (uncordon); wait for it so versions are stable. */
  const settle = async () => {
    await quiet(
      () => cluster.admin.core.readNode({ name: node }),
      (n) => {
        const tainted = (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unschedulable');
        return (n.spec?.unschedulable ?? false) === tainted && n.metadata?.annotations?.[NODE_TTL] !== undefined;
      },
    );
  };

  it('cordon-node — dry run, apply, apply again, revert', async () => {
    await roundTrip({
      cluster,
      action: { type: 'cordon-node', kind: 'Node', name: node },
      id: id('cordon'),
      observe,
      settle,
      diffShows: [/^\+\s+unschedulable: true$/m, new RegExp(`^--- Node ${node} \\(live\\)$`, 'm')],
      applied: (after) => expect(after).toBe(true),
    });
  });

  it('uncordon-node — dry run, apply, apply again, revert (back to cordoned)', async () => {
    await cluster.admin.core.patchNode({ name: node, body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await settle();
    await roundTrip({
      cluster,
      action: { type: 'uncordon-node', kind: 'Node', name: node },
      id: id('uncordon'),
      observe,
      settle,
      diffShows: [/^-\s+unschedulable: true$/m],
      applied: (after) => expect(after).toBe(false),
    });
    expect((await observe()).value).toBe(true);
  });
});
