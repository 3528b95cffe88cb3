import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ensureServers, kubeconfigPaths, natsConnectOptions, natsEnv } from '@cortexops/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteStreams, isolatedNames, signals, startInProcess, waitFor, type InProcessIngestion } from './support.js';

/**
 * The real API server of the local control plane; Warning events created through its API. The cluster is shared: the
 * stack's own ingestion (when `make up` runs it) sees these events too and its correlator groups them. So every event
 * is about this file's own objects — its namespace, a Deployment there, and a node name nothing else uses — never the
 * shared kwok nodes (an open incident on one absorbs the failures of every pod on it, the demo's included) nor the
 * demo namespace (enrolled as auto: the stack's worker would act on it).
 */
const names = isolatedNames('kube');
const namespace = `ing-${randomBytes(4).toString('hex')}`;
const node = `${namespace}-node`;
let core: CoreV1Api;
let apps: AppsV1Api;
let nc: NatsConnection;
let env: Record<string, string>;
let ingestion: InProcessIngestion | undefined;

async function createEvent(ns: string, involved: { kind: string; name: string }, reason: string, type: 'Warning' | 'Normal', message: string) {
  const now = new Date();
  await core.createNamespacedEvent({
    namespace: ns,
    body: {
      metadata: { name: `${involved.name}.${randomBytes(6).toString('hex')}`, namespace: ns },
      involvedObject: { kind: involved.kind, name: involved.name, namespace: ns, apiVersion: 'v1' },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: 'kubelet', host: node },
    },
  });
}

const start = () => startInProcess(env, { layout: names, durable: names.durable, kvBucket: names.kvBucket });

beforeAll(async () => {
  const ctx = await ensureServers(['nats', 'kwok']);
  const kubeconfig = kubeconfigPaths(ctx).admin;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  nc = await connect(natsConnectOptions(ctx));
  // No fingerprint window: earlier runs' events on the shared demo pods must not hide this run's (dedup is tested elsewhere),
  // and a repeat after the restart is prevented only by the stored checkpoint and TELEMETRY's Nats-Msg-Id window.
  env = { ...natsEnv(ctx), CORTEXOPS_KUBECONFIG: kubeconfig, CORTEXOPS_INGESTION_FINGERPRINT_WINDOW_MS: '0' };
});

afterAll(async () => {
  await ingestion?.handle.shutdown('test done');
  if (nc) {
    const jsm = await nc.jetstreamManager();
    await deleteStreams(jsm, names.streams);
    await jsm.streams.delete(`KV_${names.kvBucket}`).catch(() => false);
    await nc.close();
  }
  await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
});

const ofNamespace = async (ns: string) => (await signals(nc, names.streams.signals)).filter((s) => s.namespace === ns);

describe('ingestion — Kubernetes event watcher', () => {
  it('ingestion — a Warning event becomes a Signal; Normal events are ignored', async () => {
    ingestion = await start();
    await createEvent(namespace, { kind: 'Pod', name: 'web-1' }, 'Started', 'Normal', 'normal event');
    await createEvent(namespace, { kind: 'Pod', name: 'web-1' }, 'BackOff', 'Warning', 'Back-off restarting failed container');
    const signal = await waitFor('BackOff signal', async () => (await ofNamespace(namespace)).find((s) => s.reason === 'BackOff'));
    expect(signal).toMatchObject({
      source: 'kubernetes',
      namespace,
      object: { kind: 'Pod', name: 'web-1' },
      node,
      severity: 'warning',
      status: 'firing',
      labels: { 'k8s.event.type': 'Warning', 'k8s.involved.kind': 'Pod' },
    });
    expect((await ofNamespace(namespace)).some((s) => s.reason === 'Started')).toBe(false);
  });

  it('ingestion — a Pod event carries its owner chain (ReplicaSet, Deployment)', async () => {
    const labels = { app: 'shop' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'shop', labels },
        spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'shop', image: 'registry.example/shop:1.0' }] } } },
      },
    });
    const pod = await waitFor('a pod of Deployment shop', async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=shop' })).items[0]?.metadata?.name);
    const marker = `probe failed ${randomBytes(4).toString('hex')}`;
    await createEvent(namespace, { kind: 'Pod', name: pod }, 'Unhealthy', 'Warning', marker);
    const signal = await waitFor('Unhealthy signal', async () => (await ofNamespace(namespace)).find((s) => (s.annotations as Record<string, string>).message === marker));
    const chain = signal.ownerChain as { kind: string; name: string }[];
    expect(chain.map((o) => o.kind)).toEqual(['ReplicaSet', 'Deployment']);
    expect(chain[1]?.name).toBe('shop');
  });

  it('ingestion — after a restart it resumes from its stored resourceVersion: events meanwhile arrive, earlier ones are not repeated', async () => {
    await ingestion?.handle.shutdown('restart');
    ingestion = undefined;
    const kv = await nc.jetstream().views.kv(names.kvBucket);
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    expect(keys).toHaveLength(1);
    const checkpoint = (await kv.get(keys[0] ?? ''))?.json<{ resourceVersion: string }>();
    expect(Number(checkpoint?.resourceVersion)).toBeGreaterThan(0);

    await createEvent(namespace, { kind: 'Node', name: node }, 'NodeNotReady', 'Warning', 'node is not ready while ingestion was down');
    ingestion = await start();
    const signal = await waitFor('NodeNotReady signal', async () => (await ofNamespace(namespace)).find((s) => s.reason === 'NodeNotReady'));
    expect(signal).toMatchObject({ severity: 'critical', node, object: { kind: 'Node', name: node } });
    await createEvent(namespace, { kind: 'Pod', name: 'web-2' }, 'FailedScheduling', 'Warning', 'marker after restart');
    await waitFor('marker', async () => (await ofNamespace(namespace)).find((s) => s.reason === 'FailedScheduling'));
    expect((await ofNamespace(namespace)).filter((s) => s.reason === 'BackOff')).toHaveLength(1);
  });
});
