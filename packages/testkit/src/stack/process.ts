import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LaunchCommand, StackContext } from './types.js';

/** The unprivileged account servers that refuse root (PostgreSQL) run as. */
export const UNPRIVILEGED_USER = 'cortexops';

interface PidRecord {
  readonly pid: number;
  readonly command: string;
  readonly startedAt: string;
}

export function pidFile(ctx: StackContext, name: string): string {
  return join(ctx.runDir, `${name}.pid`);
}

export function logFile(ctx: StackContext, name: string): string {
  return join(ctx.logDir, `${name}.log`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A zombie still answers kill(0) but is gone for our purposes.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

/** The pid of the server's process, if it is alive and still runs the command we started. */
export function runningPid(ctx: StackContext, name: string): number | undefined {
  const file = pidFile(ctx, name);
  if (!existsSync(file)) return undefined;
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
  if (!isAlive(record.pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    if (!cmdline.includes(basename(record.command))) return undefined; // the pid was reused
  } catch {
    // no /proc: trust kill(0)
  }
  return record.pid;
}

function unprivilegedIds(): { uid: number; gid: number } {
  try {
    execFileSync('id', ['-u', UNPRIVILEGED_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', UNPRIVILEGED_USER]);
  }
  const uid = Number(execFileSync('id', ['-u', UNPRIVILEGED_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', UNPRIVILEGED_USER], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** The uid/gid a server's files must belong to (ours, or the unprivileged user's when we are root). */
export function ownerFor(launch: Pick<LaunchCommand, 'unprivileged'>): { uid: number; gid: number } | undefined {
  if (!launch.unprivileged || process.getuid?.() !== 0) return undefined;
  return unprivilegedIds();
}

/** Starts a server in its own process group, detached from us, logging to its log file. */
export function spawnDetached(ctx: StackContext, name: string, launch: LaunchCommand): number {
  const log = openSync(logFile(ctx, name), 'a');
  try {
    const ids = ownerFor(launch);
    const child = spawn(launch.command, [...launch.args], {
      cwd: launch.cwd ?? ctx.repoRoot,
      env: { ...process.env, ...launch.env },
      detached: true,
      stdio: ['ignore', log, log],
      ...(ids ?? {}),
    });
    if (child.pid === undefined) throw new Error(`could not start ${name}: ${launch.command} did not spawn`);
    child.unref();
    const record: PidRecord = { pid: child.pid, command: launch.command, startedAt: new Date().toISOString() };
    writeFileSync(pidFile(ctx, name), JSON.stringify(record));
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** The stop signal to the whole process group, SIGKILL after the grace period. */
export async function stopProcess(ctx: StackContext, name: string, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15000): Promise<boolean> {
  const pid = runningPid(ctx, name);
  rmSync(pidFile(ctx, name), { force: true });
  if (pid === undefined) return false;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };
  signalGroup(signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) signalGroup('SIGKILL');
  while (isAlive(pid)) await sleep(50);
  return true;
}

export function tailOfLog(ctx: StackContext, name: string, lines = 20): string {
  try {
    return readFileSync(logFile(ctx, name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
