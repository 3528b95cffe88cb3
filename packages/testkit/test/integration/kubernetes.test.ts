import { AppsV1Api, AuthenticationV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_DEPLOYMENT,
  DEMO_NAMESPACE,
  DEMO_REPLICAS,
  ensureServers,
  kubeconfigPaths,
  kubectl,
  privateStack,
  KubectlError,
  uniqueName,
  WORKER_NAMESPACE,
  WORKER_SERVICE_ACCOUNT,
  type StackContext,
} from '@cortexops/testkit';

const SETTLE = { timeout: 60_000, interval: 250 };

function clients(kubeconfig: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), authn: kc.makeApiClient(AuthenticationV1Api) };
}

const isRunningAndReady = (pod: V1Pod) =>
  pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The live (not terminating) pods behind `app=<app>`. */
async function livePods(core: CoreV1Api, namespace: string, app: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

function deployment(namespace: string, name: string, image: string, replicas: number) {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image }] } } },
  };
}

describe('local kubernetes — control plane with kwok nodes', () => {
  let ctx: StackContext;
  let admin: ReturnType<typeof clients>;
  // Each run works in its own namespace, so the shared demo workload is only read.
  const namespace = uniqueName('k8s').replace(/_/g, '-');

  beforeAll(async () => {
    ctx = await ensureServers(['kwok']);
    admin = clients(kubeconfigPaths(ctx).admin);
    await admin.core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await admin?.core.deleteNamespace({ name: namespace });
  });

  it('demo workload — the checkout Deployment runs its replicas on kwok nodes', async () => {
    const spec = await admin.apps.readNamespacedDeployment({ name: DEMO_DEPLOYMENT, namespace: DEMO_NAMESPACE });
    expect(spec.spec?.replicas).toBeGreaterThanOrEqual(1);
    await expect
      .poll(async () => {
        const pods = await livePods(admin.core, DEMO_NAMESPACE, DEMO_DEPLOYMENT);
        return pods.filter(isRunningAndReady).length;
      }, SETTLE)
      .toBe(spec.spec?.replicas ?? DEMO_REPLICAS);
    const pods = await livePods(admin.core, DEMO_NAMESPACE, DEMO_DEPLOYMENT);
    expect(pods.every((p) => p.spec?.nodeName?.startsWith('kwok-node-'))).toBe(true);
  });

  it('deployments — a new Deployment gets a ReplicaSet and Running pods', async () => {
    await admin.apps.createNamespacedDeployment({ namespace, body: deployment(namespace, 'web', 'registry.cortexops.local/web:1', 3) });
    await expect.poll(async () => (await livePods(admin.core, namespace, 'web')).filter(isRunningAndReady).length, SETTLE).toBe(3);
    const replicaSets = await admin.apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' });
    expect(replicaSets.items).toHaveLength(1);
    expect(replicaSets.items[0]?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web' });
  });

  it('pods — a deleted pod is replaced and kwok marks the replacement Running', async () => {
    await admin.apps.createNamespacedDeployment({ namespace, body: deployment(namespace, 'cart', 'registry.cortexops.local/cart:1', 2) });
    await expect.poll(async () => (await livePods(admin.core, namespace, 'cart')).filter(isRunningAndReady).length, SETTLE).toBe(2);
    const [victim] = await livePods(admin.core, namespace, 'cart');
    const victimName = victim?.metadata?.name ?? '';
    await admin.core.deleteNamespacedPod({ name: victimName, namespace });
    await expect
      .poll(async () => {
        const pods = (await livePods(admin.core, namespace, 'cart')).filter(isRunningAndReady);
        return { running: pods.length, victimStillThere: pods.some((p) => p.metadata?.name === victimName) };
      }, SETTLE)
      .toEqual({ running: 2, victimStillThere: false });
    // kwok finishes the deletion (there is no kubelet): the pod object itself goes away.
    await expect.poll(async () => (await admin.core.listNamespacedPod({ namespace, fieldSelector: `metadata.name=${victimName}` })).items.length, SETTLE).toBe(0);
  });

  it('deployments — a rollout of a new image replaces every pod and completes', async () => {
    await admin.apps.createNamespacedDeployment({ namespace, body: deployment(namespace, 'api', 'registry.cortexops.local/api:1', 3) });
    await expect.poll(async () => (await livePods(admin.core, namespace, 'api')).filter(isRunningAndReady).length, SETTLE).toBe(3);
    const newImage = [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.cortexops.local/api:2' }];
    await admin.apps.patchNamespacedDeployment({ name: 'api', namespace, body: newImage }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await expect
      .poll(async () => {
        const d = await admin.apps.readNamespacedDeployment({ name: 'api', namespace });
        const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
        // As `kubectl rollout status`: the status must describe the new generation, not the old one.
        const observed = d.status?.observedGeneration === d.metadata?.generation;
        return { observed, updated: d.status?.updatedReplicas, available: d.status?.availableReplicas, total: d.status?.replicas, reason: progressing?.reason };
      }, SETTLE)
      .toEqual({ observed: true, updated: 3, available: 3, total: 3, reason: 'NewReplicaSetAvailable' });
    const images = (await livePods(admin.core, namespace, 'api')).map((p) => p.spec?.containers[0]?.image);
    expect(images).toEqual(Array(3).fill('registry.cortexops.local/api:2'));
  });

  it('worker identity — the worker kubeconfig authenticates as its ServiceAccount', async () => {
    const worker = clients(kubeconfigPaths(ctx).worker);
    const review = await worker.authn.createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`);
  });

  it('kubectl — a server-side dry run is validated by the API server and persists nothing', async () => {
    await admin.apps.createNamespacedDeployment({ namespace, body: deployment(namespace, 'dry', 'registry.cortexops.local/dry:1', 1) });
    const scaled = deployment(namespace, 'dry', 'registry.cortexops.local/dry:1', 7);
    const out = await kubectl(ctx, ['apply', '--dry-run=server', '--server-side', '--force-conflicts', '-o', 'jsonpath={.spec.replicas}', '-f', '-'], { stdin: JSON.stringify(scaled) });
    expect(out).toBe('7');
    const live = await admin.apps.readNamespacedDeployment({ name: 'dry', namespace });
    expect(live.spec?.replicas).toBe(1);
    const invalid = { ...scaled, spec: { ...scaled.spec, replicas: -1 } };
    await expect(kubectl(ctx, ['apply', '--dry-run=server', '--server-side', '-f', '-'], { stdin: JSON.stringify(invalid) })).rejects.toThrow(/replicas/);
  });

  it('kubectl — auth can-i answers for the administrator and for the worker', async () => {
    expect((await kubectl(ctx, ['auth', 'can-i', 'delete', 'nodes'])).trim()).toBe('yes');
    // Nothing the worker is meant to do involves deleting nodes: can-i exits 1 with "no".
    const denied = kubectl(ctx, ['auth', 'can-i', 'delete', 'nodes'], { kubeconfig: kubeconfigPaths(ctx).worker });
    await expect(denied).rejects.toBeInstanceOf(KubectlError);
    await expect(denied).rejects.toMatchObject({ stdout: 'no\n' });
  });
});

describe('local kubernetes — a private instance', () => {
  it('fresh instance — starts from nothing on other ports: certificates, kubeconfigs, worker token, demo workload', async () => {
    const stack = await privateStack('k8s');
    try {
      const results = await stack.launcher.up(['kwok']);
      expect(results.map((r) => [r.name, r.action])).toEqual([
        ['etcd', 'started'],
        ['kube-apiserver', 'started'],
        ['kube-controller-manager', 'started'],
        ['kube-scheduler', 'started'],
        ['kwok', 'started'],
      ]);
      const paths = kubeconfigPaths(stack.ctx);
      expect(paths.admin.startsWith(stack.ctx.dataDir)).toBe(true);
      const admin = clients(paths.admin);
      await expect
        .poll(async () => (await livePods(admin.core, DEMO_NAMESPACE, DEMO_DEPLOYMENT)).filter(isRunningAndReady).length, SETTLE)
        .toBe(DEMO_REPLICAS);
      const review = await clients(paths.worker).authn.createSelfSubjectReview({ body: {} });
      expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`);
    } finally {
      await stack.dispose();
    }
  });
});
