#!/usr/bin/env -S node --import tsx
import { Command } from 'commander';
import { backupStack, restoreStack } from './backup/stack.js';
import { runDemo } from './demo.js';
import { createStackContext } from './stack/context.js';
import { createLauncher, type ServerStatus, type UpResult } from './stack/launcher.js';
import { ALL_SERVERS, SERVICE_SERVERS, STACK_SERVERS } from './stack/registry.js';

const launcher = createLauncher(createStackContext(), ALL_SERVERS);


function namesOf(names: string[], options: { services?: boolean; all?: boolean }): string[] {
  if (names.length > 0) return names;
  if (options.all) return ALL_SERVERS.map((s) => s.name);
  if (options.services) return SERVICE_SERVERS.map((s) => s.name);
  return STACK_SERVERS.map((s) => s.name);
}

function printUp(r: UpResult): void {
  const where = Object.entries(r.endpoints).map(([k, v]) => `${k} ${v}`).join('  ');
  process.stdout.write(`${r.name.padEnd(24)} ${r.action.padEnd(16)} ${(r.millis / 1000).toFixed(1).padStart(6)} s  ${where}\n`);
}

function printStatus(statuses: ServerStatus[]): void {
  for (const s of statuses) {
    const state = s.healthy ? 'healthy' : s.pid === undefined ? 'stopped' : `unhealthy: ${s.problem ?? ''}`;
    const where = Object.entries(s.endpoints).map(([k, v]) => `${k} ${v}`).join('  ');
    process.stdout.write(`${s.name.padEnd(24)} ${String(s.pid ?? '-').padStart(7)}  ${state.padEnd(12)} ${where}\n`);
  }
}

const program = new Command('cortexops-stack').description('the embedded local stack: real servers on loopback, no Docker');
program
  .command('up')
  .argument('[servers...]', 'servers to start (with their dependencies); default: the infrastructure')
  .option('--services', 'CortexOps services (and the infrastructure they need)')
  .option('--all', 'infrastructure and services')
  .description('install what is missing and start what is not running; a second run changes nothing')
  .action(async (names: string[], options: { services?: boolean; all?: boolean }) => {
    const started = Date.now();
    process.stdout.write(`cache: ${launcher.ctx.cacheDir}\n`);
    await launcher.up(namesOf(names, options), printUp);
    process.stdout.write(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${launcher.ctx.logDir}\n`);
  });
program
  .command('down')
  .argument('[servers...]', 'servers to stop; default: everything')
  .description('stop servers (data is kept in the cache)')
  .action(async (names: string[]) => {
    const stopped = await launcher.down(names);
    process.stdout.write(stopped.length > 0 ? `stopped ${stopped.join(', ')}\n` : 'nothing was running\n');
  });
program
  .command('status')
  .argument('[servers...]', 'servers to report; default: everything')
  .option('--check', 'exit with status 3 unless every listed server is healthy')
  .description('report every server: pid, health, where it listens')
  .action(async (names: string[], options: { check?: boolean }) => {
    const statuses = await launcher.status(names);
    printStatus(statuses);
    if (options.check && statuses.some((s) => !s.healthy)) process.exitCode = 3;
  });

program
  .command('demo')
  .description('inject a failure into a fresh Deployment of the local cluster and follow its remediation to the end, then print its audit trail (needs `up --all`)')
  .option('--timeout <seconds>', 'how long the whole path may take', '180')
  .action(async (options: { timeout: string }) => {
    const seconds = Number(options.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--timeout must be a positive number of seconds, not ${options.timeout}`);
    await runDemo(launcher.ctx, { timeoutMs: seconds * 1000, log: (line) => process.stdout.write(`demo: ${line}\n`) });
  });

program
  .command('backup')
  .description("back up the stack: PostgreSQL (pg_dump), Temporal's store, the NATS KV buckets and dead letters, Qdrant's collections, the audit checkpoint — into one new directory with a manifest")
  .option('--into <dir>', 'the directory the backup directory is made in (default <cache>/backups)')
  .option('--database <name>', "a database of the stack's PostgreSQL to dump (repeatable; default cortexops)", (value: string, previous: string[]) => [...previous, value], [])
  .action(async (options: { into?: string; database: string[] }) => {
    const started = Date.now();
    const result = await backupStack(launcher.ctx, {
      ...(options.into ? { into: options.into } : {}),
      ...(options.database.length > 0 ? { databases: options.database } : {}),
      log: (line) => process.stdout.write(`backup: ${line}\n`),
    });
    process.stdout.write(`${result.dir}\n${result.manifest.files.length} files, ${(result.bytes / 1024 / 1024).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });
program
  .command('restore')
  .argument('<dir>', 'a backup directory (make backup prints it)')
  .option('--force', 'replace what the servers hold (without it, a restore over data is refused)')
  .description('restore a backup into the stack: every checksum and file checked first, then each server, then the audit chain verified against the restored checkpoint')
  .action(async (dir: string, options: { force?: boolean }) => {
    const result = await restoreStack(launcher, dir, { force: options.force ?? false, log: (line) => process.stdout.write(`restore: ${line}\n`) });
    const audit = result.audit ? `; audit chain intact: ${result.audit.rows} rows${result.audit.checkpointSequence === undefined ? '' : `, matches the checkpoint at ${result.audit.checkpointSequence}`}` : '';
    process.stdout.write(`restored ${dir} in ${result.seconds.toFixed(1)} s${audit}\n`);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
