import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_HOST } from '@cortexops/config';
import {
  createTestNamespace,
  ensureServers,
  freePort,
  IncidentWatch,
  kubeconfigPaths,
  kubectl,
  kwokNode,
  makeNodeNotReady,
  makeNodeReady,
  makePodCrashLoop,
  setPodReady,
  privateStack,
  ruleFileFromPrometheusRules,
  spawnService,
  stackPorts,
  startNodeExporterStub,
  startRulesPrometheus,
  temporalAddress,
  uniqueName,
  type IncidentView,
  type NodeExporterStub,
  type PrivateStack,
  type RulesPrometheus,
  type ServiceProcess,
  type StackContext,
  natsEnv,
} from '@cortexops/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, waitFor, type InProcessIngestion } from '../support.js';

/**
 * Issue 9's "done when", with real shapes end to end: kube-prometheus' published rules (kubernetes-mixin,
 * node-exporter-mixin; `for:` shortened) evaluated by a real Prometheus over series it scrapes — kube-state-metrics
 * of the local cluster, where this file makes real objects fail, and a node-exporter-shaped exporter — then the real
 * Alertmanager (the stack's configuration), ingestion's webhook and the correlator, which opens incidents on Temporal.
 *
 * This file's own: a private NATS and Alertmanager, ingestion (in this process), a correlator process, a Temporal
 * namespace, a Prometheus, a namespace and a kwok node. Its Prometheus keeps only series of that namespace and node,
 * so the shared cluster's other objects raise nothing here; nothing it does emits a Kubernetes event.
 *
 * Topology: the mixin's pod alerts (KubePodCrashLooping, KubePodNotReady) carry no `node` label; ingestion reads the
 * pod's node from its informer (`spec.nodeName`), so while a node's incident is open they join it. The Deployment's own
 * alerts (KubeDeploymentReplicasMismatch) name no node and no pod: they stay the Deployment's.
 */

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/mixin');
const MANIFESTS = ['kubernetesControlPlane', 'kubeStateMetrics', 'nodeExporter'].map((name) => readFileSync(join(FIXTURES, `${name}-prometheusRule.yaml`), 'utf8'));
/** The alerting groups the scenarios need and the recording rules they read (kubelet.rules for KubeletPlegDurationHigh). */
const RULE_GROUPS = ['kubernetes-apps', 'kubernetes-system-kubelet', 'kubelet.rules', 'node-exporter', 'node-exporter.rules', 'kube-state-metrics'];
/** Every non-zero `for:` of the rules (15m, 30m, 1h ...) becomes this. */
const FOR = '2s';
const WAIT = 60_000;
const GiB = 1024 ** 3;
const ROOT_FS = { device: '/dev/nvme0n1p1', fstype: 'ext4', mountpoint: '/', sizeBytes: 100 * GiB } as const;

const suffix = uniqueName('mx').replace(/[^a-z0-9]/g, '').slice(-10);
const namespace = `mixin-${suffix}`;
const node = `kwok-mixin-${suffix}`;
/** A second node of this file's, for topology (the first one's incident has resolved by then). */
const topologyNode = `kwok-mixin-${suffix}-t`;
const MARK = 'cortexops.io/mixin-test';

let cluster: StackContext;
let stack: PrivateStack;
let ingestion: InProcessIngestion;
let correlator: ServiceProcess;
let watch: IncidentWatch;
let exporter: NodeExporterStub;
let prometheus: RulesPrometheus;
const previousIngestionPort = process.env.CORTEXOPS_INGESTION_PORT;

/** A kwok node of this file's own, tainted so that only what this file pins there runs on it. */
function testNode(name = node) {
  const base = kwokNode(name);
  return { ...base, metadata: { ...base.metadata, labels: { ...base.metadata.labels, [MARK]: suffix } }, spec: { taints: [{ key: MARK, value: suffix, effect: 'NoSchedule' }] } };
}

function deployment(name: string, replicas: number, pinnedTo?: string) {
  const labels = { app: name };
  // Pinned: runs on that node of this file's only (its taint tolerated, its name selected).
  const placement = pinnedTo === undefined ? {} : { nodeSelector: { 'kubernetes.io/hostname': pinnedTo }, tolerations: [{ key: MARK, operator: 'Equal', value: suffix, effect: 'NoSchedule' }] };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { ...placement, containers: [{ name: 'app', image: `registry.cortexops.local/mixin/${name}:1` }] } } },
  };
}

