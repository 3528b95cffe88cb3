import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Env, loadConfig, stackSpec } from '@cortexops/config';
import type { StackContext } from './types.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export function createStackContext(env: Env = process.env, log: (m: string) => void = (m) => process.stderr.write(`${m}\n`)): StackContext {
  const { cacheDir } = loadConfig({ cacheDir: stackSpec.cacheDir }, env);
  const ctx: StackContext = {
    repoRoot: REPO_ROOT,
    cacheDir,
    toolsDir: join(cacheDir, 'tools'),
    dataDir: join(cacheDir, 'data'),
    logDir: join(cacheDir, 'logs'),
    runDir: join(cacheDir, 'run'),
    env,
    log,
  };
  for (const dir of [ctx.toolsDir, ctx.dataDir, ctx.logDir, ctx.runDir]) mkdirSync(dir, { recursive: true, mode: 0o755 });
  return ctx;
}

/** The stack's port configuration (validated: a bad port variable fails here, naming it). */
export function stackPorts(ctx: StackContext) {
  return loadConfig(stackSpec, ctx.env);
}
