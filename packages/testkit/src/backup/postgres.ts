import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { POSTGRES_ROLES } from '../stack/servers/postgres.js';
import { BackupError } from './errors.js';
import { type PgTools, tool } from './tools.js';

/**
 * One PostgreSQL database: `pg_dump --format=custom` out, `pg_restore` in. The restore goes into a new database
 * beside the target, in one transaction, and only when it is complete does it take the target's name (the old one is
 * dropped): a dump that fails half-way leaves the target as it was.
 */

async function withAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `url` with another database. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export async function dumpDatabase(tools: PgTools, url: string, file: string): Promise<void> {
  await tool(tools.pgDump, ['--format=custom', '--compress=6', `--file=${file}`, `--dbname=${url}`], tools.env);
}

/** The dump's table of contents (`pg_restore --list`): fails on a truncated or foreign file. */
export async function checkDump(tools: PgTools, file: string): Promise<number> {
  const list = await tool(tools.pgRestore, ['--list', file], tools.env);
  const entries = list.split('\n').filter((line) => /^\d+;/.test(line)).length;
  if (entries === 0) throw new BackupError('BACKUP_CORRUPT', `${file}: pg_restore lists no entries`);
  return entries;
}

/**
 * The tables of `database` that hold rows; [] when it does not exist. The migrations' bookkeeping and the audit chain's
 * head (one row from the first migration on) do not count.
 */
export async function tablesWithRows(serverUrl: string, database: string): Promise<string[]> {
  const exists = await withAdmin(serverUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1);
  if (!exists) return [];
  return withAdmin(databaseUrl(serverUrl, database), async (c) => {
    const tables = await c.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename NOT LIKE '%migrations' AND tablename <> 'audit_chain_head' ORDER BY 1`,
    );
    const full: string[] = [];
    for (const { name } of tables.rows) if ((await c.query(`SELECT 1 FROM ${name} LIMIT 1`)).rowCount === 1) full.push(name);
    return full;
  });
}

/**
 * Restores `file` as `database` on the server of `serverUrl` (a superuser): into `<database>_restoring_<time>` first,
 * then renamed over the target (whose connections are ended; it is dropped). The database is owned by the owner role
 * when the server has it (the local stack's set-up creates it), as the dump's objects are.
 */
export async function restoreDatabase(tools: PgTools, serverUrl: string, database: string, file: string): Promise<void> {
  const staging = `${database}_restoring_${Date.now().toString(36)}`;
  const replaced = `${database}_replaced_${Date.now().toString(36)}`;
  const id = pg.escapeIdentifier;
  await withAdmin(serverUrl, async (c) => {
    const owner = (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [POSTGRES_ROLES.owner])).rowCount === 1 ? ` OWNER ${id(POSTGRES_ROLES.owner)}` : '';
    await c.query(`CREATE DATABASE ${id(staging)}${owner}`);
  });
  try {
    await tool(tools.pgRestore, ['--exit-on-error', '--single-transaction', `--dbname=${databaseUrl(serverUrl, staging)}`, file], tools.env);
  } catch (error) {
    await withAdmin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${id(staging)} WITH (FORCE)`));
    throw error;
  }
  await withAdmin(serverUrl, async (c) => {
    const exists = (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
    if (exists) {
      // No new sessions, the present ones ended, then the name is free to take.
      await c.query(`ALTER DATABASE ${id(database)} ALLOW_CONNECTIONS false`);
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
      // Terminated backends take a moment to go.
      for (let i = 0; i < 100 && (await c.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1', [database])).rowCount !== 0; i++) await sleep(50);
      await c.query(`ALTER DATABASE ${id(database)} RENAME TO ${id(replaced)}`);
    }
    await c.query(`ALTER DATABASE ${id(staging)} RENAME TO ${id(database)}`);
    if (exists) await c.query(`DROP DATABASE ${id(replaced)} WITH (FORCE)`);
  });
}

/** The server's version (`SHOW server_version`). */
export async function serverVersion(serverUrl: string): Promise<string> {
  return withAdmin(serverUrl, async (c) => String((await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version));
}
