import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { LOCAL_HOST } from '@cortexops/config';
import { DEMO_DEPLOYMENT, DEMO_NAMESPACE, ensureServers, freePort, kubeconfigPaths, natsUrl, privateStack, stackPorts, type PrivateStack } from '@cortexops/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedNames, signals, startInProcess, waitFor, type InProcessIngestion } from './support.js';

/**
 * The real Alertmanager of a private stack posts its webhook (payload version 4) to this ingestion, which
 * listens on the CORTEXOPS_INGESTION_PORT the stack's Alertmanager configuration was rendered with.
 */
let stack: PrivateStack;
let ingestion: InProcessIngestion;
let nc: NatsConnection;
const names = isolatedNames('am');
let alertmanagerUrl: string;
let demoPod: { name: string; replicaSet: string };

beforeAll(async () => {
  // privateStack copies process.env: give its Alertmanager a webhook port nobody else uses.
  process.env.CORTEXOPS_INGESTION_PORT = String(await freePort());
  stack = await privateStack('am');
  await stack.launcher.up(['nats', 'alertmanager']);
  const ingestionPort = stack.ctx.env.CORTEXOPS_INGESTION_PORT;
  if (!ingestionPort) throw new Error('private stack has no CORTEXOPS_INGESTION_PORT');
  alertmanagerUrl = `http://${LOCAL_HOST}:${stackPorts(stack.ctx).alertmanagerPort}`;
  // The shared local cluster, for pod-owner lookups; the event watcher stays off (webhook replicas run so).
  const cluster = await ensureServers(['kwok']);
  const kubeconfig = kubeconfigPaths(cluster).admin;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: DEMO_NAMESPACE, labelSelector: `app=${DEMO_DEPLOYMENT}` });
  const pod = pods.items.find((p) => p.metadata?.ownerReferences?.some((o) => o.kind === 'ReplicaSet'));
  if (!pod?.metadata?.name) throw new Error(`no pod of ${DEMO_NAMESPACE}/${DEMO_DEPLOYMENT} in the local cluster`);
  demoPod = { name: pod.metadata.name, replicaSet: pod.metadata.ownerReferences!.find((o) => o.kind === 'ReplicaSet')!.name };
  ingestion = await startInProcess(
    { CORTEXOPS_NATS_URL: natsUrl(stack.ctx), CORTEXOPS_INGESTION_PORT: ingestionPort, CORTEXOPS_KUBECONFIG: kubeconfig, CORTEXOPS_INGESTION_WATCH_EVENTS: 'false', CORTEXOPS_INGESTION_OWNER_LOOKUP_TIMEOUT_MS: '9000' },
    { layout: names, durable: names.durable },
  );
  nc = await connect({ servers: natsUrl(stack.ctx) });
});

afterAll(async () => {
  await ingestion?.handle.shutdown('test done');
  await nc?.close();
  await stack?.dispose();
});

async function postAlerts(alerts: unknown[]): Promise<void> {
  const response = await fetch(`${alertmanagerUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  expect(response.status).toBe(200);
}

describe('ingestion — Alertmanager webhook', () => {
  it('ingestion — a firing alert posted to Alertmanager arrives on SIGNALS with its groupKey, then its resolution', async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const labels = { alertname: 'CheckoutHighErrorRate', namespace: 'demo', deployment: 'checkout', severity: 'critical', pod: 'checkout-7d9f-abcde' };
    await postAlerts([{ labels, annotations: { summary: 'checkout 5xx above 5%' }, startsAt, generatorURL: 'http://prometheus/graph' }]);
    const firing = await waitFor(
      'firing signal',
      async () => (await signals(nc, names.streams.signals)).find((s) => s.status === 'firing' && s.reason === 'CheckoutHighErrorRate'),
      60_000,
    );
    expect(firing).toMatchObject({
      source: 'alertmanager',
      namespace: 'demo',
      object: { kind: 'Pod', name: 'checkout-7d9f-abcde' },
      severity: 'critical',
      title: 'checkout 5xx above 5%',
      labels: { alertname: 'CheckoutHighErrorRate', deployment: 'checkout' },
    });
    expect(firing.groupKey).toContain('CheckoutHighErrorRate');
    // The pod is not in the cluster: its owner comes from the alert's deployment label.
    expect(firing.ownerChain).toEqual([{ kind: 'Deployment', name: 'checkout' }]);
    expect(firing.endsAt).toBeUndefined();

    await postAlerts([{ labels, annotations: { summary: 'checkout 5xx above 5%' }, startsAt, endsAt: new Date().toISOString() }]);
    const resolved = await waitFor(
      'resolved signal',
      async () => (await signals(nc, names.streams.signals)).find((s) => s.status === 'resolved' && s.reason === 'CheckoutHighErrorRate'),
      60_000,
    );
    expect(resolved.fingerprint).toBe(firing.fingerprint);
    expect(resolved.groupKey).toBe(firing.groupKey);
    expect(resolved.endsAt).toBeDefined();
  });

  it('ingestion — an alert naming only a pod groups with its workload: the webhook reads the pod\'s owners from the cluster, for firing and resolved alike', async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const labels = { alertname: 'KubePodCrashLooping', namespace: DEMO_NAMESPACE, pod: demoPod.name, container: 'app', severity: 'warning' };
    await postAlerts([{ labels, annotations: { summary: 'checkout is crash looping' }, startsAt }]);
    const firing = await waitFor('firing pod alert', async () => (await signals(nc, names.streams.signals)).find((s) => s.status === 'firing' && s.reason === 'KubePodCrashLooping'), 60_000);
    const chain = [
      { kind: 'ReplicaSet', name: demoPod.replicaSet },
      { kind: 'Deployment', name: DEMO_DEPLOYMENT },
    ];
    expect(firing).toMatchObject({ object: { kind: 'Pod', name: demoPod.name }, namespace: DEMO_NAMESPACE, ownerChain: chain });

    await postAlerts([{ labels, annotations: { summary: 'checkout is crash looping' }, startsAt, endsAt: new Date().toISOString() }]);
    const resolved = await waitFor('resolved pod alert', async () => (await signals(nc, names.streams.signals)).find((s) => s.status === 'resolved' && s.reason === 'KubePodCrashLooping'), 60_000);
    expect(resolved.ownerChain).toEqual(chain);
    expect(resolved.fingerprint).toBe(firing.fingerprint);
    expect(ingestion.logs()).not.toContain('watching Kubernetes Warning events');
  });
});
