/**
 * Worker benchmarks on the local stack, against baselines measured in the same run. Everything runs on loopback and
 * is this run's own: a private NATS, a Temporal namespace, a PostgreSQL database, a Kubernetes namespace enrolled
 * like any other (all removed at the end); the shared Prometheus and kube-state-metrics are only read.
 *
 * 1. Alert received → change applied on the automatic path: a kubelet OOMKilling signal published on SIGNALS, the
 *    correlator (its own process) opens the incident, the worker (this process, real adapters) diagnoses, plans,
 *    dry-runs, checks the policy and applies; measured from the publish to the apply's time in the `action.applied`
 *    audit row (stabilisation and verification come after and are excluded). One incident at a time, each on its own
 *    Deployment. Baseline: the same dry run + apply through the cluster gateway, called directly.
 * 2. Completed remediation workflows per second: `throughput` incidents at once, each on its own Deployment, run to
 *    RESOLVED (apply, stabilisation, verification against Prometheus). Baselines on the same worker: a no-op workflow
 *    registered only by this benchmark's worker, (a) waiting the same stabilisation and verification windows as the
 *    real plan, (b) waiting nothing.
 *
 * Usage: pnpm --filter @cortexops/worker bench [incidents 10] [throughput 10] [budget seconds per stage 240]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AuditStore } from '@cortexops/audit';
import { loadServiceConfig } from '@cortexops/config';
import { type Action, type RemediationOutcome, type Signal, signalSubject, TASK_QUEUES, WORKFLOW_TYPES } from '@cortexops/contracts';
import { ClusterGateway } from '@cortexops/k8s';
import { publishWithId } from '@cortexops/messaging';
import { runService } from '@cortexops/observability';
import { DEFAULT_DATA_PATH } from '@cortexops/policy';
import {
  createTestDatabase,
  createTestNamespace,
  enrolForRemediation,
  ensureServers,
  freePort,
  kubeconfigPaths,
  kubectl,
  kubeletEventSignal,
  memoryLimitedDeployment,
  privateStack,
  spawnService,
  temporalAddress,
  uniqueName,
  type StackContext,
  natsConnectOptions,
  natsEnv,
} from '@cortexops/testkit';
import { Client, Connection } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { connect } from 'nats';
import { workflowBundleOptions } from '../src/bundle.js';
import { startWorker } from '../src/worker.js';

const require = createRequire(import.meta.url);
type Configuration = Parameters<NonNullable<NonNullable<WorkerOptions['bundlerOptions']>['webpackConfigHook']>>[0];
const INCIDENTS = Number(process.argv[2] ?? 10);
const THROUGHPUT = Number(process.argv[3] ?? 10);
const BUDGET_MS = Number(process.argv[4] ?? 240) * 1000;
const NOOP_COUNT = 50;
const GOAL_APPLIED_MS = 5000;
const GOAL_RATIO = 0.7;
/** The verification windows of the integration tests: settle 6 s, then 4 measurements 3 s apart, 2 must succeed. */
const VERIFY = { CORTEXOPS_VERIFY_STABILISATION_MS: '6000', CORTEXOPS_VERIFY_INTERVAL_MS: '3000', CORTEXOPS_VERIFY_COUNT: '4', CORTEXOPS_VERIFY_MIN_SAMPLES: '2' } as const;
const MEMORY = '256Mi';
const RAISED = '384Mi';

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function stats(values: readonly number[]): { p50: number; p95: number; max: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? Number.NaN, n: sorted.length };
}