async function available(name: string): Promise<number> {
  const out = await kubectl(cluster, ['get', 'deployment', name, '-n', namespace, '-o', 'jsonpath={.status.availableReplicas}']);
  return Number(out || '0');
}

/**
 * Scrape jobs as kube-prometheus' ServiceMonitors make them. kube-state-metrics: `honor_labels`, the target's
 * `container` label (kube-rbac-proxy-main), only this file's namespace and node kept. node-exporter: the exporter
 * pod's target labels, `instance` relabelled to the pod's node exactly as `nodeExporter-serviceMonitor.yaml` does.
 */
function scrapeConfigs(exporterTarget: string) {
  return [
    {
      job_name: 'kube-state-metrics',
      honor_labels: true,
      static_configs: [{ targets: [`${LOCAL_HOST}:${stackPorts(cluster).kubeStateMetricsPort}`], labels: { container: 'kube-rbac-proxy-main' } }],
      metric_relabel_configs: [{ action: 'keep', source_labels: ['namespace', 'node'], separator: ';', regex: `${namespace};.*|;(${node}|${topologyNode})` }],
    },
    {
      job_name: 'node-exporter',
      static_configs: [
        {
          targets: [exporterTarget],
          labels: { namespace: 'monitoring', pod: `node-exporter-${suffix.slice(-5)}`, service: 'node-exporter', endpoint: 'https', container: 'kube-rbac-proxy', __meta_kubernetes_pod_node_name: node },
        },
      ],
      relabel_configs: [{ action: 'replace', regex: '(.*)', replacement: '$1', source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'instance' }],
    },
  ];
}

beforeAll(async () => {
  cluster = await ensureServers(['temporal', 'kwok', 'kube-state-metrics', 'alertmanager']);
  // The private Alertmanager is rendered from deploy/alertmanager/alertmanager.local.yml: its webhook goes to this port.
  process.env.CORTEXOPS_INGESTION_PORT = String(await freePort());
  stack = await privateStack('mixin');
  await stack.launcher.up(['nats', 'alertmanager']);
  const alertmanagerUrl = `http://${LOCAL_HOST}:${stackPorts(stack.ctx).alertmanagerPort}`;
  ingestion = await startInProcess(
    {
      ...natsEnv(stack.ctx),
      CORTEXOPS_INGESTION_PORT: process.env.CORTEXOPS_INGESTION_PORT,
      CORTEXOPS_JS_STORAGE: 'memory',
      CORTEXOPS_KUBECONFIG: kubeconfigPaths(cluster).ingestion,
      CORTEXOPS_INGESTION_WATCH_EVENTS: 'false',
      CORTEXOPS_INGESTION_OWNER_LOOKUP_TIMEOUT_MS: '9000',
    },
    {},
  );
  const temporalNamespace = await createTestNamespace(cluster, 'mixin');
  correlator = await spawnService('correlator', {
    ...natsEnv(stack.ctx),
    CORTEXOPS_TEMPORAL_ADDRESS: temporalAddress(cluster),
    CORTEXOPS_TEMPORAL_NAMESPACE: temporalNamespace,
    CORTEXOPS_JS_STORAGE: 'memory',
  });
  watch = await IncidentWatch.open(cluster, temporalNamespace);

  await kubectl(cluster, ['create', 'namespace', namespace]);
  await kubectl(cluster, ['create', '-f', '-'], { stdin: JSON.stringify(testNode()) });
  await kubectl(cluster, ['create', '-f', '-'], { stdin: JSON.stringify(testNode(topologyNode)) });
  await kubectl(cluster, ['create', '-f', '-'], { stdin: JSON.stringify(deployment('web', 2)) });
  await kubectl(cluster, ['wait', '--for=condition=Ready', `node/${node}`, '--timeout=60s']);
  await kubectl(cluster, ['create', '-f', '-'], { stdin: JSON.stringify(deployment('api', 2)) });
  await kubectl(cluster, ['wait', '--for=condition=Ready', `node/${topologyNode}`, '--timeout=60s']);
  await kubectl(cluster, ['create', '-f', '-'], { stdin: JSON.stringify(deployment('db', 1, topologyNode)) });
  await waitFor('web, api and db available', async () => ((await available('web')) === 2 && (await available('api')) === 2 && (await available('db')) === 1 ? true : undefined), WAIT);
  await correlator.waitForHealth((status) => status === 200, WAIT);

  exporter = await startNodeExporterStub();
  exporter.setFilesystem({ ...ROOT_FS, availBytes: 60 * GiB });
  // Started once the objects have settled: KubeDeploymentReplicasMismatch asks that the updated replicas did not
  // change for 10 minutes, which this Prometheus's history then starts with.
  prometheus = await startRulesPrometheus(stack.ctx, {
    rules: ruleFileFromPrometheusRules(MANIFESTS, { groups: RULE_GROUPS, forDuration: FOR }),
    scrapeConfigs: scrapeConfigs(exporter.target),
    alertmanagerUrl,
    // What kube-prometheus' Prometheus adds to every alert (prometheus-operator drops the prometheus_replica label from alerts).
    externalLabels: { prometheus: 'monitoring/k8s' },
  });
}, 240_000);

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.close();
  await watch?.terminateAll('mixin test over');
  await watch?.close();
  await correlator?.terminate();
  await ingestion?.handle.shutdown('mixin test over');
  await stack?.dispose();
  if (cluster) {
    await kubectl(cluster, ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
    await kubectl(cluster, ['delete', 'node', node, topologyNode, '--ignore-not-found', '--wait=false']);
  }
  if (previousIngestionPort === undefined) delete process.env.CORTEXOPS_INGESTION_PORT;
  else process.env.CORTEXOPS_INGESTION_PORT = previousIngestionPort;
}, 120_000);

