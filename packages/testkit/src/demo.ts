import { randomBytes } from 'node:crypto';
import { LOCAL_HOST } from '@cortexops/config';
import { incidentWorkflowId, remediationStateQuery, WORKFLOW_TYPES } from '@cortexops/contracts';
import { Client, Connection } from '@temporalio/client';
import { stackPorts } from './stack/context.js';
import { demoDeployment } from './stack/servers/kubernetes/kwok.js';
import { kubectl, waitFor } from './stack/servers/kubernetes/kubectl.js';
import { DEMO_NAMESPACE } from './stack/servers/kubernetes/paths.js';
import type { StackContext } from './stack/types.js';
import { temporalAddress } from './testing.js';
import { workflowRecord } from './workflow-record.js';

export interface DemoOptions {
  readonly temporalNamespace?: string;
  /** How long the injected failure may take to reach its incident workflow. */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface DemoResult {
  readonly deployment: string;
  readonly pod: string;
  readonly incidentId: string;
  readonly workflowId: string;
  readonly state: string;
  readonly temporalUi: string;
}

/** kwok schedules and runs a pod in a second or two; a loaded machine may take much longer. */
const POD_TIMEOUT_MS = 90_000;
/** Where ingestion keeps a Kubernetes event's uid on the signal (services/ingestion normalise). */
const EVENT_UID_ANNOTATION = 'k8s.event.uid';
/** Marks the Deployments a demo created. */
const DEMO_LABEL = 'cortexops.io/demo';

interface PodList {
  readonly items: { metadata: { name: string; uid: string }; spec: { nodeName?: string }; status: { phase?: string } }[];
}

/** A fresh Deployment in the demo namespace (a target no earlier demo left an incident on), with one Running pod. */
async function freshWorkload(ctx: StackContext, name: string, timeoutMs: number): Promise<PodList['items'][number]> {
  const manifest = demoDeployment();
  const labels = { app: name };
  const deployment = {
    ...manifest,
    metadata: { ...manifest.metadata, name, labels: { ...labels, [DEMO_LABEL]: 'true' } },
    spec: { ...manifest.spec, replicas: 1, selector: { matchLabels: labels }, template: { ...manifest.spec.template, metadata: { labels } } },
  };
  await kubectl(ctx, ['create', '-f', '-'], { stdin: JSON.stringify(deployment) });
  return waitFor(`a Running pod of ${DEMO_NAMESPACE}/${name}`, timeoutMs, async () => {
    const pods = JSON.parse(await kubectl(ctx, ['get', 'pods', '-n', DEMO_NAMESPACE, '-l', `app=${name}`, '-o', 'json'])) as PodList;
    return pods.items.find((p) => p.status.phase === 'Running' && p.spec.nodeName);
  });
}

/** What the kubelet reports when a container is killed for memory: a Warning event on the pod. */
function oomEvent(pod: PodList['items'][number], suffix: string) {
  const now = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata.name}.${suffix}`, namespace: DEMO_NAMESPACE },
    type: 'Warning',
    reason: 'OOMKilling',
    message: `Memory cgroup out of memory: Killed process 4242 (checkout) (cortexops demo ${suffix})`,
    involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace: DEMO_NAMESPACE, uid: pod.metadata.uid },
    source: { component: 'kubelet', host: pod.spec.nodeName },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

/**
 * What runs today, end to end, on the local stack with its services (`make up`): a failure injected into a fresh
 * Deployment of the local cluster (a Warning `OOMKilling` event on its pod) is watched by ingestion, grouped by
 * the correlator into an incident on the Deployment (or the open incident of the pod's node, by topology), and
 * reaches that incident's remediation workflow on Temporal. Resolves with where to look; rejects naming the step
 * that did not happen in time.
 */
export async function runDemo(ctx: StackContext, options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 90_000;
  const suffix = randomBytes(3).toString('hex');
  const name = `checkout-demo-${suffix}`;

  // Earlier demos' Deployments go; this one stays for a look until the next demo.
  await kubectl(ctx, ['delete', 'deployment', '-n', DEMO_NAMESPACE, '-l', `${DEMO_LABEL}=true`, '--ignore-not-found', '--wait=false']);
  const pod = await freshWorkload(ctx, name, POD_TIMEOUT_MS);
  log(`deployment ${DEMO_NAMESPACE}/${name}: pod ${pod.metadata.name} Running on ${pod.spec.nodeName ?? '?'}`);
  const created = JSON.parse(await kubectl(ctx, ['create', '-f', '-', '-o', 'json'], { stdin: JSON.stringify(oomEvent(pod, suffix)) })) as { metadata: { uid: string } };
  const eventUid = created.metadata.uid;
  log(`injected: Warning OOMKilling on pod ${pod.metadata.name}`);

  const connection = await Connection.connect({ address: temporalAddress(ctx) });
  try {
    const client = new Client({ connection, namespace: options.temporalNamespace ?? 'default' });
    // The incident may be a new one on the Deployment, or an open one it joined (its node's, by topology).
    const query = `WorkflowType = '${WORKFLOW_TYPES.remediation}' AND ExecutionStatus = 'Running'`;
    const found = await waitFor(`the incident workflow that received the event on ${DEMO_NAMESPACE}/${pod.metadata.name} (ingestion → correlator → Temporal)`, timeoutMs, async () => {
      for await (const execution of client.workflow.list({ query })) {
        const incidentId = execution.workflowId.replace(/^incident-/, '');
        const record = await workflowRecord(client, incidentId).catch(() => undefined);
        if (record?.signals.some((signal) => signal.annotations[EVENT_UID_ANNOTATION] === eventUid)) return { incidentId, incident: record.input.incident };
      }
      return undefined;
    });
    const { incidentId, incident } = found;
    const workflowId = incidentWorkflowId(incidentId);
    const { state } = await client.workflow.getHandle(workflowId).query(remediationStateQuery);
    const temporalUi = `http://${LOCAL_HOST}:${stackPorts(ctx).temporalUiPort}/namespaces/${client.options.namespace}/workflows/${workflowId}`;
    const target = `${incident.target.kind} ${incident.target.namespace ? `${incident.target.namespace}/` : ''}${incident.target.name}`;
    log(`incident ${incidentId} on ${target}${incident.rootCause ? ` (root cause ${incident.rootCause.kind} ${incident.rootCause.name}: its open incident explains the pod)` : ''}: workflow ${workflowId} is ${state}`);
    log(`follow it in the Temporal UI: ${temporalUi}`);
    return { deployment: name, pod: pod.metadata.name, incidentId, workflowId, state, temporalUi };
  } finally {
    await connection.close();
  }
}
