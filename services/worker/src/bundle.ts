import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { resolveTypeScriptImports } from '@cortexops/workflows';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';

const require = createRequire(import.meta.url);

/** Where the workflow code is, and how the bundler reads it. */
export function workflowBundleOptions(): Pick<WorkerOptions, 'workflowsPath' | 'bundlerOptions'> {
  return {
    workflowsPath: require.resolve('@cortexops/workflows'),
    bundlerOptions: { webpackConfigHook: resolveTypeScriptImports },
  };
}

/** The sources a bundle is made of: the workflows and contracts packages (and the lockfile for their dependencies). */
function sourceDigest(): string {
  const hash = createHash('sha256');
  const workflowsSrc = dirname(require.resolve('@cortexops/workflows'));
  const contractsSrc = dirname(require.resolve('@cortexops/contracts'));
  for (const dir of [workflowsSrc, contractsSrc]) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  }
  hash.update(readFileSync(join(workflowsSrc, '..', '..', '..', 'pnpm-lock.yaml')));
  return hash.digest('hex').slice(0, 24);
}

/**
 * The workflow bundle, built once per version of its sources: webpack takes seconds on a small machine, so every
 * worker process after the first (restarts, replicas on one host, tests) loads the bundle written by the first.
 */
export async function workflowBundle(cacheDir = join(tmpdir(), 'cortexops-workflow-bundles')): Promise<Pick<WorkerOptions, 'workflowBundle'>> {
  const file = join(cacheDir, `${sourceDigest()}.js`);
  try {
    return { workflowBundle: { code: readFileSync(file, 'utf8') } };
  } catch {
    const { code } = await bundleWorkflowCode(workflowBundleOptions() as Parameters<typeof bundleWorkflowCode>[0]);
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, file);
    return { workflowBundle: { code } };
  }
}
