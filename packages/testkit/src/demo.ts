import { randomBytes } from 'node:crypto';
import { AuditStore } from '@cortexops/audit';
import { LOCAL_HOST } from '@cortexops/config';
import {
  ANNOTATIONS,
  type AuditRecord,
  incidentWorkflowId,
  type Measurement,
  remediationStateQuery,
  type RemediationStateView,
  TERMINAL_STATES,
  WORKFLOW_TYPES,
} from '@cortexops/contracts';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { stackPorts } from './stack/context.js';
import { demoDeployment, kwokNode } from './stack/servers/kubernetes/kwok.js';
import { kubectl, waitFor } from './stack/servers/kubernetes/kubectl.js';
import { DEMO_NAMESPACE } from './stack/servers/kubernetes/paths.js';
import { postgresUrl } from './stack/servers/postgres.js';
import type { StackContext } from './stack/types.js';
import { temporalAddress } from './testing.js';
import { workflowRecord } from './workflow-record.js';

export interface DemoOptions {
  readonly temporalNamespace?: string;
  /** Kubernetes namespace of the demo's Deployment (default `demo`, enrolled as `auto` in the policy data). */
  readonly namespace?: string;
  /** How long the whole path may take, injection to final state (each step fails naming itself when the deadline passes). */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface DemoResult {
  readonly deployment: string;
  readonly node: string;
  readonly pod: string;
  readonly incidentId: string;
  readonly workflowId: string;
  readonly state: string;
  readonly outcome: string;
  /** The container's memory limit read back from the cluster after the workflow ended. */
  readonly memoryLimit: string;
  /** Injection → final state. */
  readonly millis: number;
  readonly temporalUi: string;
}

/** kwok schedules and runs a pod in a second or two; a loaded machine may take much longer. */
const POD_TIMEOUT_MS = 90_000;
/** Where ingestion keeps a Kubernetes event's uid on the signal (services/ingestion normalise). */
const EVENT_UID_ANNOTATION = 'k8s.event.uid';
/** Marks the Deployments and nodes a demo created; the value is the demo's namespace. */
const DEMO_LABEL = 'cortexops.io/demo';
/** Keeps every other pod off a demo's node. */
const DEMO_TAINT = { key: DEMO_LABEL, value: 'true', effect: 'NoSchedule' } as const;
const POLL_MS = 250;
/** What the demo shows when the path works: the low-risk automatic remediation. */
const EXPECTED_STATE = 'RESOLVED';

interface Pod {
  readonly metadata: { name: string; uid: string };
  readonly spec: { nodeName?: string };
  readonly status: { phase?: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const clock = (iso: string) => iso.slice(11, 23);

/**
 * A kwok node of this demo's own (tainted: nothing else lands on it). A pod on a fresh node cannot be absorbed by an
 * incident another run left open on a shared node (the correlator groups a pod's signal with its node's open incident).
 */
function demoNode(name: string, namespace: string) {
  const node = kwokNode(name);
  return { ...node, metadata: { ...node.metadata, labels: { ...node.metadata.labels, [DEMO_LABEL]: namespace } }, spec: { taints: [DEMO_TAINT] } };
}

/** A fresh Deployment of the demo's checkout (one container, memory limit 256Mi: the OOM rule can raise it) pinned to the demo's node. */
function demoWorkload(namespace: string, name: string, node: string) {
  const manifest = demoDeployment();
  const labels = { app: name };
  const template = manifest.spec.template;
  return {
    ...manifest,
    metadata: { ...manifest.metadata, namespace, name, labels: { ...labels, [DEMO_LABEL]: namespace } },
    spec: {
      ...manifest.spec,
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { ...template.spec, nodeSelector: { 'kubernetes.io/hostname': node }, tolerations: [{ ...DEMO_TAINT, operator: 'Equal' }] },
      },
    },
  };
}

async function runningPod(ctx: StackContext, namespace: string, name: string, timeoutMs: number): Promise<Pod> {
  return waitFor(`a Running pod of ${namespace}/${name}`, timeoutMs, async () => {
    const pods = JSON.parse(await kubectl(ctx, ['get', 'pods', '-n', namespace, '-l', `app=${name}`, '-o', 'json'])) as { items: Pod[] };
    return pods.items.find((p) => p.status.phase === 'Running' && p.spec.nodeName);
  });
}

/** What the kubelet reports when a container is killed for memory: a Warning event on the pod. */
function oomEvent(namespace: string, pod: Pod, suffix: string) {
  const now = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata.name}.${suffix}`, namespace },
    type: 'Warning',
    reason: 'OOMKilling',
    message: `Memory cgroup out of memory: Killed process 4242 (checkout) (cortexops demo ${suffix})`,
    involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace, uid: pod.metadata.uid },
    source: { component: 'kubelet', host: pod.spec.nodeName },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

/** Removes what earlier demos in `namespace` created: their Deployments (with their pods), then their nodes. */
export async function removeDemoObjects(ctx: StackContext, namespace: string = DEMO_NAMESPACE): Promise<void> {
  await kubectl(ctx, ['delete', 'deployment', '-n', namespace, '-l', `${DEMO_LABEL}=${namespace}`, '--ignore-not-found', '--wait=false']);
  await kubectl(ctx, ['delete', 'node', '-l', `${DEMO_LABEL}=${namespace}`, '--ignore-not-found', '--wait=false']);
}

/** The incident workflow that received the injected event (on the Deployment's own incident, or one it joined). */
async function workflowOfEvent(client: Client, eventUid: string, since: Date, timeoutMs: number, what: string) {
  // Started since the injection, or running from before (an open incident the signal may have joined).
  const query = `WorkflowType = '${WORKFLOW_TYPES.remediation}' AND (ExecutionStatus = 'Running' OR StartTime >= '${since.toISOString()}')`;
  return waitFor(what, timeoutMs, async () => {
    for await (const execution of client.workflow.list({ query })) {
      const incidentId = execution.workflowId.replace(/^incident-/, '');
      const record = await workflowRecord(client, incidentId).catch(() => undefined);
      if (record?.signals.some((signal) => signal.annotations[EVENT_UID_ANNOTATION] === eventUid)) return { incidentId, incident: record.input.incident };
    }
    return undefined;
  });
}

/** Prints each new state of the workflow as it happens (the query's history, with its time); resolves with the final view. */
async function follow(handle: WorkflowHandle, injectedAt: number, deadline: number, log: (line: string) => void): Promise<RemediationStateView> {
  let shown = 0;
  let last: RemediationStateView | undefined;
  for (;;) {
    const view = await handle.query(remediationStateQuery).catch(() => undefined);
    if (view) {
      last = view;
      for (const entry of view.history.slice(shown)) log(`  ${clock(entry.at)}  +${seconds(Date.parse(entry.at) - injectedAt).padStart(7)}  ${entry.state}`);
      shown = view.history.length;
      if (TERMINAL_STATES.has(view.state)) return view;
    }
    if (Date.now() >= deadline) {
      const since = last?.history.at(-1);
      throw new Error(
        since
          ? `the workflow did not leave ${since.state} (entered at ${clock(since.at)}) in time: the demo's deadline passed`
          : `the workflow did not answer its state query in time (is the worker running? \`make status\`)`,
      );
    }
    await sleep(POLL_MS);
  }
}

