import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { AuditStore } from '@cortexops/audit';
import {
  type ActionReceipt,
  type AuditRecord,
  ANNOTATIONS,
  HTTP_PATHS,
  type OperatingMode,
  remediationStateQuery,
  type RemediationStateView,
  type Signal,
  signalSubject,
  type WorkflowState,
} from '@cortexops/contracts';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { connect, type NatsConnection } from 'nats';
import { kubeletEventSignal, enrolForRemediation, memoryLimitedDeployment } from '../remediation.js';
import { spawnService, type ServiceProcess } from '../service-process.js';
import { REPO_ROOT } from '../stack/context.js';
import { runningPid } from '../stack/process.js';
import { kubectl } from '../stack/servers/kubernetes/kubectl.js';
import { kwokNode } from '../stack/servers/kubernetes/kwok.js';
import { kubeconfigPaths } from '../stack/servers/kubernetes/paths.js';
import type { StackContext } from '../stack/types.js';
import { createTestDatabase, createTestNamespace, sharedStack, privateStack, temporalAddress, uniqueName, type TestDatabase } from '../testing.js';
import { natsConnectOptions, natsEnv } from '../stack/nats-auth.js';
import { workflowRecord } from '../workflow-record.js';
import { pollUntil } from './poll.js';
import type { ScenarioContext } from './runner.js';

const run = promisify(execFile);

/** Servers a scenario may kill or restart: each then runs as a private instance of its own, never the shared one. */
export type KillableServer = 'postgres' | 'temporal';

export interface EnvironmentOptions {
  /** Operating mode of the scenario's namespace (default `auto`). */
  readonly mode?: OperatingMode;
  /** Private instances of these (NATS is always private: the services' default stream names are the scenario's own). */
  readonly privateServers?: readonly KillableServer[];
  /** An approvals service of the scenario's own (and a personal token for {@link APPROVER}). */
  readonly approvals?: boolean;
  /** An ingestion service of the scenario's own (Alertmanager webhook; pod owners read from the cluster, no event watch). */
  readonly ingestion?: boolean;
  /** Start no worker (incidents are counted, not remediated). */
  readonly noWorker?: boolean;
  readonly correlatorEnv?: Record<string, string>;
  readonly workerEnv?: Record<string, string>;
}

/** One alert of a webhook notification, as kube-prometheus labels a pod's alert. */
export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly fingerprint: string;
}

/** A firing alert `alertname` about `pod` of the scenario's namespace. */
export function podAlert(namespace: string, pod: string, alertname: string, container = 'app'): WebhookAlert {
  return {
    status: 'firing',
    labels: { alertname, namespace, pod, container, severity: 'critical' },
    // No summary: the title is the alert name, which the heuristics read (a free-text summary they do not).
    annotations: {},
    startsAt: new Date().toISOString(),
    fingerprint: createHash('sha256').update(`${alertname}/${namespace}/${pod}/${container}`).digest('hex').slice(0, 16),
  };
}

/** Keeps every other pod off a scenario's own node. */
const CHAOS_TAINT = { key: 'cortexops.io/chaos', value: 'true', effect: 'NoSchedule' } as const;

/** The on-call person who approves in the scenarios that wait for a human. */
export const APPROVER = 'oncall@example.com';

/**
 * Verification for chaos runs (the local Prometheus scrapes kube-state-metrics every 5 s): the rollout may take 30 s,
 * the change settles 6 s, then five measurements 3 s apart of which two must succeed.
 */
const CHAOS_VERIFY = {
  CORTEXOPS_VERIFY_ROLLOUT_TIMEOUT_MS: '30000',
  CORTEXOPS_VERIFY_STABILISATION_MS: '6000',
  CORTEXOPS_VERIFY_INTERVAL_MS: '3000',
  CORTEXOPS_VERIFY_COUNT: '5',
  CORTEXOPS_VERIFY_MIN_SAMPLES: '2',
} as const;

