import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@cortexops/observability';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { withClient } from './client.js';
import { AuditMigrationRefusedError } from './errors.js';

/** The SQL migrations of this package (node-pg-migrate format: `-- Up Migration` / `-- Down Migration`). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
/** Own bookkeeping table, so that other packages can keep their migrations in the same database. */
export const MIGRATIONS_TABLE = 'audit_migrations';

const INSUFFICIENT_PRIVILEGE = '42501';

export interface MigrateOptions {
  readonly logger?: Logger | undefined;
  /**
   * The role the services connect as. After migrating, it is given exactly what the application needs and nothing
   * more: INSERT and SELECT on the audit trail (no UPDATE, DELETE, TRUNCATE; not the owner, so no ALTER and no
   * trigger control), moving the chain head, writing incidents and action receipts (marking a receipt reverted),
   * reading the migrations' bookkeeping, reading (only) the approver tokens. Applied again on every run (idempotent).
   */
  readonly appRole?: string | undefined;
}

/**
 * What the application role may do, table by table; everything else is revoked. The audit trail itself is
 * INSERT/SELECT only; `SELECT ... FOR UPDATE` of the head needs its column UPDATE right.
 */
const APP_GRANTS: readonly (readonly [table: string, privileges: string])[] = [
  ['audit_events', 'SELECT, INSERT'],
  ['audit_chain_head', 'SELECT, UPDATE (last_sequence, last_hash)'],
  ['incidents', 'SELECT, INSERT, UPDATE'],
  ['action_receipts', 'SELECT, INSERT, UPDATE (reverted_at)'],
  [MIGRATIONS_TABLE, 'SELECT'],
];

/**
 * Other packages' tables the application role may only read. They are narrowed here because this step runs last in
 * every migration path (the local stack, `cortexops-audit migrate --also ...`, compose and Kubernetes), after the
 * broad grant of the other packages' tables. `approver_tokens` is the approver list: only `cortexops-approve tokens`,
 * connected as the owner role, writes it; the approvals service authenticates with SELECT. Skipped while absent.
 */
const APP_READ_ONLY_TABLES: readonly string[] = ['approver_tokens'];

/** The role a PostgreSQL URL names (empty when none). */
function roleOf(url: string): string {
  return decodeURIComponent(new URL(url).username);
}

/** The services' role when they connect with `databaseUrl` and migrate with `migrationUrl`: undefined when it is the same role (a single-role installation). */
export function applicationRoleOf(databaseUrl: string, migrationUrl: string): string | undefined {
  const app = roleOf(databaseUrl);
  return app !== '' && app !== roleOf(migrationUrl) ? app : undefined;
}

/** One package's node-pg-migrate SQL migrations and their own bookkeeping table. */
export interface MigrationSet {
  /** For messages: `audit`, `approvals`, ... */
  readonly name: string;
  readonly dir: string;
  readonly table: string;
}

export const AUDIT_MIGRATIONS: MigrationSet = { name: 'audit', dir: MIGRATIONS_DIR, table: MIGRATIONS_TABLE };

/** Migrations of `set` not yet recorded as run in the database. */
export async function pendingMigrations(client: pg.ClientBase, set: MigrationSet = AUDIT_MIGRATIONS): Promise<string[]> {
  const files = (await readdir(set.dir)).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -'.sql'.length));
  const table = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [set.table]);
  const done = table.rows[0]?.present ? (await client.query<{ name: string }>(`SELECT name FROM ${pg.escapeIdentifier(set.table)}`)).rows.map((r) => r.name) : [];
  return files.filter((name) => !done.includes(name)).sort();
}

function isInsufficientPrivilege(error: unknown): boolean {
  for (let e: unknown = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === INSUFFICIENT_PRIVILEGE) return true;
  }
  return false;
}

async function grantApplicationRole(client: pg.ClientBase, role: string): Promise<void> {
  const found = await client.query<{ rolsuper: boolean; is_me: boolean }>('SELECT rolsuper, rolname = current_user AS is_me FROM pg_roles WHERE rolname = $1', [role]);
  const row = found.rows[0];
  if (!row) throw new Error(`audit: the application role ${JSON.stringify(role)} does not exist`);
  if (row.rolsuper || row.is_me) {
    throw new Error(`audit: the application role ${JSON.stringify(role)} is ${row.is_me ? 'the role that owns the schema' : 'a superuser'}: it could rewrite the audit trail; connect the services as a role of their own`);
  }
  const grantee = pg.escapeIdentifier(role);
  await client.query('BEGIN');
  try {
    for (const [table] of APP_GRANTS) await client.query(`REVOKE ALL ON TABLE ${table} FROM ${grantee}`);
    for (const [table, privileges] of APP_GRANTS) await client.query(`GRANT ${privileges} ON TABLE ${table} TO ${grantee}`);
    const present = await client.query<{ name: string }>('SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL', [APP_READ_ONLY_TABLES]);
    for (const { name } of present.rows) {
      const table = pg.escapeIdentifier(name);
      await client.query(`REVOKE ALL ON TABLE ${table} FROM ${grantee}`);
      await client.query(`GRANT SELECT ON TABLE ${table} TO ${grantee}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Runs the pending migrations of `set` (none pending: only reads its bookkeeping table, so a role that may not
 * change the schema passes on an up-to-date one). Concurrent callers wait on node-pg-migrate's advisory lock. A
 * role without the right to run what is pending gets {@link AuditMigrationRefusedError}.
 */
export async function runMigrations(client: pg.ClientBase, set: MigrationSet, logger?: Logger): Promise<string[]> {
  const pending = await pendingMigrations(client, set);
  if (pending.length === 0) return [];
  // node-pg-migrate wraps a refusal into a plain Error without its SQLSTATE: ask first.
  const may = await client.query<{ create: boolean }>("SELECT has_schema_privilege(current_schema(), 'CREATE') AS create");
  if (!may.rows[0]?.create) throw new AuditMigrationRefusedError(set.name, pending);
  let names: string[];
  try {
    const ran = await runner({
      dbClient: client,
      dir: set.dir,
      migrationsTable: set.table,
      direction: 'up',
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      logger: {
        debug: () => {},
        info: (msg: string) => logger?.debug({ component: `${set.name}-migrations` }, msg),
        warn: (msg: string) => logger?.warn({ component: `${set.name}-migrations` }, msg),
        error: (msg: string) => logger?.error({ component: `${set.name}-migrations` }, msg),
      },
    });
    names = ran.map((m) => m.name);
  } catch (error) {
    throw isInsufficientPrivilege(error) ? new AuditMigrationRefusedError(set.name, pending, { cause: error }) : error;
  }
  if (names.length > 0) logger?.info({ migrations: names }, `${set.name} schema migrated`);
  return names;
}

/**
 * Brings the audit schema up to date, then (with `appRole`) sets the application role's privileges. With nothing
 * to migrate it only reads the bookkeeping table, so a service connected as the application role starts on an
 * up-to-date schema; with migrations pending that role is refused ({@link AuditMigrationRefusedError}).
 */
export async function migrate(pool: pg.Pool, options: MigrateOptions = {}): Promise<string[]> {
  return withClient(pool, async (client) => {
    const names = await runMigrations(client, AUDIT_MIGRATIONS, options.logger);
    if (options.appRole !== undefined) await grantApplicationRole(client, options.appRole);
    return names;
  });
}
