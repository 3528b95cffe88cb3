import { createRequire } from 'node:module';
import { NativeConnection, Worker } from '@temporalio/worker';
import { TASK_QUEUES } from '@cortexops/contracts';
import { resolveTypeScriptImports } from '@cortexops/workflows';
import { temporalAddress } from './testing.js';
import type { StackContext } from './stack/types.js';

const require = createRequire(import.meta.url);

export interface TestWorker {
  readonly worker: Worker;
  /** Shuts the worker down and waits for it to finish. */
  stop(): Promise<void>;
}

/** A real Temporal worker running CortexOps' workflows (and the given activities) in a test namespace. */
export async function startTestWorker(ctx: StackContext, namespace: string, activities: object = {}): Promise<TestWorker> {
  const connection = await NativeConnection.connect({ address: temporalAddress(ctx) });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: TASK_QUEUES.remediation,
    workflowsPath: require.resolve('@cortexops/workflows'),
    bundlerOptions: { webpackConfigHook: resolveTypeScriptImports },
    activities,
  });
  const running = worker.run();
  return {
    worker,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
