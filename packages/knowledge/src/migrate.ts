import { fileURLToPath } from 'node:url';
import { type MigrationSet, runMigrations } from '@cortexops/audit';
import type pg from 'pg';

/**
 * The embedded store's tables, beside the audit store's, with their own bookkeeping table (`knowledge_migrations`),
 * run by the audit package's migration runner like every package's.
 */
export const KNOWLEDGE_MIGRATIONS: MigrationSet = { name: 'knowledge', dir: fileURLToPath(new URL('../migrations', import.meta.url)), table: 'knowledge_migrations' };

/**
 * Brings the embedded store's schema up to date. Concurrent callers wait on node-pg-migrate's advisory lock; with
 * nothing pending only the bookkeeping table is read; a role that may not run what is pending is refused.
 */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  try {
    return await runMigrations(client, KNOWLEDGE_MIGRATIONS);
  } finally {
    client.release();
  }
}
