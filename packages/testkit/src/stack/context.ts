import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Env, loadConfig, stackSpec } from '@cortexops/config';
import type { StackContext } from './types.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export interface StackContextOptions {
  readonly env?: Env;
  readonly log?: (message: string) => void;
  /**
   * A private instance: data, logs and pid files under `instances/<name>/`, tools shared. Tests use
   * one (with their own ports) to stop and start servers without disturbing the shared stack.
   */
  readonly instance?: string;
}

export function createStackContext(options: StackContextOptions = {}): StackContext {
  const env = options.env ?? process.env;
  const { cacheDir } = loadConfig({ cacheDir: stackSpec.cacheDir }, env);
  const stateDir = options.instance ? join(cacheDir, 'instances', options.instance) : cacheDir;
  const ctx: StackContext = {
    repoRoot: REPO_ROOT,
    cacheDir,
    toolsDir: join(cacheDir, 'tools'),
    dataDir: join(stateDir, 'data'),
    logDir: join(stateDir, 'logs'),
    runDir: join(stateDir, 'run'),
    env,
    log: options.log ?? ((m) => process.stderr.write(`${m}\n`)),
  };
  for (const dir of [ctx.toolsDir, ctx.dataDir, ctx.logDir, ctx.runDir]) mkdirSync(dir, { recursive: true, mode: 0o755 });
  return ctx;
}

/** The stack's port configuration (validated: a bad port variable fails here, naming it). */
export function stackPorts(ctx: StackContext) {
  return loadConfig(stackSpec, ctx.env);
}
