import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ServiceConfig } from '@cortexops/config';
import { TASK_QUEUES } from '@cortexops/contracts';
import { AuditStore } from '@cortexops/audit';
import { postgresCheck, temporalCheck, type DependencyCheck, type Logger, type RunningService, type ServiceContext } from '@cortexops/observability';
import { PolicyEngine } from '@cortexops/policy';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pg from 'pg';
import { createPolicyGateActivities } from './activities/policy-gate.js';
import { workflowBundleOptions } from './bundle.js';

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

/** Polls the remediation task queue with the workflow bundle and the activities that exist so far (the policy gate). */
export async function startWorker(config: ServiceConfig<'worker'>, context: ServiceContext): Promise<RunningService> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5, connectionTimeoutMillis: 2000 });
  pool.on('error', (error) => context.logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  const engine = await PolicyEngine.create({
    logger: context.logger,
    ...(config.policyWasmPath === undefined ? {} : { wasmPath: config.policyWasmPath }),
    ...(config.policyDataPath === undefined ? {} : { dataPath: config.policyDataPath }),
  });
  const stopReloading = reloadPolicyOnChange(engine, engine.dataPath, context.logger);
  const audit = await AuditStore.create({ databaseUrl: config.databaseUrl, logger: context.logger });
  // The service's lifecycle owns SIGTERM (HTTP first, then the worker drain), not the SDK.
  Runtime.install({ shutdownSignals: [] });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: TASK_QUEUES.remediation,
    ...workflowBundleOptions(),
    activities: createPolicyGateActivities({ engine, audit, logger: context.logger }),
    shutdownGraceTime: `${Math.floor(config.shutdownTimeoutMs / 2)} ms`,
  });
  const running = worker.run();
  context.logger.info({ taskQueue: TASK_QUEUES.remediation, namespace: config.temporalNamespace, policy: engine.status() }, 'worker polling');
  return {
    checks: [temporalCheck(connection), workerRunningCheck(worker), postgresCheck(pool), policyCheck(engine)],
    ended: running,
    stop: async () => {
      stopReloading();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((error: unknown) => context.logger.error({ err: error }, 'worker stopped with an error'));
      await connection.close();
      await audit.close();
      await pool.end();
    },
  };
}
