import type { ServiceConfig } from '@cortexops/config';
import { TASK_QUEUES } from '@cortexops/contracts';
import { postgresCheck, temporalCheck, type DependencyCheck, type RunningService, type ServiceContext } from '@cortexops/observability';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pg from 'pg';
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

/** Polls the remediation task queue; activities arrive with the workflow issue. */
export async function startWorker(config: ServiceConfig<'worker'>, context: ServiceContext): Promise<RunningService> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5, connectionTimeoutMillis: 2000 });
  pool.on('error', (error) => context.logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  // The service's lifecycle owns SIGTERM (HTTP first, then the worker drain), not the SDK.
  Runtime.install({ shutdownSignals: [] });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: TASK_QUEUES.remediation,
    ...workflowBundleOptions(),
    shutdownGraceTime: `${Math.floor(config.shutdownTimeoutMs / 2)} ms`,
  });
  const running = worker.run();
  running.catch((error: unknown) => context.logger.error({ err: error }, 'worker stopped with an error'));
  context.logger.info({ taskQueue: TASK_QUEUES.remediation, namespace: config.temporalNamespace }, 'worker polling');
  return {
    checks: [temporalCheck(connection), workerRunningCheck(worker), postgresCheck(pool)],
    stop: async () => {
      worker.shutdown();
      await running;
      await connection.close();
      await pool.end();
    },
  };
}
