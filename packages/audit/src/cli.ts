#!/usr/bin/env -S node --import tsx
import { resolve } from 'node:path';
import { auditSpec, loadConfig, postgresSpec } from '@cortexops/config';
import { redactCredentials } from '@cortexops/contracts';
import { createLogger } from '@cortexops/observability';
import { Command } from 'commander';
import pg from 'pg';
import type { CheckpointKeys } from './checkpoint.js';
import { FileCheckpointStore } from './checkpoint-file.js';
import { AuditCheckpointer } from './checkpointer.js';
import { AuditCheckpointError } from './errors.js';
import { type MigrationSet, applicationRoleOf, migrate, runMigrations } from './migrate.js';
import { AuditStore } from './store.js';
import type { VerifyResult } from './verify.js';

/** Exit codes: 0 intact, 1 the chain (or its checkpoint) is broken, 2 the check itself could not run. */
const EXIT = { ok: 0, broken: 1, error: 2 } as const;

interface UrlOptions {
  databaseUrl?: string;
}
interface CheckpointOptions extends UrlOptions {
  checkpointFile?: string;
}

function databaseUrl(option: string | undefined): string {
  return option ?? loadConfig(postgresSpec).databaseUrl;
}

/**
 * Migrations run as the owner: `--database-url`, else CORTEXOPS_DATABASE_MIGRATION_URL, else CORTEXOPS_DATABASE_URL
 * (a single-role installation). The application role is `--app-role`, else the user of CORTEXOPS_DATABASE_URL when
 * it differs from the owner's.
 */
function migrationTarget(options: UrlOptions & { appRole?: string }): { url: string; appRole?: string } {
  const url = options.databaseUrl ?? loadConfig(auditSpec).databaseMigrationUrl ?? databaseUrl(undefined);
  if (options.appRole !== undefined) return { url, appRole: options.appRole };
  const appRole = applicationRoleOf(databaseUrl(undefined), url);
  return appRole === undefined ? { url } : { url, appRole };
}

function checkpointer(store: AuditStore, options: CheckpointOptions): AuditCheckpointer | undefined {
  const config = loadConfig(auditSpec);
  const file = options.checkpointFile ?? config.checkpointFile;
  if (file === undefined) return undefined;
  if (config.checkpointKey === undefined) throw new Error('CORTEXOPS_AUDIT_CHECKPOINT_KEY is not set: a checkpoint cannot be signed or checked without it');
  const keys: CheckpointKeys = { current: config.checkpointKey, ...(config.checkpointPreviousKey === undefined ? {} : { previous: config.checkpointPreviousKey }) };
  return new AuditCheckpointer(store, new FileCheckpointStore(file), keys, createLogger({ service: 'cortexops-audit', level: 'info', destination: process.stderr }));
}

