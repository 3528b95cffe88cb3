import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type MigrationSet, migrate, runMigrations } from '@cortexops/audit';
import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../context.js';
import { installDebianPackage } from '../install.js';
import { ownerFor } from '../process.js';
import type { ServerDefinition, StackContext } from '../types.js';
import { VERSIONS } from '../versions.js';
import { secretFile } from '../tokens.js';

const run = promisify(execFile);
const { package: pkg, version } = VERSIONS.postgres;
const MAJOR = pkg.split('-')[1] ?? '15';
/** The database the services use; tests create their own beside it. */
export const POSTGRES_DATABASE = 'cortexops';
export const POSTGRES_USER = 'postgres';

const binDir = (ctx: StackContext) => join(ctx.toolsDir, `${pkg}-${version}`, 'usr', 'lib', 'postgresql', MAJOR, 'bin');
const dataDir = (ctx: StackContext) => join(ctx.dataDir, 'postgres', `pgdata-${MAJOR}`);

export function postgresUrl(ctx: StackContext, database = POSTGRES_DATABASE): string {
  return `postgres://${POSTGRES_USER}@${LOCAL_HOST}:${stackPorts(ctx).postgresPort}/${database}`;
}

/**
 * The two roles of the audit trust boundary: `owner` owns the schema and runs the migrations (the stack's set-up
 * does, before the services start); `app` is what the services connect as — INSERT and SELECT on the audit trail,
 * nothing that changes or removes a row, no trigger control. Both log in with a password (SCRAM); only the
 * superuser `postgres` is trusted on loopback (the stack's own set-up and the tests' databases).
 */
export const POSTGRES_ROLES = { owner: 'cortexops_owner', app: 'cortexops_app' } as const;
export type PostgresRole = keyof typeof POSTGRES_ROLES;

const PASSWORD_BYTES = 24;

/**
 * A role's password: generated once per cache into `<cache>/data/postgres/roles/<role>.password` (mode 0600, never
 * printed). Rotate: delete the file and run `make up` (the set-up sets the new one), then restart the services.
 */
export function postgresPassword(ctx: StackContext, role: PostgresRole): string {
  return readFileSync(secretFile(join(ctx.dataDir, 'postgres', 'roles', `${POSTGRES_ROLES[role]}.password`), PASSWORD_BYTES), 'utf8').trim();
}

/** The URL of `role` (with its password) on `database`. */
export function postgresRoleUrl(ctx: StackContext, role: PostgresRole, database = POSTGRES_DATABASE): string {
  const user = POSTGRES_ROLES[role];
  return `postgres://${user}:${encodeURIComponent(postgresPassword(ctx, role))}@${LOCAL_HOST}:${stackPorts(ctx).postgresPort}/${database}`;
}

