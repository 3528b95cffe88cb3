import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../context.js';
import { installDebianPackage } from '../install.js';
import { ownerFor } from '../process.js';
import type { ServerDefinition, StackContext } from '../types.js';
import { VERSIONS } from '../versions.js';

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

async function query(ctx: StackContext, database: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: postgresUrl(ctx, database), connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
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
  },
  command: (ctx) => ({
    command: join(binDir(ctx), 'postgres'),
    args: ['-D', dataDir(ctx), '-h', LOCAL_HOST, '-p', String(stackPorts(ctx).postgresPort), '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    unprivileged,
  }),
  probe: async (ctx) => {
    await query(ctx, 'postgres', 'SELECT 1');
  },
  afterStart: (ctx) => createDatabaseIfMissing(ctx, POSTGRES_DATABASE),
  endpoints: (ctx) => ({ url: postgresUrl(ctx) }),
};
