import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { loadConfig, type ServiceConfig, workflowGaugesSpec } from '@cortexops/config';
import { MEASUREMENT_OUTCOMES, METRICS, TASK_QUEUES, TERMINAL_STATES } from '@cortexops/contracts';
import { AuditStore } from '@cortexops/audit';
import { ClusterGateway, DEFAULT_BOUNDS } from '@cortexops/k8s';
import { connectNats } from '@cortexops/messaging';
import { natsCheck, postgresCheck, temporalCheck, type DependencyCheck, type Logger, type RunningService, type ServiceContext } from '@cortexops/observability';
import { PolicyEngine } from '@cortexops/policy';
import { prometheusCheck, prometheusClientFromConfig } from '@cortexops/prometheus';
import { connectTemporal } from '@cortexops/temporal';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import pg from 'pg';
import { Counter } from 'prom-client';
import { environmentOf as environmentLookup } from './activities/facts.js';
import { ApprovalsClient } from './activities/messages.js';
import { createRemediationActivities } from './activities/remediation.js';
import { createAdvisor } from './advisor.js';
import { approvalRefusalSinks } from './approval-refusals.js';
import { createIncidentMemory } from './memory.js';
import { workflowBundle } from './bundle.js';
import { AdvisoryLeadership } from './leadership.js';
import { WorkflowGauges } from './workflow-gauges.js';

function workerRunningCheck(worker: Worker): DependencyCheck {
  return {
    name: 'temporal-worker',
    required: true,
    check: async () => {
      const state = worker.getState();
      if (state !== 'RUNNING') throw new Error(`worker is ${state}`);
    },
  };
}

/** Down while the policy bundle or data cannot be loaded: every decision is then a denial. */
function policyCheck(engine: PolicyEngine): DependencyCheck {
  return {
    name: 'policy',
    required: true,
    check: async () => {
      const status = engine.status();
      if (!status.ready) throw new Error(status.problem);
    },
  };
}

/** A burst of file events (write, rename, a ConfigMap's link swap) becomes one reload. */
const RELOAD_SETTLE_MS = 200;

/**
 * SIGHUP, or a change of the data file, re-reads the policy data; bad data is refused and the data in force keeps
 * deciding. The directory is watched, not the file: editors and Kubernetes ConfigMap updates replace the file
 * (a mounted ConfigMap swaps its `..data` link), which a watch on the file itself would stop seeing.
 */
function reloadPolicyOnChange(engine: PolicyEngine, dataPath: string, logger: Logger): () => void {
  const reload = () => {
    engine.reloadData().catch((error: unknown) => logger.error({ err: error }, 'policy: reload refused, the data in force stays'));
  };
  let pending: NodeJS.Timeout | undefined;
  const settle = () => {
    clearTimeout(pending);
    pending = setTimeout(reload, RELOAD_SETTLE_MS);
  };
  process.on('SIGHUP', reload);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(dataPath), (_event, name) => {
      if (name === null || name === basename(dataPath) || name.startsWith('..')) settle();
    });
    watcher.on('error', (error) => logger.warn({ err: error, dataPath }, 'policy: stopped watching the data file; SIGHUP still reloads'));
  } catch (error) {
    logger.warn({ err: error, dataPath }, 'policy: cannot watch the data file; SIGHUP still reloads');
  }
  return () => {
    process.off('SIGHUP', reload);
    watcher?.close();
    clearTimeout(pending);
  };
}

/** What a benchmark (or a test) adds to the worker: its own workflows bundled with the real ones, and their activities. */
export interface WorkerOverrides {
  /** A workflows module that re-exports `@cortexops/workflows` and adds its own (bundled at start, not cached). */
  readonly workflows?: Pick<WorkerOptions, 'workflowsPath' | 'bundlerOptions'>;
  readonly activities?: Record<string, (...args: never[]) => Promise<unknown>>;
}

