import { fileURLToPath } from 'node:url';
import { type MigrationSet, runMigrations } from '@cortexops/audit';
import type { Logger } from '@cortexops/observability';
import type pg from 'pg';

/**
 * This service's own tables (approver tokens), beside the audit store's, with their own bookkeeping table. The local
 * stack runs them as the owner role with every package's migrations (packages/testkit, postgres.ts).
 */
export const APPROVALS_MIGRATIONS: MigrationSet = { name: 'approvals', dir: fileURLToPath(new URL('../migrations', import.meta.url)), table: 'approvals_migrations' };

/**
 * Brings the approvals tables up to date; with nothing pending it only reads the bookkeeping table, so the application
 * role starts on an up-to-date schema (a role that may not run what is pending is refused).
 */
export async function migrateApprovals(pool: pg.Pool, logger?: Logger): Promise<void> {
  const client = await pool.connect();
  try {
    await runMigrations(client, APPROVALS_MIGRATIONS, logger);
  } finally {
    client.release();
  }
}
