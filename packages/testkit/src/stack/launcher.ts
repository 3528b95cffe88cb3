import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withFileLock } from './lock.js';
import { assertPortsFree } from './ports.js';
import { runningPid, spawnDetached, stopProcess, tailOfLog, logFile } from './process.js';
import type { ServerDefinition, StackContext } from './types.js';

const DEFAULT_START_TIMEOUT_MS = 60_000;
const LAUNCHER_LOCK_TIMEOUT_MS = 45 * 60 * 1000;

export class ServerStartError extends Error {
  readonly code = 'STACK_START_FAILED';
  constructor(
    readonly server: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ServerStartError';
  }
}

export class UnknownServerError extends Error {
  readonly code = 'STACK_UNKNOWN_SERVER';
  constructor(name: string, known: readonly string[]) {
    super(`unknown server "${name}"; known: ${known.join(', ')}`);
    this.name = 'UnknownServerError';
  }
}

export type UpAction = 'started' | 'already running';
export interface UpResult {
  readonly name: string;
  readonly action: UpAction;
  readonly millis: number;
  readonly endpoints: Readonly<Record<string, string>>;
}

export interface ServerStatus {
  readonly name: string;
  readonly group: ServerDefinition['group'];
  readonly pid: number | undefined;
  readonly healthy: boolean;
  readonly problem: string | undefined;
  readonly endpoints: Readonly<Record<string, string>>;
  readonly log: string;
}

/** The named servers plus everything they depend on, dependencies first. */
export function resolveOrder(all: readonly ServerDefinition[], names?: readonly string[]): ServerDefinition[] {
  const byName = new Map(all.map((d) => [d.name, d]));
  const wanted = names && names.length > 0 ? names : all.map((d) => d.name);
  const ordered: ServerDefinition[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    const def = byName.get(name);
    if (!def) throw new UnknownServerError(name, [...byName.keys()]);
    if (ordered.includes(def)) return;
    if (visiting.has(name)) throw new Error(`dependency cycle through ${name}`);
    visiting.add(name);
    for (const dep of def.dependsOn ?? []) visit(dep);
    visiting.delete(name);
    ordered.push(def);
  };
  wanted.forEach(visit);
  return ordered;
}

async function probeOnce(def: ServerDefinition, ctx: StackContext): Promise<string | undefined> {
  try {
    await def.probe(ctx);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function waitHealthy(def: ServerDefinition, ctx: StackContext, pid: number | undefined): Promise<void> {
  const timeout = def.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const deadline = Date.now() + timeout;
  let problem: string | undefined = 'not probed yet';
  while (Date.now() < deadline) {
    problem = await probeOnce(def, ctx);
    if (problem === undefined) return;
    if (pid !== undefined && runningPid(ctx, def.name) === undefined) {
      throw new ServerStartError(def.name, `${def.name} exited during start-up; last lines of ${logFile(ctx, def.name)}:\n${tailOfLog(ctx, def.name)}`);
    }
    await sleep(200);
  }
  throw new ServerStartError(
    def.name,
    `${def.name} was not healthy after ${timeout} ms (${problem}); last lines of ${logFile(ctx, def.name)}:\n${tailOfLog(ctx, def.name)}`,
  );
}

async function ensureOne(def: ServerDefinition, ctx: StackContext): Promise<UpResult> {
  const started = Date.now();
  const existing = runningPid(ctx, def.name);
  if (existing !== undefined) {
    await waitHealthy(def, ctx, existing);
    await def.afterStart?.(ctx);
    return { name: def.name, action: 'already running', millis: Date.now() - started, endpoints: def.endpoints(ctx) };
  }
  await assertPortsFree(def.name, def.ports(ctx));
  await def.install(ctx);
  await def.prepare?.(ctx);
  const pid = spawnDetached(ctx, def.name, def.command(ctx));
  try {
    await waitHealthy(def, ctx, pid);
  } catch (error) {
    await stopProcess(ctx, def.name, def.stopSignal);
    throw error;
  }
  await def.afterStart?.(ctx);
  return { name: def.name, action: 'started', millis: Date.now() - started, endpoints: def.endpoints(ctx) };
}

export interface Launcher {
  up(names?: readonly string[], onResult?: (result: UpResult) => void): Promise<UpResult[]>;
  down(names?: readonly string[]): Promise<string[]>;
  status(names?: readonly string[]): Promise<ServerStatus[]>;
  readonly servers: readonly ServerDefinition[];
  readonly ctx: StackContext;
}

/** Starts, stops and reports the servers of the local stack; every operation is idempotent. */
export function createLauncher(ctx: StackContext, servers: readonly ServerDefinition[]): Launcher {
  const lockPath = join(ctx.runDir, 'launcher.lock');
  return {
    servers,
    ctx,
    up: (names, onResult) =>
      withFileLock(lockPath, LAUNCHER_LOCK_TIMEOUT_MS, async () => {
        const results: UpResult[] = [];
        for (const def of resolveOrder(servers, names)) {
          const result = await ensureOne(def, ctx);
          onResult?.(result);
          results.push(result);
        }
        return results;
      }),
    down: (names) =>
      withFileLock(lockPath, LAUNCHER_LOCK_TIMEOUT_MS, async () => {
        const targets = names && names.length > 0 ? servers.filter((d) => names.includes(d.name)) : [...servers];
        const stopped: string[] = [];
        for (const def of targets.reverse()) {
          if (await stopProcess(ctx, def.name, def.stopSignal)) stopped.push(def.name);
        }
        return stopped;
      }),
    status: async (names) => {
      const targets = names && names.length > 0 ? resolveOrder(servers, names) : servers;
      return Promise.all(
        targets.map(async (def): Promise<ServerStatus> => {
          const pid = runningPid(ctx, def.name);
          const problem = pid === undefined ? 'not running' : await probeOnce(def, ctx);
          return { name: def.name, group: def.group, pid, healthy: problem === undefined, problem, endpoints: def.endpoints(ctx), log: logFile(ctx, def.name) };
        }),
      );
    },
  };
}
