import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { LOCAL_HOST } from '@cortexops/config';
import { METRICS } from '@cortexops/contracts';
import { DEMO_DEPLOYMENT, DEMO_NAMESPACE, ensureServers, freePort, kubeconfigPaths, kubectl, privateStack, stackPorts, uniqueName, webhookTokenFile, type PrivateStack, type StackContext, natsConnectOptions, natsEnv } from '@cortexops/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue, isolatedNames, signals, startInProcess, streamCount, waitFor, type InProcessIngestion } from './support.js';

/**
 * The real Alertmanager of a private stack posts its webhook (payload version 4) to this ingestion, which
 * listens on the CORTEXOPS_INGESTION_PORT the stack's Alertmanager configuration was rendered with.
 */
let stack: PrivateStack;
let ingestion: InProcessIngestion;
let nc: NatsConnection;
const names = isolatedNames('am');
let alertmanagerUrl: string;
let demoPod: { name: string; replicaSet: string; node: string };
let cluster: StackContext;
let ingestionEnv: Record<string, string>;
const ownersBucket = `${names.kvBucket}_owners`;
const startIngestion = () => startInProcess(ingestionEnv, { layout: names, durable: names.durable, podOwnersBucket: ownersBucket });

beforeAll(async () => {
  // privateStack copies process.env: give its Alertmanager a webhook port nobody else uses.
  process.env.CORTEXOPS_INGESTION_PORT = String(await freePort());
  stack = await privateStack('am');
  await stack.launcher.up(['nats', 'alertmanager']);
  const ingestionPort = stack.ctx.env.CORTEXOPS_INGESTION_PORT;
  if (!ingestionPort) throw new Error('private stack has no CORTEXOPS_INGESTION_PORT');
  alertmanagerUrl = `http://${LOCAL_HOST}:${stackPorts(stack.ctx).alertmanagerPort}`;
  // The shared local cluster, for pod-owner lookups; the event watcher stays off (webhook replicas run so).
  cluster = await ensureServers(['kwok']);
  const kubeconfig = kubeconfigPaths(cluster).admin;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: DEMO_NAMESPACE, labelSelector: `app=${DEMO_DEPLOYMENT}` });
  const pod = pods.items.find((p) => p.metadata?.ownerReferences?.some((o) => o.kind === 'ReplicaSet'));
  if (!pod?.metadata?.name) throw new Error(`no pod of ${DEMO_NAMESPACE}/${DEMO_DEPLOYMENT} in the local cluster`);
  demoPod = { name: pod.metadata.name, replicaSet: pod.metadata.ownerReferences!.find((o) => o.kind === 'ReplicaSet')!.name, node: pod.spec?.nodeName ?? '' };
  if (demoPod.node === '') throw new Error(`pod ${DEMO_NAMESPACE}/${demoPod.name} is not scheduled`);
  // The private Alertmanager sends the token of its stack's file (deploy/alertmanager's http_config): ingestion demands it.
  ingestionEnv = { ...natsEnv(stack.ctx), CORTEXOPS_INGESTION_WEBHOOK_TOKEN_FILE: webhookTokenFile(stack.ctx), CORTEXOPS_INGESTION_PORT: ingestionPort, CORTEXOPS_KUBECONFIG: kubeconfig, CORTEXOPS_INGESTION_WATCH_EVENTS: 'false', CORTEXOPS_INGESTION_OWNER_LOOKUP_TIMEOUT_MS: '9000' };
  ingestion = await startIngestion();
  nc = await connect(natsConnectOptions(stack.ctx));
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

    // A pod label that is no Kubernetes name is never looked up: the alert still arrives, naming no object.
    await postAlerts([{ labels: { alertname: 'HostilePodLabel', namespace: DEMO_NAMESPACE, pod: '../../api/v1/secrets' }, startsAt }]);
    const hostile = await waitFor('hostile pod alert', async () => (await signals(nc, names.streams.signals)).find((s) => s.reason === 'HostilePodLabel'), 60_000);
    expect(hostile.object).toBeUndefined();
    expect(hostile.ownerChain).toEqual([]);
    expect(hostile.labels).toMatchObject({ pod: '../../api/v1/secrets' });
  });

  it('ingestion — kube-prometheus alerts name their object by the ecosystem\'s labels: node-exporter and KubeNodeNotReady the Node, KubeJobFailed the Job, never the scrape job', async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const node = uniqueName('amnode').replace(/[^a-z0-9-]/g, '');
    const ksm = { job: 'kube-state-metrics', instance: '10.244.1.7:8443', container: 'kube-rbac-proxy-main', prometheus: 'monitoring/k8s' };
    // node-exporter as kube-prometheus scrapes it: instance relabelled to the node, the exporter's own target labels kept.
    const nodeExporter = { job: 'node-exporter', instance: node, namespace: 'monitoring', pod: 'node-exporter-7xk2p', service: 'node-exporter', endpoint: 'https', container: 'kube-rbac-proxy', prometheus: 'monitoring/k8s' };
    await postAlerts([
      { labels: { ...nodeExporter, alertname: 'NodeFilesystemAlmostOutOfSpace', device: '/dev/nvme0n1p1', fstype: 'ext4', mountpoint: '/', severity: 'critical' }, startsAt },
      { labels: { ...ksm, alertname: 'KubeNodeNotReady', node, condition: 'Ready', status: 'true', severity: 'warning' }, startsAt },
      { labels: { ...ksm, alertname: 'KubeJobFailed', namespace: 'batch', job_name: 'nightly-report-29112000', condition: 'true', severity: 'warning' }, startsAt },
      { labels: { alertname: 'KubeCPUOvercommit', severity: 'warning' }, startsAt },
    ]);
    const byReason = await waitFor(
      'four kube-prometheus signals',
      async () => {
        const all = await signals(nc, names.streams.signals);
        const found = new Map(['NodeFilesystemAlmostOutOfSpace', 'KubeNodeNotReady', 'KubeJobFailed', 'KubeCPUOvercommit'].map((r) => [r, all.find((s) => s.reason === r && (r === 'KubeJobFailed' || r === 'KubeCPUOvercommit' || s.node === node))]));
        return [...found.values()].every((s) => s !== undefined) ? found : undefined;
      },
      60_000,
    );
    expect(byReason.get('NodeFilesystemAlmostOutOfSpace')).toMatchObject({ object: { kind: 'Node', name: node }, node, ownerChain: [], severity: 'critical' });
    expect(byReason.get('NodeFilesystemAlmostOutOfSpace')!.namespace).toBeUndefined();
    expect(byReason.get('KubeNodeNotReady')).toMatchObject({ object: { kind: 'Node', name: node }, node });
    expect(byReason.get('KubeJobFailed')).toMatchObject({ object: { kind: 'Job', name: 'nightly-report-29112000' }, namespace: 'batch' });
    const overcommit = byReason.get('KubeCPUOvercommit')!;
    expect(overcommit.object).toBeUndefined();
    expect(overcommit.labels).toMatchObject({ alertname: 'KubeCPUOvercommit' });
  });

  it('ingestion — the owners and node of a pod that is gone come from what was read while it lived, across a restart', async () => {
    const namespace = uniqueName('amown').replace(/[^a-z0-9-]/g, '');
    await kubectl(cluster, ['create', 'namespace', namespace]);
    try {
      await kubectl(cluster, ['create', 'deployment', 'ledger', '--image=registry.cortexops.local/ledger:1', '-n', namespace]);
      const podName = await waitFor('a Running ledger pod', async () => {
        const out = await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', 'app=ledger', '-o', 'jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.name}{"\\n"}{end}']);
        return out.split('\n').find((n) => n.length > 0);
      }, 60_000);
      const labels = { alertname: 'LedgerCrashLooping', namespace, pod: podName, severity: 'warning' };
      const startsAt = new Date(Date.now() - 60_000).toISOString();
      await postAlerts([{ labels, startsAt }]);
      const firing = await waitFor('firing ledger alert', async () => (await signals(nc, names.streams.signals)).find((s) => s.status === 'firing' && s.reason === 'LedgerCrashLooping'), 60_000);
      expect((firing.ownerChain as { kind: string }[]).map((o) => o.kind)).toEqual(['ReplicaSet', 'Deployment']);
      // The alert names no node: the one the pod runs on (spec.nodeName).
      expect(firing.node).toMatch(/^kwok-/);

      // The pod goes, and so does this process's memory of it.
      await kubectl(cluster, ['delete', 'pod', podName, '-n', namespace, '--wait=true']);
      await ingestion.handle.shutdown('test: restart');
      ingestion = await startIngestion();
      await postAlerts([{ labels, startsAt, endsAt: new Date().toISOString() }]);
      const resolved = await waitFor('resolved ledger alert', async () => (await signals(nc, names.streams.signals)).find((s) => s.status === 'resolved' && s.reason === 'LedgerCrashLooping'), 60_000);
      expect(resolved.ownerChain).toEqual(firing.ownerChain);
      // And where it ran: the topology's node stays the same for the resolved alert.
      expect(resolved.node).toBe(firing.node);
    } finally {
      await kubectl(cluster, ['delete', 'namespace', namespace, '--wait=false']);
    }
  });

  it('ingestion — a group of 10,000 alerts (one namespace-wide outage, max_alerts: 0) becomes 10,000 signals, none lost, each with its pod\'s owners', async () => {
    const namespace = uniqueName('amoutage').replace(/[^a-z0-9-]/g, '');
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    // kube-prometheus' KubeContainerWaiting over kube-state-metrics: one alert per container, all naming the demo's pod
    // (the informer answers without an API call), one group (alertname, namespace) and so one webhook body of ~3 MB.
    const alerts = Array.from({ length: 10_000 }, (_, i) => ({
      labels: {
        alertname: 'KubeContainerWaiting',
        namespace: DEMO_NAMESPACE,
        pod: demoPod.name,
        container: `sidecar-${i}`,
        reason: 'CrashLoopBackOff',
        job: 'kube-state-metrics',
        instance: '10.244.1.7:8443',
        endpoint: 'https-main',
        service: 'kube-state-metrics',
        prometheus: 'monitoring/k8s',
        outage: namespace,
        severity: 'warning',
      },
      annotations: { description: `pod ${DEMO_NAMESPACE}/${demoPod.name} container sidecar-${i} has been in waiting state for longer than 1 hour.`, runbook_url: 'https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubecontainerwaiting' },
      startsAt,
    }));
    const jsm = await nc.jetstreamManager();
    const before = await streamCount(jsm, names.streams.signals);
    await postAlerts(alerts);
    const isOutage = (s: Record<string, unknown>) => (s.labels as Record<string, string> | undefined)?.outage === namespace;
    await waitFor('10,000 more signals', async () => ((await streamCount(jsm, names.streams.signals)) >= before + 10_000 ? true : undefined), 120_000);
    const outage = (await signals(nc, names.streams.signals)).filter(isOutage);
    expect(outage).toHaveLength(10_000);
    expect(new Set(outage.map((s) => s.fingerprint)).size).toBe(10_000);
    expect(outage.every((s) => s.status === 'firing' && (s.ownerChain as { kind: string }[]).map((o) => o.kind).join('>') === 'ReplicaSet>Deployment')).toBe(true);
    // KubeContainerWaiting names no node: each signal carries the one the pod runs on (spec.nodeName, from the informer).
    expect(outage.every((s) => s.node === demoPod.node)).toBe(true);
    expect(ingestion.logs()).not.toContain('refused unread');
  }, 180_000);

  it('ingestion — an API server that does not answer is not "no owners": a call naming a pod nobody read is answered 503 (unavailable) and publishes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cortexops-kube-down-'));
    // The cluster's kubeconfig, its server moved to a port nothing listens on.
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(kubeconfigPaths(cluster).admin, 'utf8').replace(/("?server"?:\s*)"?[^",\n]+"?/g, `$1"https://${LOCAL_HOST}:${await freePort()}"`));
    const replica = await startInProcess(
      { ...ingestionEnv, CORTEXOPS_INGESTION_PORT: String(await freePort()), CORTEXOPS_INGESTION_CONSUME: 'false', CORTEXOPS_KUBECONFIG: kubeconfig },
      { layout: names, durable: `${names.durable}_down`, podOwnersBucket: ownersBucket },
    );
    try {
      const jsm = await nc.jetstreamManager();
      const before = await streamCount(jsm, names.streams.telemetry);
      const authorization = `Bearer ${readFileSync(webhookTokenFile(stack.ctx), 'utf8').trim()}`;
      const body = JSON.stringify({ version: '4', groupKey: '{}:{alertname="KubePodNotReady"}', status: 'firing', receiver: 'cortexops', alerts: [{ status: 'firing', labels: { alertname: 'KubePodNotReady', namespace: 'shop', pod: `cart-${uniqueName('d').replace(/[^a-z0-9]/g, '')}` }, startsAt: new Date().toISOString() }] });
      const response = await fetch(`${replica.baseUrl}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: string }).error).toBe('owners of 1 pods not known yet (unavailable)');
      expect(await streamCount(jsm, names.streams.telemetry)).toBe(before);
      expect(counterValue(await (await fetch(`${replica.baseUrl}/metrics`)).text(), METRICS.ownerLookupsDeferredTotal, { reason: 'unavailable' })).toBe(1);
    } finally {
      await replica.handle.shutdown('test done');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ingestion — owner lookups the informer cannot answer are bounded: a call whose pods are not read within the deadline, or whose reads do not fit the queue, is answered 503 and publishes nothing; retried (as Alertmanager does) it publishes every alert once', async () => {
    const durable = `${names.durable}_lookups`;
    // Its own webhook-only replica: a 50 ms deadline and room for 1200 reads, on the stack's cluster and NATS.
    const replica = await startInProcess(
      { ...ingestionEnv, CORTEXOPS_INGESTION_PORT: String(await freePort()), CORTEXOPS_INGESTION_CONSUME: 'false', CORTEXOPS_INGESTION_OWNER_LOOKUP_TIMEOUT_MS: '50' },
      { layout: names, durable, podOwnersBucket: ownersBucket, ownerLookupQueue: 1200 },
    );
    try {
      const jsm = await nc.jetstreamManager();
      const tag = uniqueName('lk').replace(/[^a-z0-9]/g, '').slice(-10);
      // Pods nobody has: the informer does not hold them, so each is read from the API server (16 reads at a time).
      const body = (count: number, group: string) =>
        JSON.stringify({
          version: '4',
          groupKey: `{}:{lookups="${group}"}`,
          status: 'firing',
          receiver: 'cortexops',
          alerts: Array.from({ length: count }, (_, i) => ({ status: 'firing', labels: { alertname: 'KubePodNotReady', namespace: `gone-${tag}`, pod: `${group}-${i}`, lookups: tag, severity: 'warning' }, startsAt: new Date(Date.now() - 60_000).toISOString() })),
        });
      const authorization = `Bearer ${readFileSync(webhookTokenFile(stack.ctx), 'utf8').trim()}`;
      const post = (text: string) => fetch(`${replica.baseUrl}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: text });
      const telemetryBefore = await streamCount(jsm, names.streams.telemetry);

      // Alertmanager retries a 503: the reads went on and are remembered, so the call goes through, each alert once.
      const retried = (text: string) =>
        waitFor('the retried call taken', async () => {
          const response = await post(text);
          return response.status === 200 ? ((await response.json()) as { accepted: number; messages: number }) : undefined;
        }, 120_000);

      // 1000 reads cannot finish in 50 ms (63 rounds of 16 API calls and shared-memory reads): deferred, nothing published.
      const slow = body(1000, `${tag}a`);
      const deferred = await post(slow);
      expect(deferred.status).toBe(503);
      expect(deferred.headers.get('retry-after')).toBe('5');
      expect(((await deferred.json()) as { error: string }).error).toMatch(/^owners of \d+ pods not known yet \(timeout\)$/);
      expect(await streamCount(jsm, names.streams.telemetry)).toBe(telemetryBefore);
      const taken = await retried(slow);
      expect(taken.accepted).toBe(1000);

      // 1300 pods nobody has read, with room for 1200 reads: 100 are refused at once (whatever the API server's speed).
      const many = body(1300, `${tag}b`);
      const full = await post(many);
      expect(full.status).toBe(503);
      expect(((await full.json()) as { error: string }).error).toMatch(/^owners of \d+ pods not known yet \(queue_full\)$/);
      expect(await streamCount(jsm, names.streams.telemetry)).toBe(telemetryBefore + taken.messages);
      const metrics = await (await fetch(`${replica.baseUrl}/metrics`)).text();
      expect(counterValue(metrics, METRICS.ownerLookupsDeferredTotal, { reason: 'timeout' })).toBeGreaterThanOrEqual(1);
      expect(counterValue(metrics, METRICS.ownerLookupsDeferredTotal, { reason: 'queue_full' })).toBeGreaterThanOrEqual(1);
      expect(replica.logs()).toContain('Alertmanager webhook call deferred');
      expect((await retried(many)).accepted).toBe(1300);
      const ours = (s: Record<string, unknown>) => (s.labels as Record<string, string> | undefined)?.lookups === tag;
      await waitFor('2300 signals', async () => ((await signals(nc, names.streams.signals)).filter(ours).length >= 2300 ? true : undefined), 120_000);
      const published = (await signals(nc, names.streams.signals)).filter(ours);
      expect(published).toHaveLength(2300);
      // Pods that do not exist have no owners: the same answer for every later signal of theirs.
      expect(published.every((s) => (s.ownerChain as unknown[]).length === 0 && s.node === undefined)).toBe(true);
    } finally {
      await replica.handle.shutdown('test done');
    }
  }, 300_000);
});