async function withStore<T>(options: UrlOptions, work: (store: AuditStore) => Promise<T>): Promise<T> {
  const store = await AuditStore.create({ databaseUrl: databaseUrl(options.databaseUrl), migrate: false, poolSize: 1 });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function print(result: VerifyResult): void {
  if (result.ok) {
    const against = result.checkpointSequence === undefined ? '' : `, matches the signed checkpoint at sequence ${result.checkpointSequence}`;
    process.stdout.write(`audit chain intact: ${result.rows} rows, head sequence ${result.headSequence}, hash ${result.headHash}${against}\n`);
    return;
  }
  process.stdout.write(`audit chain BROKEN at sequence ${result.firstBadSequence} (${result.reason}): ${result.detail}\n`);
  process.stdout.write(`rows intact before it: ${result.rows}\n`);
  if (result.row) process.stdout.write(`row as stored: ${JSON.stringify(result.row)}\n`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function otherSet(spec: string): MigrationSet {
  const match = /^([a-z][a-z0-9_]*):(.+)$/.exec(spec);
  if (!match?.[1] || !match[2]) throw new Error(`--also ${JSON.stringify(spec)}: expected <name>:<directory>, the name in lowercase letters, digits and _`);
  return { name: match[1], dir: resolve(match[2]), table: `${match[1]}_migrations` };
}

const program = new Command('cortexops-audit').description('the CortexOps audit store');
const urlOption = ['--database-url <url>', 'PostgreSQL URL (default: CORTEXOPS_DATABASE_URL, or the local stack)'] as const;
const fileOption = ['--checkpoint-file <path>', 'signed checkpoint of the chain head (default: CORTEXOPS_AUDIT_CHECKPOINT_FILE; key: CORTEXOPS_AUDIT_CHECKPOINT_KEY)'] as const;

program
  .command('verify')
  .description('walk the hash chain, check it against the last signed checkpoint, and name the first row that does not hold (exit 1 when broken)')
  .option(...urlOption)
  .option(...fileOption)
  .action(async (options: CheckpointOptions) => {
    await withStore(options, async (store) => {
      const signed = checkpointer(store, options);
      if (!signed) process.stderr.write('no checkpoint configured: a rewrite with recomputed hashes would not be seen\n');
      const result = signed ? await signed.verify() : await store.verify();
      print(result);
      process.exitCode = result.ok ? EXIT.ok : EXIT.broken;
    });
  });

program
  .command('checkpoint')
  .description('check the rows since the last checkpoint and sign the chain head into the checkpoint file (exit 1 when the chain is broken)')
  .option(...urlOption)
  .option(...fileOption)
  .option('--every', 'keep going: a checkpoint every CORTEXOPS_AUDIT_CHECKPOINT_INTERVAL_MS until SIGTERM')
  .action(async (options: CheckpointOptions & { every?: boolean }) => {
    await withStore(options, async (store) => {
      const signed = checkpointer(store, options);
      if (!signed) throw new Error('no checkpoint file: pass --checkpoint-file or set CORTEXOPS_AUDIT_CHECKPOINT_FILE');
      if (options.every) {
        const stop = signed.every(loadConfig(auditSpec).checkpointIntervalMs);
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
        });
        await stop();
        return;
      }
      const outcome = await signed.checkpoint();
      if (outcome.ok) {
        process.stdout.write(`audit checkpoint written to ${signed.location}: sequence ${outcome.checkpoint.sequence}, hash ${outcome.checkpoint.hash}\n`);
      } else {
        print(outcome.result);
        process.exitCode = EXIT.broken;
      }
    });
  });

program
  .command('migrate')
  .description('bring the audit schema up to date as the owner role, and give the application role its rights')
  .option('--database-url <url>', "the owner role's PostgreSQL URL (default: CORTEXOPS_DATABASE_MIGRATION_URL, else CORTEXOPS_DATABASE_URL)")
  .option('--app-role <role>', "the services' role (default: CORTEXOPS_DATABASE_URL's user when it differs from the owner's)")
  .option('--also <name:dir>', "another package's migrations to run first as the owner (bookkeeping table <name>_migrations), e.g. approvals:services/approvals/migrations", collect, [])
  .action(async (options: UrlOptions & { appRole?: string; also: string[] }) => {
    const target = migrationTarget(options);
    const others = options.also.map(otherSet);
    const pool = new pg.Pool({ connectionString: target.url, max: 1 });
    try {
      const client = await pool.connect();
      try {
        for (const set of others) {
          const ran = await runMigrations(client, set);
          process.stdout.write(`${set.name}: ${ran.length === 0 ? 'up to date' : `ran ${ran.join(', ')}`}\n`);
        }
      } finally {
        client.release();
      }
      const ran = await migrate(pool, { appRole: target.appRole });
      process.stdout.write(ran.length === 0 ? 'audit schema up to date\n' : `ran: ${ran.join(', ')}\n`);
      process.stdout.write(target.appRole === undefined ? 'no application role: the services connect as the owner\n' : `application role ${target.appRole}: INSERT and SELECT on the audit trail\n`);
    } finally {
      await pool.end();
    }
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`cortexops-audit: ${redactCredentials(error instanceof Error ? error.message : String(error))}\n`);
  process.exitCode = error instanceof AuditCheckpointError ? EXIT.broken : EXIT.error;
});
