import { fileURLToPath } from 'node:url';
import type { Logger } from '@cortexops/observability';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';

/** The SQL migrations of this package (node-pg-migrate format: `-- Up Migration` / `-- Down Migration`). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
/** Own bookkeeping table, so that other packages can keep their migrations in the same database. */
export const MIGRATIONS_TABLE = 'audit_migrations';

/**
 * Brings the schema up to date. Concurrent callers (several services starting at once) wait for
 * each other on node-pg-migrate's advisory lock instead of failing.
 */
export async function migrate(pool: pg.Pool, logger?: Logger): Promise<string[]> {
  const client = await pool.connect();
  try {
    const ran = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      logger: {
        debug: () => {},
        info: (msg: string) => logger?.debug({ component: 'audit-migrations' }, msg),
        warn: (msg: string) => logger?.warn({ component: 'audit-migrations' }, msg),
        error: (msg: string) => logger?.error({ component: 'audit-migrations' }, msg),
      },
    });
    const names = ran.map((m) => m.name);
    if (names.length > 0) logger?.info({ migrations: names }, 'audit schema migrated');
    return names;
  } finally {
    client.release();
  }
}