export interface DeploymentJson {
  readonly metadata: { uid: string; generation: number; annotations?: Record<string, string> };
  readonly spec: { replicas: number; template: { spec: { containers: { resources?: { limits?: { memory?: string } } }[] } & Record<string, unknown> } & Record<string, unknown> };
  readonly status?: { availableReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}

/**
 * One scenario's own CortexOps beside the shared stack: a private NATS (and private PostgreSQL and Temporal when the
 * scenario kills them), a Temporal namespace, a database, a Kubernetes namespace enrolled for the worker, and the
 * correlator, worker (and approvals) as their own processes, exactly as `make up` starts them. The shared
 * Prometheus, kube-state-metrics and API server are only read (and the scenario's namespace written). Everything is
 * registered with the scenario's cleanups as it is created, so a scenario that fails half-way removes what it made.
 */
export class ChaosEnvironment {
  private readonly workers: ServiceProcess[] = [];
  private approvalsService: ServiceProcess | undefined;
  private approverToken: string | undefined;
  private ingestionService: ServiceProcess | undefined;

  private constructor(
    private readonly scenario: ScenarioContext,
    /** The shared stack (Kubernetes, Prometheus, and the servers not made private). */
    readonly shared: StackContext,
    /** The scenario's private servers (NATS always; PostgreSQL and Temporal when asked for). */
    readonly own: StackContext,
    private readonly ownLauncher: Awaited<ReturnType<typeof privateStack>>['launcher'],
    readonly nc: NatsConnection,
    readonly client: Client,
    readonly database: TestDatabase,
    readonly audit: AuditStore,
    readonly namespace: string,
    readonly temporalNamespace: string,
    readonly workerEnv: Record<string, string>,
    readonly correlator: ServiceProcess,
  ) {}