async function query(ctx: StackContext, database: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: postgresUrl(ctx, database), connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

const tlsDir = (ctx: StackContext) => join(ctx.dataDir, 'postgres', 'tls');

/**
 * The local PostgreSQL's self-signed certificate (for 127.0.0.1 and localhost): a client verifies the server with it
 * as its root (`?sslmode=verify-full&sslrootcert=<this file>`).
 */
export function postgresCaFile(ctx: StackContext): string {
  return join(tlsDir(ctx), 'server.crt');
}

/**
 * Generates the certificate once (openssl, P-256, ten years; the key 0600 and owned by the server's user) and turns
 * TLS on — for a running server too (`ssl` is reloadable). Plain connections stay allowed on loopback.
 */
async function enableTls(ctx: StackContext, client: pg.Client): Promise<void> {
  const dir = tlsDir(ctx);
  const key = join(dir, 'server.key');
  if (!existsSync(postgresCaFile(ctx)) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const temporaryKey = `${key}.${process.pid}`;
    const temporaryCert = `${postgresCaFile(ctx)}.${process.pid}`;
    try {
      await run('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650',
        '-subj', '/CN=cortexops-local-postgres', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout', temporaryKey, '-out', temporaryCert,
      ]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      ctx.log('postgres: openssl is not installed; PostgreSQL runs without TLS (plain connections on loopback)');
      return;
    }
    const owner = ownerFor({ unprivileged });
    chmodSync(temporaryKey, 0o600);
    if (owner) chownSync(temporaryKey, owner.uid, owner.gid);
    renameSync(temporaryKey, key);
    renameSync(temporaryCert, postgresCaFile(ctx));
  }
  const settings = { ssl: 'on', ssl_cert_file: postgresCaFile(ctx), ssl_key_file: key };
  const current = await client.query<{ name: string; setting: string }>('SELECT name, setting FROM pg_settings WHERE name = ANY($1)', [Object.keys(settings)]);
  const same = current.rows.every((row) => settings[row.name as keyof typeof settings] === row.setting) && current.rowCount === 3;
  if (same) return;
  for (const [name, value] of Object.entries(settings)) await client.query(`ALTER SYSTEM SET ${name} = ${pg.escapeLiteral(value)}`);
  await client.query('SELECT pg_reload_conf()');
}

/** Runs `work` with a client of the superuser on `database`. */
async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Who may connect how: the superuser trusted on loopback, every other role with its password. */
const HBA = `# Written by packages/testkit (the local stack). The superuser is trusted on loopback (the stack's set-up and the
# tests' own databases); every other role (the services' cortexops_app, the migrations' cortexops_owner) needs its
# password. Loopback only: the server listens on ${LOCAL_HOST}.
local all ${POSTGRES_USER} trust
host  all ${POSTGRES_USER} 127.0.0.1/32 trust
host  all ${POSTGRES_USER} ::1/128 trust
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128 scram-sha-256
`;

/** Writes the stack's pg_hba.conf unless it already says that; true when it changed (a running server must reload). */
function writeHba(ctx: StackContext): boolean {
  const file = join(dataDir(ctx), 'pg_hba.conf');
  if (existsSync(file) && readFileSync(file, 'utf8') === HBA) return false;
  writeFileSync(file, HBA, { mode: 0o600 });
  const owner = ownerFor({ unprivileged });
  if (owner) chownSync(file, owner.uid, owner.gid);
  return true;
}

/** Creates the roles or sets their passwords (from the files), one set-up at a time (parallel test files run this too). */
async function ensureRoles(client: pg.Client, ctx: StackContext): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('cortexops-roles'))");
    for (const role of Object.keys(POSTGRES_ROLES) as PostgresRole[]) {
      const name = pg.escapeIdentifier(POSTGRES_ROLES[role]);
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [POSTGRES_ROLES[role]]);
      const password = pg.escapeLiteral(postgresPassword(ctx, role));
      // Never a superuser, never able to create roles or databases, never bypassing row security.
      const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${password}`;
      await client.query(exists.rowCount === 0 ? `CREATE ROLE ${name} ${attributes}` : `ALTER ROLE ${name} ${attributes}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Hands `database` and everything in its public schema to the owner role (a stack from before the roles has the
 * audit tables owned by the superuser).
 */
