import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCAL_HOST } from '@cortexops/config';
import { httpOk } from './stack/probes.js';
import { VERSIONS } from './stack/versions.js';
import { ensureServers, freePort } from './testing.js';

/** An Alertmanager of its own (beside the stack's), on a free loopback port with its own configuration and storage. */
export interface StandaloneAlertmanager {
  readonly url: string;
  readonly pid: number;
  /** Stops it (SIGTERM) and deletes its storage. */
  stop(): Promise<void>;
}

/** Configuration of an Alertmanager whose only receiver has no integration: every notification is dropped. */
export const DROP_EVERYTHING_ALERTMANAGER_CONFIG = `route:
  receiver: drop
  group_by: ['alertname', 'namespace']
receivers:
  - name: drop
`;

/**
 * Starts a second Alertmanager, the stack's pinned version, with the given configuration (YAML): e.g. a baseline that
 * benches compare with, or a configuration a test needs that the stack's does not have. The binary and its templates
 * come from the stack's installation (installed and linked if missing).
 */
export async function startAlertmanager(config: string = DROP_EVERYTHING_ALERTMANAGER_CONFIG): Promise<StandaloneAlertmanager> {
  const ctx = await ensureServers(['alertmanager']);
  const { package: pkg, version } = VERSIONS.alertmanager;
  const dir = mkdtempSync(join(tmpdir(), 'cortexops-alertmanager-'));
  writeFileSync(join(dir, 'alertmanager.yml'), config);
  const port = await freePort();
  const url = `http://${LOCAL_HOST}:${port}`;
  const child = spawn(
    join(ctx.toolsDir, `${pkg}-${version}`, 'usr', 'bin', 'prometheus-alertmanager'),
    [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'storage')}`, `--web.listen-address=${LOCAL_HOST}:${port}`, '--cluster.listen-address='],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await httpOk(`${url}/-/ready`);
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`alertmanager on port ${port} did not become ready: ${(error as Error).message}\n${output}`);
      }
      await sleep(100);
    }
  }
  return { url, pid: child.pid ?? 0, stop };
}