/** Polls `probe` until it gives a value, within the stage's budget. */
async function until<T>(what: string, deadline: number, probe: () => Promise<T | undefined>, intervalMs = 20): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not happen within the budget`);
    await sleep(intervalMs);
  }
}

async function deploy(ctx: StackContext, namespace: string, names: readonly string[], deadline: number): Promise<void> {
  const items = names.map((name) => memoryLimitedDeployment(namespace, name, MEMORY));
  await kubectl(ctx, ['apply', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
  await until('Deployments available', deadline, async () => {
    const list = JSON.parse(await kubectl(ctx, ['get', 'deployments', '-n', namespace, '-o', 'json'])) as { items: { metadata: { name: string }; status?: { availableReplicas?: number } }[] };
    const ready = new Set(list.items.filter((d) => d.status?.availableReplicas === 1).map((d) => d.metadata.name));
    return names.every((n) => ready.has(n)) ? true : undefined;
  }, 500);
}

async function podOf(ctx: StackContext, namespace: string, app: string): Promise<string> {
  const list = JSON.parse(await kubectl(ctx, ['get', 'pods', '-n', namespace, '-l', `app=${app}`, '-o', 'json'])) as { items: { metadata: { name: string } }[] };
  const pod = list.items[0]?.metadata.name;
  if (pod === undefined) throw new Error(`bench: no pod of ${app}`);
  return pod;
}

/** What ingestion publishes for a kubelet OOMKilling event on the workload's pod. */
function oomSignal(namespace: string, workload: string, pod: string): Signal {
  return kubeletEventSignal({ namespace, workload, pod, reason: 'OOMKilling' });
}

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : '—');
const load = loadavg().map((l) => l.toFixed(2)).join(' ');
const ctx = await ensureServers(['postgres', 'temporal', 'prometheus', 'kwok', 'kube-state-metrics']);
const nats = await privateStack('wbench-nats');
const cleanups: (() => Promise<unknown>)[] = [];
const cleanup = async () => {
  for (const step of cleanups.reverse()) await step().catch((error: unknown) => console.error('bench cleanup:', (error as Error).message));
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  cleanups.push(() => nats.dispose());
  await nats.launcher.up(['nats']);
  const nc = await connect(natsConnectOptions(nats.ctx));
  cleanups.push(() => nc.close());
  const temporalNamespace = await createTestNamespace(ctx, 'wbench');
  const connection = await Connection.connect({ address: temporalAddress(ctx) });
  cleanups.push(async () => {
    await connection.operatorService.deleteNamespace({ namespace: temporalNamespace });
    await connection.close();
  });
  const client = new Client({ connection, namespace: temporalNamespace });
  cleanups.push(async () => {
    for await (const execution of client.workflow.list({ query: "ExecutionStatus = 'Running'" })) await client.workflow.getHandle(execution.workflowId).terminate('bench over');
  });
  const database = await createTestDatabase(ctx, 'wbench');
  cleanups.push(() => database.drop());
  const audit = await AuditStore.create({ databaseUrl: database.url });
  cleanups.push(() => audit.close());
  const namespace = uniqueName('wbench').replace(/_/g, '-');
  cleanups.push(() => kubectl(ctx, ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']));
  await enrolForRemediation(ctx, namespace);

  // The namespace in auto mode; the cluster-wide rate limit (20 an hour) would stop a run of more incidents.
  const policyDir = mkdtempSync(join(tmpdir(), 'cortexops-wbench-policy-'));
  cleanups.push(async () => rmSync(policyDir, { recursive: true, force: true }));
  const data = JSON.parse(readFileSync(DEFAULT_DATA_PATH, 'utf8')) as { remediation_policy: { modes: { namespaces: Record<string, string> }; rateLimits: Record<string, number> } };
  data.remediation_policy.modes.namespaces[namespace] = 'auto';
  data.remediation_policy.rateLimits.perClusterPerHour = 10_000;
  writeFileSync(join(policyDir, 'data.json'), JSON.stringify(data));

  const common = { ...natsEnv(nats.ctx), CORTEXOPS_TEMPORAL_ADDRESS: temporalAddress(ctx), CORTEXOPS_TEMPORAL_NAMESPACE: temporalNamespace, CORTEXOPS_DATABASE_URL: database.url, CORTEXOPS_JS_STORAGE: 'memory' };
  const correlator = await spawnService('correlator', { ...common, CORTEXOPS_CORRELATOR_MIN_SIGNALS: '1' });
  cleanups.push(() => correlator.terminate());
  await correlator.waitForHealth((status) => status === 200, 120_000);

  const workerConfig = loadServiceConfig('worker', {
    ...process.env,
    ...common,
    ...VERIFY,
    CORTEXOPS_WORKER_PORT: String(await freePort()),
    CORTEXOPS_WORKER_KUBECONFIG: kubeconfigPaths(ctx).worker,
    CORTEXOPS_POLICY_DATA: join(policyDir, 'data.json'),
    CORTEXOPS_ENVIRONMENTS: `${namespace}=development`,
    CORTEXOPS_APPROVALS_API_TOKEN: undefined,
  });
  let warnings = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings += chunk.toString().split('\n').filter((line) => /"level":"(warn|error|fatal)"/.test(line)).length;
      done();
    },
  });
  // The bench's workflows module lives outside the workflows package: the SDK's own imports resolve from there.
  const real = workflowBundleOptions();
  const workflowsModules = join(dirname(require.resolve('@cortexops/workflows')), '..', 'node_modules');
  const workflows = {
    workflowsPath: join(dirname(fileURLToPath(import.meta.url)), 'workflows.ts'),
    bundlerOptions: {
      webpackConfigHook: (config: Configuration) => {
        const hooked = real.bundlerOptions?.webpackConfigHook?.(config) ?? config;
        return { ...hooked, resolve: { ...hooked.resolve, modules: [...(hooked.resolve?.modules ?? ['node_modules']), workflowsModules] } };
      },
    },
  };
  const worker = await runService('worker', workerConfig, (context) => startWorker(workerConfig, context, { workflows }), { installSignalHandlers: false, logDestination: sink });
  cleanups.push(() => worker.shutdown('bench over'));

  const latency = Array.from({ length: INCIDENTS }, (_, i) => `lat-${i}`);
  const base = Array.from({ length: INCIDENTS }, (_, i) => `base-${i}`);
  const burst = Array.from({ length: THROUGHPUT }, (_, i) => `tp-${i}`);
  await deploy(ctx, namespace, [...latency, ...base, ...burst], Date.now() + BUDGET_MS);

  // 1. Alert received → change applied, one incident at a time.
  const stage1 = Date.now() + BUDGET_MS;
  const rows = { toStart: [] as number[], toApplying: [] as number[], toApplied: [] as number[] };
  for (const name of latency) {
    const signal = oomSignal(namespace, name, await podOf(ctx, namespace, name));
    const publishedAt = Date.now();
    await publishWithId(nc.jetstream(), signalSubject(signal.cluster, signal.namespace), new TextEncoder().encode(JSON.stringify(signal)), signal.id);
    const applied = await until(`${name} applied`, stage1, async () => (await audit.query({ kinds: ['action.applied'], limit: 1000 })).records.find((r) => String(r.payload['target']).endsWith(`/${name}`)));
    const states = (await audit.query({ incidentId: applied.incidentId!, kinds: ['workflow.state'], limit: 100 })).records;
    const at = (state: string) => Date.parse(states.find((r) => r.payload['to'] === state)?.occurredAt ?? 'x') - publishedAt;
    rows.toStart.push(at('DIAGNOSING'));
    rows.toApplying.push(at('APPLYING'));
    rows.toApplied.push(Date.parse(applied.occurredAt) - publishedAt);
  }
  const gateway = ClusterGateway.create({ kubeconfigPath: kubeconfigPaths(ctx).worker, bounds: { maxMemory: '4Gi', maxReplicas: 20 } });
  const direct: number[] = [];
  for (const name of base) {
    const action = { type: 'raise-memory-limit', kind: 'Deployment', namespace, name, container: 'app', memory: RAISED } as Action;
    const started = performance.now();
    await gateway.dryRun(action, `bench-${name}-a1`);
    await gateway.apply(action, `bench-${name}-a1`);
    direct.push(performance.now() - started);
  }
  // Stage 1's workflows verify and end before stage 2 starts counting.
  await until('stage 1 workflows ended', stage1, async () => {
    for await (const _ of client.workflow.list({ query: "ExecutionStatus = 'Running'" })) return undefined;
    return true;
  }, 500);

  // 2. Completed workflows per second: the same worker, the same number of workflows started at once.
  const verifyWindowMs = workerConfig.verifyStabilisationMs + (workerConfig.verifyCount - 1) * workerConfig.verifyIntervalMs;
  const closeTimes = async (ids: readonly string[]) => Promise.all(ids.map(async (id) => (await client.workflow.getHandle(id).describe()).closeTime!.getTime()));
  const noop = async (count: number, waitMs: number) => {
    const startedAt = Date.now();
    const handles = await Promise.all(
      Array.from({ length: count }, (_, i) => client.workflow.start('benchNoopWorkflow', { taskQueue: TASK_QUEUES.remediation, workflowId: `bench-noop-${waitMs}-${i}`, args: [waitMs] })),
    );
    await Promise.all(handles.map((h) => h.result()));
    const last = Math.max(...(await closeTimes(handles.map((h) => h.workflowId))));
    return { count, seconds: (last - startedAt) / 1000 };
  };
  const noopWindows = await noop(THROUGHPUT, verifyWindowMs);
  const noopBare = await noop(NOOP_COUNT, 0);

  const before = new Set<string>();
  for await (const execution of client.workflow.list()) before.add(execution.workflowId);
  const signals = await Promise.all(burst.map(async (name) => oomSignal(namespace, name, await podOf(ctx, namespace, name))));
  const burstAt = Date.now();
  await Promise.all(signals.map((s) => publishWithId(nc.jetstream(), signalSubject(s.cluster, s.namespace), new TextEncoder().encode(JSON.stringify(s)), s.id)));
  const ids = await until('throughput workflows started', Date.now() + BUDGET_MS, async () => {
    const found: string[] = [];
    for await (const execution of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPES.remediation}'` })) if (!before.has(execution.workflowId)) found.push(execution.workflowId);
    return found.length >= THROUGHPUT ? found : undefined;
  }, 200);
  const outcomes = await Promise.all(ids.map(async (id) => (await client.workflow.getHandle(id).result()) as RemediationOutcome));
  const remediation = { count: THROUGHPUT, seconds: (Math.max(...(await closeTimes(ids))) - burstAt) / 1000 };
  const states = outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o.state]: (acc[o.state] ?? 0) + 1 }), {});

  const s = { start: stats(rows.toStart), applying: stats(rows.toApplying), applied: stats(rows.toApplied), direct: stats(direct) };
  console.log(`\nAlert received → change applied: ${INCIDENTS} incidents one at a time (OOMKilling → raise-memory-limit on its own Deployment), auto namespace;`);
  console.log(`correlator as a process on a private loopback NATS, worker in this process on the local Temporal dev server, PostgreSQL, Kubernetes (kwok); load average at start ${load}\n`);
  console.log('| run | p50 ms | p95 ms | max ms |');
  console.log('|---|---:|---:|---:|');
  console.log(`| published → workflow DIAGNOSING | ${fmt(s.start.p50)} | ${fmt(s.start.p95)} | ${fmt(s.start.max)} |`);
  console.log(`| published → APPLYING | ${fmt(s.applying.p50)} | ${fmt(s.applying.p95)} | ${fmt(s.applying.max)} |`);
  console.log(`| **published → change applied** | ${fmt(s.applied.p50)} | ${fmt(s.applied.p95)} | ${fmt(s.applied.max)} |`);
  console.log(`| baseline: gateway dry run + apply, called directly | ${fmt(s.direct.p50)} | ${fmt(s.direct.p95)} | ${fmt(s.direct.max)} |`);
  console.log(`\ngoal: p95 ≤ ${GOAL_APPLIED_MS} ms — ${s.applied.p95 <= GOAL_APPLIED_MS ? 'met' : 'NOT met'} (p50 ${fmt(s.applied.p50)} ms); stabilisation and verification come after the apply and are not in it`);

  const rate = (r: { count: number; seconds: number }) => r.count / r.seconds;
  console.log(`\nCompleted workflows per second on one worker (concurrency: ${workerConfig.maxConcurrentWorkflowTasks} workflow tasks, ${workerConfig.maxConcurrentActivities} activities, cache ${workerConfig.maxCachedWorkflows}), all started at once:\n`);
  console.log('| run | workflows | seconds | workflows/s |');
  console.log('|---|---:|---:|---:|');
  console.log(`| remediation, OOMKilling → RESOLVED (windows ${verifyWindowMs / 1000} s) | ${remediation.count} | ${remediation.seconds.toFixed(1)} | ${rate(remediation).toFixed(3)} |`);
  console.log(`| baseline: no-op waiting the same windows | ${noopWindows.count} | ${noopWindows.seconds.toFixed(1)} | ${rate(noopWindows).toFixed(3)} |`);
  console.log(`| no-op, no wait (Temporal's floor) | ${noopBare.count} | ${noopBare.seconds.toFixed(2)} | ${rate(noopBare).toFixed(1)} |`);
  const ratio = rate(remediation) / rate(noopWindows);
  console.log(`\nremediation outcomes: ${JSON.stringify(states)}; worker log lines at warn or above: ${warnings}`);
  console.log(`goal: ≥ ${GOAL_RATIO} of the no-op baseline with the same windows — ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'} (${ratio.toFixed(2)})`);
} finally {
  await cleanup();
}