function measurementLine(m: Measurement): string {
  const checks = m.checks.map((c) => `${c.name}=${c.value ?? '-'} ${c.outcome}`).join(', ');
  return `  round ${m.round} ${clock(m.at)}  ${m.outcome.padEnd(12)} ${checks}`;
}

function printDetails(view: RemediationStateView, log: (line: string) => void): void {
  const { plan, dryRun, policy, verification } = view;
  if (plan) {
    log(`plan (${plan.source}${plan.rule ? `, rule ${plan.rule}` : ''}, risk ${plan.risk}):`);
    for (const action of plan.actions) log(`  ${JSON.stringify(action)}`);
    log(`  rationale: ${plan.rationale}`);
  }
  if (dryRun) {
    log(`dry run (server-side, plan hash ${dryRun.planHash.slice(0, 16)}…): ${dryRun.ok ? 'ok' : `failed: ${dryRun.error?.message ?? '?'}`}`);
    for (const action of dryRun.actions) for (const line of action.diff.split('\n')) log(`  ${line}`);
  }
  if (policy) {
    const reasons = policy.decisions.flatMap((d) => [...d.reasons, ...d.violations]);
    log(
      `policy: ${policy.allow ? 'allow' : 'deny'}, mode ${policy.mode}, ${policy.requireApproval ? 'approval required' : 'no approval required'}, environment ${policy.environment}, ` +
        `changes in the last hour ${policy.counts.targetActionsLastHour} (target) / ${policy.counts.clusterActionsLastHour} (cluster), bundle ${policy.bundleHash.slice(0, 12)}…`,
    );
    for (const reason of reasons) log(`  ${reason}`);
  }
  if (verification) {
    log(`verification: ${verification.verdict} — ${verification.reason}`);
    for (const m of verification.measurements) log(measurementLine(m));
  }
}

