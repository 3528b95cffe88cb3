import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';

/** The SQL migrations of this package (node-pg-migrate format). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
/** Own bookkeeping table, beside the audit store's in the same database. */
export const MIGRATIONS_TABLE = 'knowledge_migrations';

/** Brings the embedded store's schema up to date (concurrent callers wait on node-pg-migrate's advisory lock). */
export async function migrate(pool: pg.Pool): Promise<string[]> {
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
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
    return ran.map((m) => m.name);
  } finally {
    client.release();
  }
}
