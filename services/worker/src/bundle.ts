import { createRequire } from 'node:module';
import type { WorkerOptions } from '@temporalio/worker';

const require = createRequire(import.meta.url);

/** Where the workflow code is, and how the bundler resolves our TypeScript ESM imports (`./x.js` → `./x.ts`). */
export function workflowBundleOptions(): Pick<WorkerOptions, 'workflowsPath' | 'bundlerOptions'> {
  return {
    workflowsPath: require.resolve('@cortexops/workflows'),
    bundlerOptions: {
      webpackConfigHook: (config) => ({
        ...config,
        resolve: { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } },
      }),
    },
  };
}
