import { createRequire } from 'node:module';
import { resolveTypeScriptImports } from '@cortexops/workflows';
import type { WorkerOptions } from '@temporalio/worker';

const require = createRequire(import.meta.url);

/** Where the workflow code is, and how the bundler reads it. */
export function workflowBundleOptions(): Pick<WorkerOptions, 'workflowsPath' | 'bundlerOptions'> {
  return {
    workflowsPath: require.resolve('@cortexops/workflows'),
    bundlerOptions: { webpackConfigHook: resolveTypeScriptImports },
  };
}
