import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '@cortexops/audit';
import {
  type ApprovalDecision,
  decisionSigningPayload,
  incidentWorkflowId,
  type OperatingMode,
  remediationStateQuery,
  type RemediationStateView,
  type Signal,
  signalSubject,
  type WorkflowState,
} from '@cortexops/contracts';
import { publishWithId } from '@cortexops/messaging';
import { DEFAULT_DATA_PATH } from '@cortexops/policy';
import {
  createTestDatabase,
  enrolForRemediation,
  kubeletEventSignal,
  memoryLimitedDeployment,
  createTestNamespace,
  ensureServers,
  kubeconfigPaths,
  kubectl,
  privateStack,
  spawnService,
  temporalAddress,
  uniqueName,
  workflowRecord,
  type PrivateStack,
  type ServiceProcess,
  type StackContext,
  type TestDatabase,
  natsConnectOptions,
  natsEnv,
} from '@cortexops/testkit';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { connect, type NatsConnection } from 'nats';
import { expect } from 'vitest';

/** The worker's token to the approvals service (posts requests and notes; never decides). */
export const API_TOKEN = 'remediation-test-token-0123456789abcdef';

/**
 * The approvals service's signing key in these tests: the worker verifies decisions with its public half; the
 * approvals service (when a test starts one) signs with the private half, and {@link RemediationHarness.signed} stands
 * in for it where a test delivers a decision to the workflow itself.
 */
const signing = generateKeyPairSync('ed25519');
const VERIFY_KEY = signing.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
/**
 * Short verification for tests: the rollout may take 30 s (a loaded CI machine schedules kwok pods slowly; a rollout
 * that cannot complete fails after that), then the change settles for 6 s, then five measurements 3 s apart, two must
 * succeed (the local Prometheus scrapes kube-state-metrics every 5 s; a rate needs two scrapes of the new pods).
 */
export const FAST_VERIFY = {
  CORTEXOPS_VERIFY_ROLLOUT_TIMEOUT_MS: '30000',
  CORTEXOPS_VERIFY_STABILISATION_MS: '6000',
  CORTEXOPS_VERIFY_INTERVAL_MS: '3000',
  CORTEXOPS_VERIFY_COUNT: '5',
  CORTEXOPS_VERIFY_MIN_SAMPLES: '2',
} as const;
export const WAIT = { timeout: 90_000, interval: 250 };

export interface Workload {
  readonly name: string;
  /** Memory limit of its one container (no request: Kubernetes defaults the request to the limit). */
  readonly memory: string;
  readonly replicas?: number;
}

export interface HarnessOptions {
  /** Operating mode of the test's namespace in the policy data. */
  readonly mode?: OperatingMode;
  /** Policy data changes on top of the repository's data.json (`remediation_policy` keys). */
  readonly policy?: (policy: Record<string, unknown>) => void;
  /** Environment of the test's namespace (default `development`: every action allowed, no production rules). */
  readonly environment?: string;
  readonly workerEnv?: Record<string, string>;
  readonly correlatorEnv?: Record<string, string>;
  /** JetStream storage of the private NATS (`file` keeps the streams across a NATS restart). */
  readonly jsStorage?: 'file' | 'memory';
  /** Extra variables for an approvals service (started when given). */
  readonly approvalsEnv?: Record<string, string>;
}

/**
 * The remediation path on real servers, from the correlator's input to the cluster: a private NATS (so the default
 * stream and subject names are this file's own), a Temporal namespace, a PostgreSQL database, a Kubernetes namespace
 * enrolled for the worker, the shared Prometheus with kube-state-metrics, and the correlator, worker (and approvals)
 * services as their own processes, exactly as `make up` starts them.
 */
export class RemediationHarness {
  private constructor(
    readonly ctx: StackContext,
    readonly nats: PrivateStack,
    readonly nc: NatsConnection,
    readonly client: Client,
    private readonly connection: Connection,
    readonly database: TestDatabase,
    readonly audit: AuditStore,
    readonly namespace: string,
    readonly temporalNamespace: string,
    private readonly policyDir: string,
    readonly workerEnv: Record<string, string>,
    readonly correlator: ServiceProcess,
    readonly approvals: ServiceProcess | undefined,
  ) {}

  private readonly workers: ServiceProcess[] = [];