/** Polls the incidents until `pick` finds what it waits for; a timeout says what there was (incidents, alerts). */
async function incident(what: string, pick: (all: IncidentView[]) => IncidentView | undefined): Promise<IncidentView> {
  try {
    return await waitFor(what, async () => pick(await watch.incidents()), WAIT);
  } catch (error) {
    const incidents = (await watch.incidents()).map((i) => ({ target: i.incident.target, reasons: [...i.reasons], resolved: i.resolved }));
    const alerts = (await prometheus.alerts()).map((a) => `${a.labels.alertname ?? '?'} ${a.state} ${JSON.stringify(a.labels)}`);
    throw new Error(`${(error as Error).message}\nincidents: ${JSON.stringify(incidents)}\nPrometheus alerts:\n${alerts.join('\n')}`, { cause: error });
  }
}

const on = (kind: string, name: string) => (i: IncidentView) => i.incident.target.kind === kind && i.incident.target.name === name;

describe('mixin — published kube-prometheus rules through the real Prometheus and Alertmanager to incidents', () => {
  it('node — one warning node-exporter alert opens an incident on the Node (never the Job node-exporter); KubeNodeNotReady joins it; both resolved, it resolves', async () => {
    // 4 % left: NodeFilesystemAlmostOutOfSpace's warning rule (< 5 %), not its critical one (< 3 %).
    exporter.setFilesystem({ ...ROOT_FS, availBytes: 4 * GiB });
    const opened = await incident('an incident on the node', (all) => all.find(on('Node', node)));
    expect(opened.incident).toMatchObject({ target: { kind: 'Node', name: node }, severity: 'warning', status: 'open' });
    expect(opened.incident.target.namespace).toBeUndefined();
    expect(opened.incident.signalIds).toHaveLength(1);
    expect([...opened.reasons]).toEqual(['NodeFilesystemAlmostOutOfSpace']);

    await makeNodeNotReady(cluster, node);
    const both = await incident('KubeNodeNotReady on the node incident', (all) => all.find((i) => on('Node', node)(i) && i.reasons.has('KubeNodeNotReady')));
    expect(both.workflowId).toBe(opened.workflowId);

    exporter.setFilesystem({ ...ROOT_FS, availBytes: 60 * GiB });
    await makeNodeReady(cluster, node);
    const resolved = await incident('the node incident resolved', (all) => all.find((i) => i.workflowId === opened.workflowId && i.resolved));
    expect([...resolved.reasons]).toEqual(expect.arrayContaining(['NodeFilesystemAlmostOutOfSpace', 'KubeNodeNotReady']));

    const all = await watch.incidents();
    // The scrape label job (node-exporter, kube-state-metrics) never became an object.
    expect(all.filter((i) => i.incident.target.kind === 'Job')).toEqual([]);
    expect(all.filter(on('Node', node))).toHaveLength(1);
  });

  it('workload — a crash-looping pod: its pod alerts and the Deployment\'s replicas alert are one incident, on the Deployment', async () => {
    const pods = (await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter(Boolean);
    expect(pods).toHaveLength(2);
    await makePodCrashLoop(cluster, namespace, pods[0]!, 'app');
    // KubeContainerWaiting leaves CrashLoopBackOff to KubePodCrashLooping (reason!="CrashLoopBackOff").
    const expected = ['KubePodCrashLooping', 'KubePodNotReady', 'KubeDeploymentReplicasMismatch'];
    const web = await incident('the three alerts on one incident', (all) => all.find((i) => on('Deployment', 'web')(i) && expected.every((a) => i.reasons.has(a))));
    expect(web.incident.target).toEqual({ kind: 'Deployment', namespace, name: 'web' });
    expect(web.incident.status).toBe('open');
    const ofNamespace = (await watch.incidents()).filter((i) => i.incident.target.namespace === namespace);
    // Never the Pod or its ReplicaSet: every alert of the workload reached the Deployment's one incident.
    expect(ofNamespace.filter((i) => i.incident.target.kind !== 'Deployment')).toEqual([]);
    expect(ofNamespace.filter(on('Deployment', 'web')).map((i) => i.workflowId)).toEqual([web.workflowId]);
  });

  it('workload resolves — a pod not Ready and its Deployment short of replicas: one incident on the Deployment; Ready again, both alerts resolve and so does the incident', async () => {
    const pods = (await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', 'app=api', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter(Boolean);
    expect(pods).toHaveLength(2);
    await setPodReady(cluster, namespace, pods[0]!, false);
    const expected = ['KubePodNotReady', 'KubeDeploymentReplicasMismatch'];
    const api = await incident('the pod and Deployment alerts on one incident', (all) => all.find((i) => on('Deployment', 'api')(i) && expected.every((a) => i.reasons.has(a))));
    expect(api.incident.target).toEqual({ kind: 'Deployment', namespace, name: 'api' });

    await setPodReady(cluster, namespace, pods[0]!, true);
    // The resolved pod alert groups where its firing one did (the owner chain of a pod that still lives), so the incident closes.
    const resolved = await incident('the api incident resolved', (all) => all.find((i) => i.workflowId === api.workflowId && i.resolved));
    expect([...resolved.reasons].sort()).toEqual([...expected].sort());
    expect((await watch.incidents()).filter(on('Deployment', 'api'))).toHaveLength(1);
  });

  it('topology — while a NotReady node\'s incident is open, its pod\'s KubePodCrashLooping (no node label: ingestion reads the pod\'s node) joins the node\'s incident instead of opening its workload\'s', async () => {
    const [pod] = (await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', 'app=db', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter(Boolean);
    expect(pod).toBeDefined();
    expect(await kubectl(cluster, ['get', 'pod', pod!, '-n', namespace, '-o', 'jsonpath={.spec.nodeName}'])).toBe(topologyNode);
    await makeNodeNotReady(cluster, topologyNode);
    const opened = await incident('an incident on the NotReady node', (all) => all.find((i) => on('Node', topologyNode)(i) && i.reasons.has('KubeNodeNotReady')));

    await makePodCrashLoop(cluster, namespace, pod!, 'app');
    const absorbed = await incident('the pod alert on the node incident', (all) => all.find((i) => i.workflowId === opened.workflowId && i.reasons.has('KubePodCrashLooping')));
    expect(absorbed.incident.target).toEqual({ kind: 'Node', name: topologyNode });
    expect(absorbed.incident.rootCause).toEqual({ kind: 'Node', name: topologyNode });
    // Not the Pod's, nor its Deployment's: the pod alert opened nothing of its own. (KubeDeploymentReplicasMismatch
    // names the Deployment and no node: if it fires, it is the Deployment's.)
    const ofDb = (await watch.incidents()).filter((i) => i.incident.target.namespace === namespace && (on('Deployment', 'db')(i) || i.incident.target.kind === 'Pod'));
    expect(ofDb.filter((i) => i.reasons.has('KubePodCrashLooping'))).toEqual([]);
    expect((await watch.incidents()).filter(on('Node', topologyNode))).toHaveLength(1);
  });

  it('no object — KubeletDown (nodes without a kubelet scrape: this Prometheus has none) names no object and opens an incident on its alert group', async () => {
    const kubeletDown = await incident('an incident of KubeletDown', (all) => all.find((i) => i.reasons.has('KubeletDown')));
    expect(kubeletDown.incident).toMatchObject({ target: { kind: 'Service', name: 'alert-kubelet-down' }, severity: 'critical' });
    expect(kubeletDown.incident.target.namespace).toBeUndefined();
  });
});