  static async start(scenario: ScenarioContext, prefix: string, options: EnvironmentOptions = {}): Promise<ChaosEnvironment> {
    const privateServers = options.privateServers ?? [];
    const shared = await sharedServersHealthy();
    const own = await privateStack(`chaos-${prefix}`);
    scenario.defer(() => own.dispose());
    await own.launcher.up(['nats', ...privateServers]);
    scenario.step(`private servers up: ${['nats', ...privateServers].join(', ')} (on ports of their own; the shared stack is not touched)`);
    const temporalCtx = privateServers.includes('temporal') ? own.ctx : shared;
    const postgresCtx = privateServers.includes('postgres') ? own.ctx : shared;

    const nc = await connect({ ...natsConnectOptions(own.ctx), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    scenario.defer(() => nc.close());
    const temporalNamespace = await createTestNamespace(temporalCtx, `chaos-${prefix}`);
    const connection = await Connection.connect({ address: temporalAddress(temporalCtx) });
    scenario.defer(() => connection.close());
    const client = new Client({ connection, namespace: temporalNamespace });
    scenario.defer(() => terminateRunning(client));
    const database = await createTestDatabase(postgresCtx, `chaos_${prefix}`);
    scenario.defer(() => database.drop());
    const audit = await AuditStore.create({ databaseUrl: database.url });
    scenario.defer(() => audit.close());
    const namespace = uniqueName(`chaos-${prefix}`).replace(/_/g, '-');
    scenario.defer(() => kubectl(shared, ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']));
    await enrolForRemediation(shared, namespace);

    const scratch = mkdtempSync(join(tmpdir(), 'cortexops-chaos-'));
    scenario.defer(async () => rmSync(scratch, { recursive: true, force: true }));
    const policyData = join(scratch, 'data.json');
    writeFileSync(policyData, JSON.stringify(policyFor(namespace, options.mode ?? 'auto')));
    const signingKey = generateKeyPairSync('ed25519');
    const signingKeyFile = join(scratch, 'approvals-signing.pem');
    writeFileSync(signingKeyFile, signingKey.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const apiToken = randomBytes(32).toString('hex');

    const common = {
      ...natsEnv(own.ctx),
      CORTEXOPS_TEMPORAL_ADDRESS: temporalAddress(temporalCtx),
      CORTEXOPS_TEMPORAL_NAMESPACE: temporalNamespace,
      CORTEXOPS_DATABASE_URL: database.url,
      // File storage: a NATS restart keeps the streams and the correlator's state.
      CORTEXOPS_JS_STORAGE: 'file',
    };
    // Each service as its own NATS user (least privilege, as the stack runs them).
    const correlator = await spawnService('correlator', { ...common, ...natsEnv(own.ctx, 'correlator'), CORTEXOPS_CORRELATOR_MIN_SIGNALS: '1', ...options.correlatorEnv });
    scenario.defer(() => correlator.terminate());
    scenario.diagnose(() => `--- correlator (last lines):\n${correlator.output().slice(-2500)}`);
    await correlator.waitForHealth((status) => status === 200, scenario.remainingMs());
    const workerEnv: Record<string, string> = {
      ...common,
      ...natsEnv(own.ctx, 'worker'),
      ...CHAOS_VERIFY,
      CORTEXOPS_WORKER_KUBECONFIG: kubeconfigPaths(shared).worker,
      CORTEXOPS_POLICY_DATA: policyData,
      CORTEXOPS_ENVIRONMENTS: `${namespace}=development`,
      CORTEXOPS_MAX_MEMORY: '256Gi',
      CORTEXOPS_APPROVALS_VERIFY_KEYS: signingKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      ...options.workerEnv,
    };
    const env = new ChaosEnvironment(scenario, shared, own.ctx, own.launcher, nc, client, database, audit, namespace, temporalNamespace, workerEnv, correlator);
    if (options.approvals) {
      const approvals = await spawnService('approvals', { ...common, CORTEXOPS_APPROVALS_API_TOKEN: apiToken, CORTEXOPS_APPROVALS_SIGNING_KEY_FILE: signingKeyFile });
      scenario.defer(() => approvals.terminate());
      await approvals.waitForHealth((status) => status === 200, scenario.remainingMs());
      env.approvalsService = approvals;
      env.approverToken = (await approvalsCli(['tokens', 'create', '--name', APPROVER, '--expires-in', '1', '--by', 'cortexops-demo-failure'], { CORTEXOPS_DATABASE_URL: database.url })).trim();
      Object.assign(workerEnv, { CORTEXOPS_APPROVALS_URL: approvals.baseUrl, CORTEXOPS_APPROVALS_API_TOKEN: apiToken });
    }
    if (options.ingestion) {
      // Its own NATS, the cluster's pod owners for alerts; the event watch stays off (it would take every namespace's
      // Warning events, other runs' included).
      const ingestion = await spawnService('ingestion', { ...common, ...natsEnv(own.ctx, 'ingestion'), CORTEXOPS_KUBECONFIG: kubeconfigPaths(shared).ingestion, CORTEXOPS_INGESTION_WATCH_EVENTS: 'false' });
      scenario.defer(() => ingestion.terminate());
      scenario.diagnose(() => `--- ingestion (last lines):\n${ingestion.output().slice(-2500)}`);
      await ingestion.waitForHealth((status) => status === 200, scenario.remainingMs());
      env.ingestionService = ingestion;
    }
    if (!options.noWorker) await env.startWorker();
    scenario.step(`CortexOps of its own: ${[options.ingestion && 'ingestion', 'correlator', options.approvals && 'approvals', !options.noWorker && 'worker'].filter(Boolean).join(', ')} processes; Temporal namespace ${temporalNamespace}, Kubernetes namespace ${namespace} (${options.mode ?? 'auto'})`);
    return env;
  }

  /** Starts one more worker process (after a kill); it is stopped with the scenario. */
  async startWorker(): Promise<ServiceProcess> {
    const worker = await spawnService('worker', this.workerEnv);
    this.workers.push(worker);
    this.scenario.defer(() => worker.terminate());
    this.scenario.diagnose(() => `--- worker pid ${worker.child.pid ?? '?'} (last lines):\n${worker.output().slice(-4000)}`);
    await worker.waitForHealth((status) => status === 200, this.scenario.remainingMs());
    return worker;
  }

  get worker(): ServiceProcess {
    const worker = this.workers.at(-1);
    if (!worker) throw new Error('no worker running');
    return worker;
  }

  /** Stops (SIGINT/SIGTERM as `make down` would) or starts again one of the scenario's private servers. */
  async stopServer(name: 'nats' | KillableServer): Promise<void> {
    await this.ownLauncher.down([name]);
  }

  /** Kills (SIGKILL) one of the scenario's private servers: no shutdown, no flush. Resolves with its pid. */
  killServer(name: 'nats' | KillableServer): number {
    const pid = runningPid(this.own, name);
    if (pid === undefined) throw new Error(`${name} of the scenario is not running`);
    process.kill(pid, 'SIGKILL');
    return pid;
  }

  async startServer(name: 'nats' | KillableServer): Promise<void> {
    await this.ownLauncher.up([name]);
  }

  /**
   * A kwok node of the scenario's own (64Gi, tainted: nothing else lands on it), deleted with the scenario: what fits
   * on it does not depend on what other runs left on the shared nodes.
   */
  async ownNode(): Promise<string> {
    const name = uniqueName('kwok-chaos').replace(/_/g, '-');
    const node = kwokNode(name);
    this.scenario.defer(() => kubectl(this.shared, ['delete', 'node', name, '--ignore-not-found', '--wait=false']));
    await kubectl(this.shared, ['create', '-f', '-'], { stdin: JSON.stringify({ ...node, spec: { taints: [CHAOS_TAINT] } }) });
    await kubectl(this.shared, ['wait', '--for=condition=Ready', `node/${name}`, `--timeout=${Math.max(1, Math.floor(this.scenario.remainingMs() / 1000))}s`]);
    this.scenario.step(`kwok node ${name} of its own (64Gi, tainted)`);
    return name;
  }

  /** A Deployment of `replicas` Running kwok pods with one container limited to `memory` (on `node` when given), available. */
  async deploy(name: string, memory: string, replicas = 1, node?: string): Promise<{ before: DeploymentJson; pods: string[] }> {
    const manifest = memoryLimitedDeployment(this.namespace, name, memory, replicas);
    const podSpec = manifest.spec.template.spec;
    const pinned = node === undefined ? podSpec : { ...podSpec, nodeSelector: { 'kubernetes.io/hostname': node }, tolerations: [{ ...CHAOS_TAINT, operator: 'Equal' }] };
    const deployment = { ...manifest, spec: { ...manifest.spec, template: { ...manifest.spec.template, spec: pinned } } };
    await kubectl(this.shared, ['apply', '-f', '-'], { stdin: JSON.stringify(deployment) });
    await pollUntil(this.scenario, `Deployment ${this.namespace}/${name} available with ${replicas} pod(s)`, async () =>
      (await this.deployment(name)).status?.availableReplicas === replicas ? true : undefined,
    );
    return { before: await this.deployment(name), pods: await this.pods(name) };
  }

  async deployment(name: string): Promise<DeploymentJson> {
    return JSON.parse(await kubectl(this.shared, ['get', 'deployment', '-n', this.namespace, name, '-o', 'json'])) as DeploymentJson;
  }

  async pods(app: string): Promise<string[]> {
    const list = JSON.parse(await kubectl(this.shared, ['get', 'pods', '-n', this.namespace, '-l', `app=${app}`, '-o', 'json'])) as { items: { metadata: { name: string } }[] };
    return list.items.map((p) => p.metadata.name);
  }

  /** What ingestion publishes for a kubelet Warning event on one of the workload's pods. */
  signal(workload: string, pod: string, reason: string, overrides: Partial<Signal> = {}): Signal {
    return kubeletEventSignal({ namespace: this.namespace, workload, pod, reason }, overrides);
  }

  /** Publishes `signal` on SIGNALS as ingestion does (a fresh message id each time: a redelivery is a new message). */
  async publish(signal: Signal): Promise<void> {
    await this.nc.jetstream().publish(signalSubject(signal.cluster, signal.namespace), new TextEncoder().encode(JSON.stringify(signal)), { msgID: `${signal.id}-${randomBytes(4).toString('hex')}` });
  }

  /** Every incident workflow of the scenario's Temporal namespace, with the ids of the signals it received. */
  async incidents(): Promise<{ workflowId: string; incidentId: string; target: string; status: string; signalIds: string[]; runs: number }[]> {
    const found = [];
    for await (const execution of this.client.workflow.list()) {
      const incidentId = execution.workflowId.replace(/^incident-/, '');
      const record = await workflowRecord(this.client, incidentId);
      const t = record.input.incident.target;
      found.push({ workflowId: execution.workflowId, incidentId, target: `${t.kind} ${t.namespace ?? ''}/${t.name}`, status: execution.status.name, signalIds: record.signals.map((s) => s.id), runs: record.runs });
    }
    return found;
  }

  /**
   * A Deployment `name` (one pod, limit `memory`, on `node` when given) whose pod is OOM-killed, reported as ingestion
   * reports the kubelet's event; resolves with the incident's workflow.
   */
  async oomIncident(name: string, memory: string, node?: string) {
    const { before, pods } = await this.deploy(name, memory, 1, node);
    const signal = this.signal(name, pods[0]!, 'OOMKilling');
    await this.publish(signal);
    const handle = await this.workflowOf(signal.id);
    return { before, pod: pods[0]!, signal, handle, incidentId: handle.workflowId.replace(/^incident-/, '') };
  }

  /** Every signal the incidents' workflows received (start and later signals). */
  async signalsOf(incidentIds: readonly string[]): Promise<Signal[]> {
    const records = await Promise.all(incidentIds.map((id) => workflowRecord(this.client, id)));
    return records.flatMap((r) => r.signals);
  }

  /** kubectl as the cluster's administrator. */
  kubectl(args: readonly string[]): Promise<string> {
    return kubectl(this.shared, args);
  }

  /** The incident workflow that received the signal `signalId` (whatever incident id the correlator chose). */
  async workflowOf(signalId: string): Promise<WorkflowHandle> {
    const workflowId = await pollUntil(this.scenario, `the incident workflow that received signal ${signalId} (correlator → Temporal)`, async () =>
      (await this.incidents()).find((i) => i.signalIds.includes(signalId))?.workflowId,
    );
    return this.client.workflow.getHandle(workflowId);
  }

  async view(handle: WorkflowHandle): Promise<RemediationStateView> {
    return handle.query(remediationStateQuery);
  }

  /** Waits until the workflow is in `state` (shown as a progress line). */
  async waitForState(handle: WorkflowHandle, state: WorkflowState): Promise<RemediationStateView> {
    let last: WorkflowState | undefined;
    const view = await pollUntil(
      this.scenario,
      `${handle.workflowId} in ${state}`,
      async () => {
        const v = await this.view(handle);
        last = v.state;
        return v.state === state ? v : undefined;
      },
      () => `it is ${last ?? 'not answering its state query'}`,
    );
    this.scenario.step(`${handle.workflowId} is ${state}`);
    return view;
  }

  /** Waits for a terminal state and returns the final view. */
  async finalView(handle: WorkflowHandle): Promise<RemediationStateView> {
    const result = (await Promise.race([handle.result(), aborted(this.scenario.signal)])) as { state: WorkflowState };
    this.scenario.step(`${handle.workflowId} ended ${result.state}`);
    return this.view(handle);
  }

  /** Every audit record of the incident, oldest first. */
  async trail(incidentId: string): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    let afterSequence: number | undefined;
    do {
      const page = await this.audit.query({ incidentId, limit: 1000, ...(afterSequence === undefined ? {} : { afterSequence }) });
      records.push(...page.records);
      afterSequence = page.nextAfterSequence;
    } while (afterSequence !== undefined);
    return records;
  }

  /** The workflow states the audit store holds for the incident, in order. */
  async auditedStates(incidentId: string): Promise<string[]> {
    return (await this.trail(incidentId)).filter((r) => r.kind === 'workflow.state').map((r) => String(r.payload['to']));
  }

  async receipts(incidentId: string): Promise<ActionReceipt[]> {
    return this.audit.listActionReceipts(incidentId);
  }

  /**
   * Exactly once, from the two places that record a change: the audit store (one `action.applied`, one receipt, both
   * naming the remediation id) and the cluster (the Deployment's generation moved by one, its annotation names that id).
   */
  async checkAppliedOnce(handle: WorkflowHandle, name: string, before: DeploymentJson, memory: string): Promise<void> {
    const check = this.scenario.check;
    const incidentId = handle.workflowId.replace(/^incident-/, '');
    const remediationId = `${handle.workflowId}-a1`;
    const applied = (await this.trail(incidentId)).filter((r) => r.kind === 'action.applied').map((r) => String(r.payload['remediationId']));
    check('audit: one action.applied', applied.length === 1 && applied[0] === remediationId, `${applied.length}: ${applied.join(', ')}`);
    const receipts = (await this.receipts(incidentId)).map((r) => r.remediationId);
    check('audit: one receipt', receipts.length === 1 && receipts[0] === remediationId, receipts.join(', '));
    const after = await this.deployment(name);
    const generations = after.metadata.generation - before.metadata.generation;
    check('cluster: one template change', generations === 1, `generation ${before.metadata.generation} → ${after.metadata.generation}`);
    const annotation = after.metadata.annotations?.[ANNOTATIONS.remediationId];
    check(`cluster: ${ANNOTATIONS.remediationId} names it`, annotation === remediationId, annotation ?? 'none');
    const limit = after.spec.template.spec.containers[0]?.resources?.limits?.memory;
    check(`cluster: memory limit ${memory}`, limit === memory, limit ?? 'none');
  }

  async checkChainVerifies(): Promise<void> {
    const verified = await this.audit.verify();
    this.scenario.check('audit chain verifies', verified.ok, verified.ok ? `${verified.rows} rows` : `${verified.reason} at #${verified.firstBadSequence}`);
  }

  /**
   * Posts an Alertmanager webhook notification (payload version 4) to the scenario's ingestion, and, as Alertmanager
   * does, posts it again after a failed attempt until it is taken (200) or the scenario's time is up. Resolves with
   * the number of attempts.
   */
  async notify(groupKey: string, alerts: readonly WebhookAlert[]): Promise<number> {
    if (!this.ingestionService) throw new Error('the scenario has no ingestion service (start it with ingestion: true)');
    const body = JSON.stringify({ version: '4', groupKey, status: 'firing', receiver: 'cortexops', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, alerts });
    const url = `${this.ingestionService.baseUrl}${HTTP_PATHS.alertmanagerWebhook}`;
    let attempts = 0;
    let last = '';
    while (!this.scenario.signal.aborted && this.scenario.remainingMs() > 0) {
      attempts += 1;
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
        if (response.ok) return attempts;
        last = `${response.status} ${(await response.text()).slice(0, 200)}`;
        if (response.status < 500) throw new Error(`the webhook refused ${groupKey}: ${last}`);
      } catch (error) {
        if ((error as Error).message.startsWith('the webhook refused')) throw error;
        last = (error as Error).message;
      }
      await sleep(500);
    }
    throw new Error(`webhook notification ${groupKey} never taken (last: ${last})`);
  }

  /** Approves the plan waiting for `incidentId` through the approvals service, as the on-call person (the CLI with their token). */
  async approve(incidentId: string): Promise<string> {
    if (!this.approvalsService || !this.approverToken) throw new Error('the scenario has no approvals service (start it with approvals: true)');
    const out = await approvalsCli(['approve', incidentId, '--api-url', this.approvalsService.baseUrl, '--token', this.approverToken, '--output', 'json']);
    this.scenario.step(`approved by ${APPROVER} through the approvals service (cortexops-approve approve ${incidentId})`);
    return out;
  }
}

/** What every scenario reads on the shared stack; checked, never started nor restarted here (`make up` starts it). */
const SHARED_SERVERS = ['postgres', 'temporal', 'prometheus', 'kube-controller-manager', 'kwok', 'kube-state-metrics'] as const;

async function sharedServersHealthy(): Promise<StackContext> {
  const launcher = sharedStack();
  const down = (await launcher.status([...SHARED_SERVERS])).filter((s) => !s.healthy);
  if (down.length > 0) throw new Error(`the local stack is not up (${down.map((s) => `${s.name}: ${s.problem ?? 'unhealthy'}`).join(', ')}): run \`make up\` first`);
  return launcher.ctx;
}

/** The repository's policy data with the scenario's namespace in `mode` and bounds for memory-hungry kwok pods. */
function policyFor(namespace: string, mode: OperatingMode) {
  const data = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', 'policy', 'policy', 'data.json'), 'utf8')) as {
    remediation_policy: Record<string, unknown> & { modes: { namespaces: Record<string, string> } };
  };
  data.remediation_policy.modes.namespaces[namespace] = mode;
  data.remediation_policy['bounds'] = { maxReplicas: 50, maxMemory: '256Gi' };
  return data;
}

/** Runs the approvals service's CLI (`cortexops-approve`); resolves with its standard output. */
async function approvalsCli(args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services', 'approvals', 'src', 'cli-main.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return stdout;
}

async function terminateRunning(client: Client): Promise<void> {
  for await (const execution of client.workflow.list({ query: "ExecutionStatus = 'Running'" })) {
    await client.workflow.getHandle(execution.workflowId).terminate('chaos scenario over').catch(() => undefined);
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Error('aborted'));
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
}