/** Polls the remediation task queue with the remediation workflow and its activities over the real adapters. */
export async function startWorker(config: ServiceConfig<'worker'>, context: ServiceContext, overrides: WorkerOverrides = {}): Promise<RunningService> {
  const gauges = loadConfig(workflowGaugesSpec);
  // First: a wrong Prometheus setting (tenant, credentials, TLS files) is a configuration error before anything connects.
  const prometheus = prometheusClientFromConfig(config, context.logger);
  const environmentOf = environmentLookup(config.environments, config.defaultEnvironment);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5, connectionTimeoutMillis: 2000 });
  pool.on('error', (error) => context.logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  const engine = await PolicyEngine.create({
    logger: context.logger,
    ...(config.policyWasmPath === undefined ? {} : { wasmPath: config.policyWasmPath }),
    ...(config.policyDataPath === undefined ? {} : { dataPath: config.policyDataPath }),
  });
  const stopReloading = reloadPolicyOnChange(engine, engine.dataPath, context.logger);
  const audit = await AuditStore.create({ databaseUrl: config.databaseUrl, logger: context.logger });
  const gateway = ClusterGateway.create({
    ...(config.workerKubeconfig === undefined ? {} : { kubeconfigPath: config.workerKubeconfig }),
    bounds: { maxReplicas: config.maxReplicas, maxMemory: config.maxMemory },
    logger: context.logger,
  });
  const nc = await connectNats(config, 'worker', (message) => context.logger.warn(message));
  const js = nc.jetstream();
  const bounds = { ...DEFAULT_BOUNDS, maxReplicas: config.maxReplicas, maxMemory: config.maxMemory };
  const { advisor, enabled: llmEnabled } = createAdvisor(config, context, bounds);
  const memory = await createIncidentMemory(config, pool, context.logger);
  const measured = new Counter({ name: METRICS.verificationMeasurementsTotal, help: 'Verification measurement rounds, by outcome', labelNames: ['outcome'] as const, registers: [context.registry] });
  // Every label value from the start: a dashboard or an alert over a rate of 0 sees a series, not nothing.
  for (const outcome of MEASUREMENT_OUTCOMES) measured.inc({ outcome }, 0);
  for (const state of TERMINAL_STATES) context.metrics.workflows.inc({ outcome: state.toLowerCase() }, 0);

  const activities = createRemediationActivities({
    audit,
    gateway,
    prometheus,
    policy: engine,
    notices: { publish: async (subject, data, msgID) => void (await js.publish(subject, data, { msgID })) },
    approvals: new ApprovalsClient({ baseUrl: config.approvalsUrl, token: config.approvalsApiToken }),
    advisor,
    ...(memory ? { memory } : {}),
    similarIncidents: config.similarIncidents,
    settings: {
      approvalTimeoutMs: config.approvalTimeoutMs,
      rolloutTimeoutMs: config.verifyRolloutTimeoutMs,
      cluster: config.cluster,
      approvalVerifyKeys: config.approvalVerifyKeys,
      environmentOf,
      planner: {
        maxMemory: config.maxMemory,
        verification: {
          stabilisationMs: config.verifyStabilisationMs,
          intervalMs: config.verifyIntervalMs,
          count: config.verifyCount,
          minSamples: Math.min(config.verifyMinSamples, config.verifyCount),
          // Rounds beyond those needed may be inconclusive (a new pod not scraped twice yet); never a failure.
          inconclusiveLimit: config.verifyCount - Math.min(config.verifyMinSamples, config.verifyCount),
        },
      },
      bounds,
    },
    // DESIGN's cortexops_workflows_total{outcome}: remediation workflows that ended, by final state.
    onEnded: (state) => context.metrics.workflows.inc({ outcome: state.toLowerCase() }),
    onMeasured: (outcome) => measured.inc({ outcome }),
    logger: context.logger,
  });

  // The service's lifecycle owns SIGTERM (HTTP first, then the worker drain), not the SDK.
  Runtime.install({ shutdownSignals: [] });
  const connection = await connectTemporal(config, NativeConnection);
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: TASK_QUEUES.remediation,
    ...(overrides.workflows ?? (await workflowBundle())),
    activities: { ...activities, ...overrides.activities },
    // Unsigned approval and cancel updates the workflow refused: audited here (validators cannot run activities).
    sinks: approvalRefusalSinks(audit, context.logger, context.registry),
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.maxCachedWorkflows,
    shutdownGraceTime: `${Math.floor(config.shutdownTimeoutMs / 2)} ms`,
  });
  const running = worker.run();
  // The running workflows by state, their ages and visits (over the worker's own connection): one replica reports
  // them (a PostgreSQL advisory lock).
  const stopGauges = new WorkflowGauges(
    { intervalMs: gauges.workflowGaugesIntervalMs, maxWorkflows: gauges.workflowGaugesMaxWorkflows, maxQueries: gauges.workflowGaugesMaxQueries },
    {
      client: new Client({ connection, namespace: config.temporalNamespace }),
      leadership: new AdvisoryLeadership(config.databaseUrl, 'cortexops-workflow-gauges', context.logger),
      registry: context.registry,
      logger: context.logger,
    },
  ).start();
  context.logger.info(
    { taskQueue: TASK_QUEUES.remediation, namespace: config.temporalNamespace, policy: engine.status(), prometheus: prometheus.describe(), approvals: config.approvalsUrl, approvalVerifyKeys: config.approvalVerifyKeys.length, incidentMemory: memory ? config.incidentMemory : 'off', llm: llmEnabled ? { baseUrl: config.llmBaseUrl, model: config.llmModel } : 'off (heuristics only)', kubeconfig: config.workerKubeconfig ?? '(default chain)' },
    'worker polling',
  );
  return {
    checks: [temporalCheck(connection), workerRunningCheck(worker), postgresCheck(pool), policyCheck(engine), natsCheck(nc), prometheusCheck(prometheus)],
    ended: running,
    stop: async () => {
      stopReloading();
      await stopGauges();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((error: unknown) => context.logger.error({ err: error }, 'worker stopped with an error'));
      await connection.close();
      await prometheus.close();
      await nc.drain();
      await audit.close();
      await pool.end();
    },
  };
}
