import { fileURLToPath } from 'node:url';
import type { Logger } from '@cortexops/observability';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';

/** This service's own tables (approver tokens), beside the audit store's, with their own bookkeeping table. */
const DIR = fileURLToPath(new URL('../migrations', import.meta.url));
const TABLE = 'approvals_migrations';

/** Brings the approvals tables up to date; concurrent starts wait on node-pg-migrate's advisory lock. */
export async function migrateApprovals(pool: pg.Pool, logger?: Logger): Promise<void> {
  const client = await pool.connect();
  try {
    const ran = await runner({
      dbClient: client,
      dir: DIR,
      migrationsTable: TABLE,
      direction: 'up',
      singleTransaction: true,
      advisoryLockMode: 'wait',
      logger: { debug: () => {}, info: () => {}, warn: (msg: string) => logger?.warn(msg), error: (msg: string) => logger?.error(msg) },
    });
    if (ran.length > 0) logger?.info({ migrations: ran.map((m) => m.name) }, 'approvals schema migrated');
  } finally {
    client.release();
  }
}
