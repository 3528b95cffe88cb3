import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCAL_HOST } from '@cortexops/config';
import { HTTP_PATHS, type ServiceName } from '@cortexops/contracts';
import { REPO_ROOT } from './stack/context.js';
import { freePort } from './testing.js';

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly baseUrl: string;
  /** Everything the process wrote (JSON log lines and any stderr). */
  output(): string;
  /** Polls `/debug/healthz` until `predicate` holds for the answer, or fails after `timeoutMs`. */
  waitForHealth(predicate: (status: number, body: HealthBody) => boolean, timeoutMs?: number): Promise<HealthBody>;
  /** Sends SIGTERM and resolves with the exit code. */
  terminate(): Promise<number | null>;
}

export interface HealthBody {
  readonly status: 'up' | 'down';
  readonly dependencies: Record<string, { status: 'up' | 'down'; lastError?: string; latencyMs: number }>;
}

/** Starts a service as its own process (exactly as `make up` does) on a free port. */
export async function spawnService(service: ServiceName, env: Record<string, string | undefined> = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services', service, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, [`CORTEXOPS_${service.toUpperCase()}_PORT`]: String(port), CORTEXOPS_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const baseUrl = `http://${LOCAL_HOST}:${port}`;

  return {
    child,
    port,
    baseUrl,
    output: () => output,
    waitForHealth: async (predicate, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer yet';
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode}:\n${output}`);
        try {
          const response = await fetch(`${baseUrl}${HTTP_PATHS.health}`, { signal: AbortSignal.timeout(5000) });
          const body = (await response.json()) as HealthBody;
          last = `${response.status} ${JSON.stringify(body)}`;
          if (predicate(response.status, body)) return body;
        } catch (error) {
          last = (error as Error).message;
        }
        await sleep(250);
      }
      throw new Error(`${service} health never matched within ${timeoutMs} ms; last: ${last}\n${output}`);
    },
    terminate: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