/** A short summary of an audit record's payload (the fields a person reads first; the record itself has everything). */
function auditLine(r: AuditRecord): string {
  const at = (path: string): string => {
    let value: unknown = r.payload;
    for (const key of path.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return value === undefined || value === null ? '-' : JSON.stringify(value);
  };
  const details: Partial<Record<AuditRecord['kind'], () => string>> = {
    'workflow.state': () => `${at('from')} → ${at('to')}`,
    'plan.proposed': () => `rule ${at('plan.rule')}, risk ${at('plan.risk')}`,
    'dryrun.completed': () => `ok ${at('report.ok')}, plan hash ${at('report.planHash').slice(0, 12)}…`,
    'policy.decision': () => `${at('verdict.allow') === 'true' ? 'allow' : 'deny'}, mode ${at('verdict.mode')}, approval ${at('verdict.requireApproval')} (${at('phase')})`,
    'action.applied': () => at('remediationId'),
    'verification.measured': () => `${at('phase')} round ${at('measurement.round')} ${at('measurement.outcome')}`,
    'verification.completed': () => at('verdict'),
    'approval.refused': () => `${at('code')}: ${at('reason')}`,
  };
  return `  #${String(r.sequence).padEnd(6)} ${clock(r.occurredAt)}  ${r.kind.padEnd(24)} ${r.actor.padEnd(13)} ${details[r.kind]?.() ?? ''}`;
}

/** The incident's audit trail in order, and whether the whole chain verifies. */
async function printAudit(ctx: StackContext, incidentId: string, log: (line: string) => void): Promise<void> {
  const audit = await AuditStore.create({ databaseUrl: postgresUrl(ctx), migrate: false });
  try {
    const records: AuditRecord[] = [];
    let afterSequence: number | undefined;
    do {
      const page = await audit.query({ incidentId, limit: 1000, ...(afterSequence === undefined ? {} : { afterSequence }) });
      records.push(...page.records);
      afterSequence = page.nextAfterSequence;
    } while (afterSequence !== undefined);
    log(`audit trail of incident ${incidentId} (${records.length} records):`);
    for (const r of records) log(auditLine(r));
    const verified = await audit.verify();
    log(
      verified.ok
        ? `audit chain verified: ${verified.rows} rows intact, head #${verified.headSequence} ${verified.headHash.slice(0, 16)}…`
        : `audit chain BROKEN at #${verified.firstBadSequence} (${verified.reason}): ${verified.detail}`,
    );
  } finally {
    await audit.close();
  }
}

/**
 * The whole path on the local stack with its services (`make up`): a fresh Deployment (one pod, memory limit 256Mi)
 * on a fresh kwok node gets a Warning `OOMKilling` event on its pod; ingestion watches it, the correlator opens an
 * incident on the Deployment and starts its remediation workflow, which diagnoses, plans raise-memory-limit (low
 * risk), dry-runs it, asks the policy (namespace `demo` is `auto`), applies it, verifies it against Prometheus and
 * ends RESOLVED. Prints each state as it happens, the plan, diff, policy decision, measurements, the new limit read
 * back from the cluster and the incident's audit trail. Rejects naming the step that did not happen in time, or the
 * final state when it is not RESOLVED.
 */
export async function runDemo(ctx: StackContext, options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 180_000;
  const namespace = options.namespace ?? DEMO_NAMESPACE;
  const suffix = randomBytes(3).toString('hex');
  const name = `checkout-demo-${suffix}`;
  const node = `kwok-demo-${suffix}`;

  // Earlier demos' Deployments and nodes go; this one stays for a look until the next demo.
  await removeDemoObjects(ctx, namespace);
  await kubectl(ctx, ['create', '-f', '-'], { stdin: JSON.stringify(demoNode(node, namespace)) });
  // The pod is created once its node is Ready: scheduled before, it would wait with a FailedScheduling event, and that
  // warning (not the injected failure) would be the incident's first signal.
  await kubectl(ctx, ['wait', '--for=condition=Ready', `node/${node}`, `--timeout=${Math.round(POD_TIMEOUT_MS / 1000)}s`]);
  await kubectl(ctx, ['create', '-f', '-'], { stdin: JSON.stringify(demoWorkload(namespace, name, node)) });
  const pod = await runningPod(ctx, namespace, name, POD_TIMEOUT_MS);
  log(`deployment ${namespace}/${name} (memory limit 256Mi): pod ${pod.metadata.name} Running on ${pod.spec.nodeName ?? '?'} (a node of this demo's own)`);

  const injectedAt = Date.now();
  const deadline = injectedAt + timeoutMs;
  const created = JSON.parse(await kubectl(ctx, ['create', '-f', '-', '-o', 'json'], { stdin: JSON.stringify(oomEvent(namespace, pod, suffix)) })) as { metadata: { uid: string } };
  log(`injected: Warning OOMKilling on pod ${pod.metadata.name} at ${clock(new Date(injectedAt).toISOString())}`);

  const connection = await Connection.connect({ address: temporalAddress(ctx) });
  try {
    const client = new Client({ connection, namespace: options.temporalNamespace ?? 'default' });
    const { incidentId, incident } = await workflowOfEvent(
      client,
      created.metadata.uid,
      new Date(injectedAt - 5_000),
      Math.max(0, deadline - Date.now()),
      `the incident workflow that received the event on ${namespace}/${pod.metadata.name} (ingestion → correlator → Temporal)`,
    );
    const workflowId = incidentWorkflowId(incidentId);
    const temporalUi = `http://${LOCAL_HOST}:${stackPorts(ctx).temporalUiPort}/namespaces/${client.options.namespace}/workflows/${workflowId}`;
    const target = `${incident.target.kind} ${incident.target.namespace ? `${incident.target.namespace}/` : ''}${incident.target.name}`;
    log(`incident ${incidentId} on ${target} (${seconds(Date.now() - injectedAt)} after the injection): workflow ${workflowId}`);
    log(`follow it in the Temporal UI: ${temporalUi}`);
    if (incident.target.kind !== 'Deployment' || incident.target.name !== name) {
      throw new Error(`the event joined incident ${incidentId} on ${target}${incident.rootCause ? ` (root cause ${incident.rootCause.kind} ${incident.rootCause.name})` : ''}, not one of its own Deployment: an open incident absorbed it`);
    }

    log('states:');
    const view = await follow(client.workflow.getHandle(workflowId), injectedAt, deadline, log);
    const millis = Date.parse(view.history.at(-1)?.at ?? new Date().toISOString()) - injectedAt;
    printDetails(view, log);
    log(`final state: ${view.state} — ${view.outcome ?? ''}`);
    log(`path: injection → ${view.state} in ${seconds(millis)}`);

    const deployment = JSON.parse(await kubectl(ctx, ['get', 'deployment', '-n', namespace, name, '-o', 'json'])) as {
      metadata: { annotations?: Record<string, string> };
      spec: { template: { spec: { containers: { resources?: { limits?: { memory?: string } } }[] } } };
    };
    const memoryLimit = deployment.spec.template.spec.containers[0]?.resources?.limits?.memory ?? '(none)';
    const remediationId = deployment.metadata.annotations?.[ANNOTATIONS.remediationId];
    log(`cluster: ${namespace}/${name} memory limit now ${memoryLimit}${remediationId ? `, ${ANNOTATIONS.remediationId}=${remediationId}` : ''}`);

    await printAudit(ctx, incidentId, log);
    if (view.state !== EXPECTED_STATE) throw new Error(`the workflow ended ${view.state}, not ${EXPECTED_STATE}: ${view.outcome ?? ''}`);
    return { deployment: name, node, pod: pod.metadata.name, incidentId, workflowId, state: view.state, outcome: view.outcome ?? '', memoryLimit, millis, temporalUi };
  } finally {
    await connection.close();
  }
}
