#!/usr/bin/env -S node --import tsx
import { loadConfig, postgresSpec } from '@cortexops/config';
import { Command } from 'commander';
import pg from 'pg';
import { migrate } from './migrate.js';
import { AuditStore } from './store.js';
import type { VerifyResult } from './verify.js';

/** Exit codes: 0 intact, 1 the chain is broken, 2 the check itself could not run. */
const EXIT = { ok: 0, broken: 1, error: 2 } as const;

function databaseUrl(option: string | undefined): string {
  return option ?? loadConfig(postgresSpec).databaseUrl;
}

function print(result: VerifyResult): void {
  if (result.ok) {
    process.stdout.write(`audit chain intact: ${result.rows} rows, head sequence ${result.headSequence}, hash ${result.headHash}\n`);
    return;
  }
  process.stdout.write(`audit chain BROKEN at sequence ${result.firstBadSequence} (${result.reason}): ${result.detail}\n`);
  process.stdout.write(`rows intact before it: ${result.rows}\n`);
  if (result.row) process.stdout.write(`row as stored: ${JSON.stringify(result.row)}\n`);
}

const program = new Command('cortexops-audit').description('the CortexOps audit store');
const urlOption = ['--database-url <url>', 'PostgreSQL URL (default: CORTEXOPS_DATABASE_URL, or the local stack)'] as const;

program
  .command('verify')
  .description('walk the hash chain and name the first row that does not hold (exit 1 when broken)')
  .option(...urlOption)
  .action(async (options: { databaseUrl?: string }) => {
    const store = await AuditStore.create({ databaseUrl: databaseUrl(options.databaseUrl), migrate: false, poolSize: 1 });
    try {
      const result = await store.verify();
      print(result);
      process.exitCode = result.ok ? EXIT.ok : EXIT.broken;
    } finally {
      await store.close();
    }
  });

program
  .command('migrate')
  .description('bring the audit schema up to date')
  .option(...urlOption)
  .action(async (options: { databaseUrl?: string }) => {
    const pool = new pg.Pool({ connectionString: databaseUrl(options.databaseUrl), max: 1 });
    try {
      const ran = await migrate(pool);
      process.stdout.write(ran.length === 0 ? 'audit schema up to date\n' : `ran: ${ran.join(', ')}\n`);
    } finally {
      await pool.end();
    }
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`cortexops-audit: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = EXIT.error;
});
