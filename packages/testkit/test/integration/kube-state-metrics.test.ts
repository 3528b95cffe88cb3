import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PrometheusClient, Series } from '@cortexops/prometheus';
import { DEMO_DEPLOYMENT, DEMO_NAMESPACE, ensureServers, kubeconfigPaths, kubectl, KubectlError, stackPrometheus, uniqueName, type StackContext } from '@cortexops/testkit';

/** Prometheus scrapes every 5 s; a new object needs a watch event, a scrape and a query to show up. */
const SETTLE = { timeout: 60_000, interval: 500 };

let prometheus: PrometheusClient | undefined;

/** An instant query against the real Prometheus of the local stack, through the client the worker verifies with. */
async function query(ctx: StackContext, promql: string): Promise<Series[]> {
  prometheus ??= stackPrometheus(ctx);
  return prometheus.vector(promql);
}

/** The single value of a query, or undefined while Prometheus has no series for it. */
async function scalar(ctx: StackContext, promql: string): Promise<number | undefined> {
  const result = await query(ctx, promql);
  if (result.length > 1) throw new Error(`${promql} returned ${result.length} series`);
  return result[0] === undefined ? undefined : Number(result[0].value[1]);
}

describe('kube-state-metrics — the real Prometheus sees the local cluster', () => {
  let ctx: StackContext;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  // The Deployment this file creates lives in a namespace of its own, deleted afterwards.
  const namespace = uniqueName('ksm').replace(/_/g, '-');

  beforeAll(async () => {
    ctx = await ensureServers(['prometheus', 'kwok', 'kube-state-metrics']);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPaths(ctx).admin);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await prometheus?.close();
    if (!core) return;
    await core.deleteNamespace({ name: namespace });
    // Nothing left behind: the namespace and everything in it are gone before the file ends.
    await vi.waitFor(async () => {
      const left = await core.listNamespace({ fieldSelector: `metadata.name=${namespace}` });
      if (left.items.length > 0) throw new Error(`namespace ${namespace} is still ${left.items[0]?.status?.phase ?? 'there'}`);
    }, SETTLE);
  });

  it('demo deployment — kube_deployment_status_replicas_available equals the available replicas of checkout', async () => {
    const promql = `kube_deployment_status_replicas_available{job="kube-state-metrics",namespace="${DEMO_NAMESPACE}",deployment="${DEMO_DEPLOYMENT}"}`;
    // Both read in the same round, so a rollout in progress elsewhere only delays the match.
    await expect
      .poll(async () => {
        const deployment = await apps.readNamespacedDeployment({ name: DEMO_DEPLOYMENT, namespace: DEMO_NAMESPACE });
        return { deployment: deployment.status?.availableReplicas ?? 0, prometheus: await scalar(ctx, promql) };
      }, SETTLE)
      .toSatisfy(({ deployment, prometheus }) => deployment > 0 && prometheus === deployment);
  });

  it('demo pods — kube_pod_container_status_restarts_total has a series for every checkout pod', async () => {
    const pods = await core.listNamespacedPod({ namespace: DEMO_NAMESPACE, labelSelector: `app=${DEMO_DEPLOYMENT}` });
    const names = pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? '');
    expect(names.length).toBeGreaterThan(0);
    const promql = `kube_pod_container_status_restarts_total{namespace="${DEMO_NAMESPACE}",container="${DEMO_DEPLOYMENT}"}`;
    await expect.poll(async () => (await query(ctx, promql)).map((s) => s.metric.pod), SETTLE).toEqual(expect.arrayContaining(names));
    for (const sample of await query(ctx, promql)) expect(Number(sample.value[1])).toBeGreaterThanOrEqual(0);
  });

  it('a new Deployment — shows up with its replicas, and its series go when it is deleted', async () => {
    const name = 'ksm-web';
    const labels = { app: name };
    const replicas = 2;
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name, namespace, labels },
        spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: 'registry.cortexops.local/ksm/web:1' }] } } },
      },
    });
    const selector = `namespace="${namespace}",deployment="${name}"`;
    await expect.poll(() => scalar(ctx, `kube_deployment_spec_replicas{${selector}}`), SETTLE).toBe(replicas);
    await expect.poll(() => scalar(ctx, `kube_deployment_status_replicas_available{${selector}}`), SETTLE).toBe(replicas);
    await expect.poll(async () => (await query(ctx, `kube_pod_info{namespace="${namespace}",created_by_kind="ReplicaSet"}`)).length, SETTLE).toBe(replicas);

    await apps.deleteNamespacedDeployment({ name, namespace });
    // A series that leaves the scrape is marked stale at once: the query comes back empty.
    await expect.poll(() => scalar(ctx, `kube_deployment_spec_replicas{${selector}}`), SETTLE).toBeUndefined();
  });

  it('identity — kube-state-metrics acts as its own ServiceAccount, which may list and watch and nothing more', async () => {
    const asKsm = { kubeconfig: kubeconfigPaths(ctx).kubeStateMetrics };
    expect((await kubectl(ctx, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], asKsm)).trim()).toBe('system:serviceaccount:cortexops-system:cortexops-kube-state-metrics');
    expect((await kubectl(ctx, ['auth', 'can-i', 'watch', 'pods', '--all-namespaces'], asKsm)).trim()).toBe('yes');
    expect((await kubectl(ctx, ['auth', 'can-i', 'list', 'deployments.apps', '--all-namespaces'], asKsm)).trim()).toBe('yes');
    for (const denied of [
      ['get', 'secrets', '-n', DEMO_NAMESPACE],
      ['list', 'configmaps', '--all-namespaces'],
      ['patch', 'deployments.apps', '-n', DEMO_NAMESPACE],
      ['get', 'pods', '-n', DEMO_NAMESPACE],
    ]) {
      const answer = kubectl(ctx, ['auth', 'can-i', ...denied], asKsm);
      await expect(answer, denied.join(' ')).rejects.toBeInstanceOf(KubectlError);
      await expect(answer, denied.join(' ')).rejects.toMatchObject({ stdout: 'no\n' });
    }
  });
});