async function handToOwner(client: pg.Client, database: string): Promise<void> {
  const owner = pg.escapeIdentifier(POSTGRES_ROLES.owner);
  await client.query(`ALTER DATABASE ${pg.escapeIdentifier(database)} OWNER TO ${owner}`);
  const objects = await client.query<{ kind: string; name: string }>(
    `SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END AS kind, format('%I', c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'S') AND pg_get_userbyid(c.relowner) <> $1
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i'))))
     UNION ALL
     SELECT 'FUNCTION', format('%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid))
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> $1
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
    [POSTGRES_ROLES.owner],
  );
  for (const { kind, name } of objects.rows) await client.query(`ALTER ${kind} ${name} OWNER TO ${owner}`);
}

/** The stack's other packages' migrations (their own bookkeeping tables), run by the owner before the services start. */
function otherMigrations(ctx: StackContext): MigrationSet[] {
  const sets: MigrationSet[] = [
    { name: 'approvals', dir: join(ctx.repoRoot, 'services', 'approvals', 'migrations'), table: 'approvals_migrations' },
    { name: 'knowledge', dir: join(ctx.repoRoot, 'packages', 'knowledge', 'migrations'), table: 'knowledge_migrations' },
  ];
  return sets.filter((set) => existsSync(set.dir));
}

/**
 * The migration step, as the owner: every package's migrations; then the application role may read and write the
 * other packages' tables (now and those the owner creates later), and the audit store's own step narrows the audit
 * tables to INSERT and SELECT (it runs last, so that nothing broader stays on them).
 */
async function migrateAsOwner(ctx: StackContext, database: string, sets: readonly MigrationSet[]): Promise<void> {
  const pool = new pg.Pool({ connectionString: postgresRoleUrl(ctx, 'owner', database), max: 1 });
  pool.on('error', () => {});
  try {
    const app = pg.escapeIdentifier(POSTGRES_ROLES.app);
    const client = await pool.connect();
    try {
      for (const set of sets) await runMigrations(client, set);
      await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${app}`);
      await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${app}`);
      await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app}`);
      await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${app}`);
    } finally {
      client.release();
    }
    await migrate(pool, { appRole: POSTGRES_ROLES.app });
  } finally {
    await pool.end();
  }
}

/** The cluster-wide part (roles, TLS), once per process and cluster; databases are prepared one by one. */
const clusters = new Map<string, Promise<void>>();

function clusterReady(ctx: StackContext, admin: pg.Client): Promise<void> {
  const key = `${ctx.dataDir}:${stackPorts(ctx).postgresPort}`;
  let ready = clusters.get(key);
  if (!ready) {
    ready = (async () => {
      await ensureRoles(admin, ctx);
      // One generation of the certificate at a time (a key of one run with the certificate of another would not load).
      await admin.query("SELECT pg_advisory_lock(hashtext('cortexops-tls'))");
      try {
        await enableTls(ctx, admin);
      } finally {
        await admin.query("SELECT pg_advisory_unlock(hashtext('cortexops-tls'))");
      }
    })();
    clusters.set(key, ready);
    ready.catch(() => clusters.delete(key));
  }
  return ready;
}

/**
 * Makes `database` what the services expect (idempotent, safe to run from parallel processes): the two roles, the
 * database owned by the owner role, every migration run by it, the application role's rights. The stack runs it for
 * its `cortexops` database on every `make up` (an existing cluster gets the roles on its next start); tests run it
 * on their own databases to connect as the two roles (`otherMigrations: false`: the audit schema only).
 */
export async function prepareRoles(ctx: StackContext, database: string, options: { readonly otherMigrations?: boolean } = {}): Promise<void> {
  await withClient(postgresUrl(ctx, 'postgres'), async (admin) => {
    await clusterReady(ctx, admin);
    // One database set-up at a time: concurrent ALTER ... OWNER of one table fails.
    const lock = `cortexops-roles/${database}`;
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
    try {
      await withClient(postgresUrl(ctx, database), (client) => handToOwner(client, database));
      await migrateAsOwner(ctx, database, (options.otherMigrations ?? true) ? otherMigrations(ctx) : []);
    } finally {
      await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]);
    }
  });
}

/** Creates `database` unless it exists (used by the stack and by tests for isolation). */
export async function createDatabaseIfMissing(ctx: StackContext, database: string): Promise<void> {
  const exists = await query(ctx, 'postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (exists.rowCount === 0) await query(ctx, 'postgres', `CREATE DATABASE ${pg.escapeIdentifier(database)}`);
}

const unprivileged = true;

export const postgres: ServerDefinition = {
  name: 'postgres',
  description: `PostgreSQL ${version}`,
  group: 'stack',
  // Fast shutdown: SIGTERM would wait for every client to disconnect.
  stopSignal: 'SIGINT',
  ports: (ctx) => [{ variable: 'CORTEXOPS_POSTGRES_PORT', port: stackPorts(ctx).postgresPort }],
  install: async (ctx) => {
    await installDebianPackage(ctx, pkg, version);
  },
  prepare: async (ctx) => {
    const dir = dataDir(ctx);
    if (existsSync(join(dir, 'PG_VERSION'))) return;
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    mkdirSync(dir, { mode: 0o700 });
    const owner = ownerFor({ unprivileged });
    if (owner) chownSync(dir, owner.uid, owner.gid);
    await run(join(binDir(ctx), 'initdb'), ['-D', dir, '-U', POSTGRES_USER, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], {
      ...(owner ?? {}),
      maxBuffer: 8 * 1024 * 1024,
    });
    writeHba(ctx);
  },
  command: (ctx) => ({
    command: join(binDir(ctx), 'postgres'),
    args: ['-D', dataDir(ctx), '-h', LOCAL_HOST, '-p', String(stackPorts(ctx).postgresPort), '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    unprivileged,
  }),
  probe: async (ctx) => {
    await query(ctx, 'postgres', 'SELECT 1');
  },
  afterStart: async (ctx) => {
    // A cluster from before the roles gets the stack's pg_hba.conf on its next start, without a restart.
    if (writeHba(ctx)) await query(ctx, 'postgres', 'SELECT pg_reload_conf()');
    await createDatabaseIfMissing(ctx, POSTGRES_DATABASE);
    await prepareRoles(ctx, POSTGRES_DATABASE);
  },
  endpoints: (ctx) => ({ url: postgresUrl(ctx) }),
};