  static async start(prefix: string, options: HarnessOptions = {}): Promise<RemediationHarness> {
    const ctx = await ensureServers(['postgres', 'temporal', 'prometheus', 'kwok', 'kube-state-metrics']);
    const nats = await privateStack(`${prefix}-nats`);
    await nats.launcher.up(['nats']);
    const nc = await connect(natsConnectOptions(nats.ctx));
    const temporalNamespace = await createTestNamespace(ctx, prefix);
    const connection = await Connection.connect({ address: temporalAddress(ctx) });
    const client = new Client({ connection, namespace: temporalNamespace });
    const database = await createTestDatabase(ctx, prefix);
    const audit = await AuditStore.create({ databaseUrl: database.url });
    const namespace = uniqueName(prefix).replace(/_/g, '-');
    await enrolForRemediation(ctx, namespace);

    const policyDir = mkdtempSync(join(tmpdir(), 'cortexops-policy-'));
    const data = JSON.parse(readFileSync(DEFAULT_DATA_PATH, 'utf8')) as { remediation_policy: Record<string, unknown> & { modes: { namespaces: Record<string, string> } } };
    data.remediation_policy.modes.namespaces[namespace] = options.mode ?? 'auto';
    // The tests' workloads ask for tens of GiB so that a raise can outgrow a kwok node (64 GiB).
    data.remediation_policy['bounds'] = { maxReplicas: 50, maxMemory: '256Gi' };
    options.policy?.(data.remediation_policy);
    writeFileSync(join(policyDir, 'data.json'), JSON.stringify(data));

    const common = {
      ...natsEnv(nats.ctx),
      CORTEXOPS_TEMPORAL_ADDRESS: temporalAddress(ctx),
      CORTEXOPS_TEMPORAL_NAMESPACE: temporalNamespace,
      CORTEXOPS_DATABASE_URL: database.url,
      CORTEXOPS_JS_STORAGE: options.jsStorage ?? 'memory',
    };
    const signingKeyFile = join(policyDir, 'approvals-signing.pem');
    writeFileSync(signingKeyFile, signing.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    let approvals: ServiceProcess | undefined;
    if (options.approvalsEnv) {
      approvals = await spawnService('approvals', { ...common, CORTEXOPS_APPROVALS_API_TOKEN: API_TOKEN, CORTEXOPS_APPROVALS_SIGNING_KEY_FILE: signingKeyFile, ...options.approvalsEnv });
      await approvals.waitForHealth((status) => status === 200, 120_000);
    }
    // Each service as its own NATS user, as the stack runs them.
    const correlator = await spawnService('correlator', { ...common, ...natsEnv(nats.ctx, 'correlator'), CORTEXOPS_CORRELATOR_MIN_SIGNALS: '1', ...options.correlatorEnv });
    await correlator.waitForHealth((status) => status === 200, 120_000);
    const workerEnv = {
      ...common,
      ...natsEnv(nats.ctx, 'worker'),
      ...FAST_VERIFY,
      CORTEXOPS_WORKER_KUBECONFIG: kubeconfigPaths(ctx).worker,
      CORTEXOPS_POLICY_DATA: join(policyDir, 'data.json'),
      CORTEXOPS_ENVIRONMENTS: `${namespace}=${options.environment ?? 'development'}`,
      CORTEXOPS_MAX_MEMORY: '256Gi',
      CORTEXOPS_APPROVALS_VERIFY_KEYS: VERIFY_KEY,
      // Without an approvals service the worker posts nothing (decisions come through the workflow update).
      ...(approvals ? { CORTEXOPS_APPROVALS_URL: approvals.baseUrl, CORTEXOPS_APPROVALS_API_TOKEN: API_TOKEN } : {}),
      ...options.workerEnv,
    };
    const harness = new RemediationHarness(ctx, nats, nc, client, connection, database, audit, namespace, temporalNamespace, policyDir, workerEnv, correlator, approvals);
    await harness.startWorker();
    return harness;
  }

  /** A decision signed as the approvals service signs it (for tests that deliver it to the workflow themselves). */
  signed(decision: Omit<ApprovalDecision, 'signature'>): ApprovalDecision {
    return { ...decision, signature: sign(null, Buffer.from(decisionSigningPayload(decision)), signing.privateKey).toString('hex') };
  }

  /** Issues a personal approver token with the approvals CLI (`cortexops-approve tokens create`), as an administrator would. */
  async issueToken(name: string): Promise<string> {
    const bin = join(this.ctx.repoRoot, 'services', 'approvals', 'bin', 'cortexops-approve.js');
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'tokens', 'create', '--name', name, '--expires-in', '1', '--by', 'test-admin'], {
      env: { ...process.env, CORTEXOPS_DATABASE_URL: this.database.url },
    });
    return stdout.trim();
  }

  /** Starts one more worker process (after a kill, or with other variables). */
  async startWorker(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const worker = await spawnService('worker', { ...this.workerEnv, ...env });
    this.workers.push(worker);
    await worker.waitForHealth((status) => status === 200, 180_000);
    return worker;
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }

  get worker(): ServiceProcess {
    const worker = this.workers.at(-1);
    if (!worker) throw new Error('no worker running');
    return worker;
  }

  /** Creates a Deployment with `replicas` Running kwok pods and waits until it is available. */
  async deploy(workload: Workload): Promise<{ uid: string; pods: { name: string; uid: string }[] }> {
    const manifest = memoryLimitedDeployment(this.namespace, workload.name, workload.memory, workload.replicas);
    await kubectl(this.ctx, ['apply', '-f', '-'], { stdin: JSON.stringify(manifest) });
    await expect
      .poll(async () => (await this.deployment(workload.name)).status?.availableReplicas ?? 0, WAIT)
      .toBe(workload.replicas ?? 1);
    const deployment = await this.deployment(workload.name);
    return { uid: deployment.metadata.uid, pods: await this.pods(workload.name) };
  }

  async deployment(name: string): Promise<DeploymentJson> {
    return JSON.parse(await kubectl(this.ctx, ['get', 'deployment', '-n', this.namespace, name, '-o', 'json'])) as DeploymentJson;
  }

  async pods(app: string): Promise<{ name: string; uid: string }[]> {
    const list = JSON.parse(await kubectl(this.ctx, ['get', 'pods', '-n', this.namespace, '-l', `app=${app}`, '-o', 'json'])) as { items: { metadata: { name: string; uid: string } }[] };
    return list.items.map((p) => ({ name: p.metadata.name, uid: p.metadata.uid }));
  }

  /**
   * What ingestion publishes for a kubelet Warning event on one of the workload's pods (owner chain read from the
   * cluster): the correlator's input. Equal `key`s make equal fingerprints (the same problem).
   */
  signal(workload: string, pod: string, reason: string, overrides: Partial<Signal> = {}): Signal {
    return kubeletEventSignal({ namespace: this.namespace, workload, pod, reason }, overrides);
  }

  /** Publishes a signal on SIGNALS as ingestion does (a fresh message id each call: a redelivery is a new message). */
  async publish(signal: Signal): Promise<void> {
    await publishWithId(this.nc.jetstream(), signalSubject(signal.cluster, signal.namespace), new TextEncoder().encode(JSON.stringify(signal)), `${signal.id}-${randomBytes(4).toString('hex')}`);
  }

  /** The incident workflow that received `signal` (whatever incident id the correlator chose). */
  async workflowOf(signal: Signal): Promise<WorkflowHandle> {
    let found: string | undefined;
    await expect
      .poll(async () => {
        for await (const execution of this.client.workflow.list()) {
          const record = await workflowRecord(this.client, execution.workflowId.replace(/^incident-/, ''));
          if (record.signals.some((s) => s.id === signal.id)) found = execution.workflowId;
        }
        return found;
      }, WAIT)
      .toBeDefined()
      .catch((error: unknown) => {
        throw new Error(`no workflow received signal ${signal.id}\n--- correlator:\n${this.correlator.output().slice(-3000)}\n--- worker:\n${this.worker.output().slice(-3000)}`, { cause: error });
      });
    return this.client.workflow.getHandle(found!);
  }

  async view(handle: WorkflowHandle): Promise<RemediationStateView> {
    return handle.query(remediationStateQuery);
  }

  async waitForState(handle: WorkflowHandle, state: WorkflowState): Promise<RemediationStateView> {
    await expect.poll(async () => (await this.view(handle)).state, WAIT).toBe(state);
    return this.view(handle);
  }

  /** Every audit record of the incident, oldest first. */
  async trail(incidentId: string) {
    return (await this.audit.query({ incidentId, limit: 1000 })).records;
  }

  static incidentIdOf(handle: WorkflowHandle): string {
    return handle.workflowId.replace(/^incident-/, '');
  }

  async dispose(): Promise<void> {
    await this.stopWorkers();
    await this.correlator.terminate();
    await this.approvals?.terminate();
    // Workflows still running (an approval test that ended early) must not outlive the test's namespace.
    for await (const execution of this.client.workflow.list({ query: "ExecutionStatus = 'Running'" })) {
      await this.client.workflow.getHandle(execution.workflowId).terminate('test over').catch(() => undefined);
    }
    await this.connection.close();
    await this.nc.close();
    await this.nats.dispose();
    await this.audit.close();
    await this.database.drop();
    await kubectl(this.ctx, ['delete', 'namespace', this.namespace, '--wait=false', '--ignore-not-found']);
    rmSync(this.policyDir, { recursive: true, force: true });
  }
}

export interface DeploymentJson {
  metadata: { uid: string; generation: number; resourceVersion: string; annotations?: Record<string, string> };
  spec: { replicas: number; template: { metadata?: { annotations?: Record<string, string> }; spec: { containers: { name: string; env?: unknown[]; resources?: { limits?: { memory?: string } } }[] } } };
  status?: { availableReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}

export { incidentWorkflowId };
