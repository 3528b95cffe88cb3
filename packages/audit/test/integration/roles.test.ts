import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type StackContext, type TestDatabase, POSTGRES_ROLES, createTestDatabase, ensureServers, postgresCaFile, postgresRoleUrl, prepareRoles } from '@cortexops/testkit';
import pg from 'pg';
import {
  AuditCheckpointError,
  AuditCheckpointer,
  AuditConflictError,
  AuditMigrationRefusedError,
  AuditStore,
  FileCheckpointStore,
  VERIFY_FAILURES,
  hashRow,
  type AuditRow,
} from '../../src/index.js';
import { AUDIT_COLUMNS, chainedFieldsOf } from '../../src/rows.js';
import { event } from './helpers.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const KEY = 'checkpoint-key-for-the-roles-test-0123456789';
const INSUFFICIENT_PRIVILEGE = '42501';

let ctx: StackContext;
let db: TestDatabase;
let store: AuditStore;
let owner: pg.Client;
let app: pg.Client;
let dir: string;
let checkpointer: AuditCheckpointer;

function checkpointerOf(file: string, keys = { current: KEY }): AuditCheckpointer {
  return new AuditCheckpointer(store, new FileCheckpointStore(file), keys);
}

async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], { timeout: 60_000, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * What a role that owns the tables can do: switch the triggers off, change a row, recompute every hash after it and
 * move the head — a chain that verifies on its own.
 */
async function rewriteAsOwner(sequence: number, actor: string): Promise<void> {
  await owner.query('BEGIN');
  await owner.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
  await owner.query('ALTER TABLE audit_chain_head DISABLE TRIGGER USER');
  const { rows } = await owner.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE sequence >= $1 ORDER BY audit_events.sequence`, [sequence]);
  let prevHash = rows[0]?.prev_hash ?? '';
  for (const row of rows) {
    const fields = { ...chainedFieldsOf(row), prevHash, ...(Number(row.sequence) === sequence ? { actor } : {}) };
    const hash = hashRow(fields);
    await owner.query('UPDATE audit_events SET actor = $2, prev_hash = $3, hash = $4 WHERE sequence = $1', [row.sequence, fields.actor, prevHash, hash]);
    prevHash = hash;
  }
  await owner.query('UPDATE audit_chain_head SET last_hash = $1', [prevHash]);
  await owner.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
  await owner.query('ALTER TABLE audit_chain_head ENABLE TRIGGER USER');
  await owner.query('COMMIT');
}

beforeAll(async () => {
  // The stack's set-up (afterStart) creates the roles in the running cluster, idempotently.
  ctx = await ensureServers(['postgres']);
});

beforeEach(async () => {
  db = await createTestDatabase(ctx, 'audit_roles');
  await prepareRoles(ctx, db.name, { otherMigrations: false });
  store = await AuditStore.create({ databaseUrl: postgresRoleUrl(ctx, 'app', db.name) });
  owner = new pg.Client({ connectionString: postgresRoleUrl(ctx, 'owner', db.name) });
  app = new pg.Client({ connectionString: postgresRoleUrl(ctx, 'app', db.name) });
  await Promise.all([owner.connect(), app.connect()]);
  dir = mkdtempSync(join(tmpdir(), 'audit-checkpoint-'));
  checkpointer = checkpointerOf(join(dir, 'checkpoint.json'));
});

afterEach(async () => {
  await Promise.all([owner.end(), app.end(), store.close()]);
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
  // A second set-up changes nothing (the stack runs it on every start and from parallel test files).
  await Promise.all([prepareRoles(ctx, 'cortexops'), prepareRoles(ctx, 'cortexops')]);
});

describe('audit roles', () => {
  it('application role — appends, reads and verifies through the store', async () => {
    const written = await store.appendMany([event(1), event(2)]);
    expect(written.map((r) => r.sequence)).toEqual([1, 2]);
    expect((await store.query({ incidentId: 'inc-a' })).records).toHaveLength(2);
    expect(await store.verify()).toMatchObject({ ok: true, rows: 2 });
    await expect(store.append({ ...event(2), payload: { forged: true } })).rejects.toBeInstanceOf(AuditConflictError);
    const who = await app.query<{ current_user: string; rolsuper: boolean }>('SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(who.rows[0]).toEqual({ current_user: POSTGRES_ROLES.app, rolsuper: false });
    // Only the superuser is trusted on loopback: the roles need their passwords (SCRAM).
    const guess = new pg.Client({ connectionString: postgresRoleUrl(ctx, 'owner', db.name).replace(/:[^:@/]+@/, ':guessed@') });
    await expect(guess.connect()).rejects.toMatchObject({ code: '28P01' });
  });

  it('application role — UPDATE, DELETE, TRUNCATE, ALTER, trigger control and schema changes are refused by PostgreSQL', async () => {
    await store.appendMany([event(1), event(2)]);
    // Granting itself more is a no-op (PostgreSQL warns "no privileges were granted"); the UPDATE below stays refused.
    await app.query(`GRANT UPDATE ON audit_events TO ${POSTGRES_ROLES.app}`);
    const statements = [
      "UPDATE audit_events SET actor = 'mallory' WHERE sequence = 1",
      'DELETE FROM audit_events WHERE sequence = 2',
      'TRUNCATE audit_events',
      'TRUNCATE audit_chain_head',
      'DELETE FROM audit_chain_head',
      'ALTER TABLE audit_events DISABLE TRIGGER USER',
      'ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete',
      'ALTER TABLE audit_chain_head DISABLE TRIGGER ALL',
      'ALTER TABLE audit_events ADD COLUMN note text',
      'DROP TRIGGER audit_events_no_truncate ON audit_events',
      'DROP TABLE audit_events',
      'CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$',
      'SET session_replication_role = replica',
      'CREATE TABLE audit_shadow (id int)',
      'UPDATE audit_migrations SET name = name',
    ];
    for (const statement of statements) {
      await expect(app.query(statement), statement).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
    }
    expect(await store.verify()).toMatchObject({ ok: true, rows: 2 });
  });

  it('application role — cannot run pending migrations: the store says to run them as the owner', async () => {
    const empty = await createTestDatabase(ctx, 'audit_roles_empty');
    try {
      const error: unknown = await AuditStore.create({ databaseUrl: postgresRoleUrl(ctx, 'app', empty.name) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuditMigrationRefusedError);
      expect((error as AuditMigrationRefusedError).pending).toEqual(['1735689600000_audit-store', '1764547200000_incidents-updated-at-index']);
      expect((error as Error).message).toContain('CORTEXOPS_DATABASE_MIGRATION_URL');
    } finally {
      await empty.drop();
    }
  });

  it('checkpoint — a rewrite by the owner with every hash recomputed passes the chain check alone, and is caught against the checkpoint', async () => {
    await store.appendMany(Array.from({ length: 5 }, (_, i) => event(i + 1)));
    const written = await checkpointer.checkpoint();
    expect(written).toMatchObject({ ok: true, checkpoint: { sequence: 5 } });
    await store.append(event(6));

    await rewriteAsOwner(3, 'mallory');
    expect(await store.verify()).toMatchObject({ ok: true, rows: 6 }); // the hash chain alone is fooled
    const result = await checkpointer.verify();
    expect(result).toMatchObject({ ok: false, reason: VERIFY_FAILURES.checkpointMismatch, firstBadSequence: 5 });
    expect(result.ok ? '' : result.detail).toContain('rewritten');

    // The checkpointer never signs over a rewritten chain, and the last good checkpoint stays.
    const refused = await checkpointer.checkpoint();
    expect(refused).toMatchObject({ ok: false, result: { reason: VERIFY_FAILURES.checkpointMismatch } });
    expect(await checkpointer.last()).toEqual(written.ok ? written.checkpoint : undefined);

    const env = { CORTEXOPS_AUDIT_CHECKPOINT_KEY: KEY };
    const url = postgresRoleUrl(ctx, 'app', db.name);
    const verify = await cli(['verify', '--database-url', url, '--checkpoint-file', join(dir, 'checkpoint.json')], env);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('BROKEN at sequence 5 (checkpoint-mismatch)');
    const checkpoint = await cli(['checkpoint', '--database-url', url, '--checkpoint-file', join(dir, 'checkpoint.json')], env);
    expect(checkpoint.code).toBe(1);
  });

  it('checkpoint — rows removed from the end with the head moved back are caught; rows after the checkpoint are checked and signed', async () => {
    await store.appendMany(Array.from({ length: 4 }, (_, i) => event(i + 1)));
    expect(await checkpointer.checkpoint()).toMatchObject({ ok: true, checkpoint: { sequence: 4 } });
    await store.appendMany([event(5), event(6)]);
    const next = await checkpointer.checkpoint();
    expect(next).toMatchObject({ ok: true, checkpoint: { sequence: 6 }, previous: { sequence: 4 } });

    await owner.query('BEGIN');
    await owner.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await owner.query('ALTER TABLE audit_chain_head DISABLE TRIGGER USER');
    await owner.query('DELETE FROM audit_events WHERE sequence > 3');
    await owner.query("UPDATE audit_chain_head SET last_sequence = 3, last_hash = (SELECT hash FROM audit_events WHERE sequence = 3)");
    await owner.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    await owner.query('ALTER TABLE audit_chain_head ENABLE TRIGGER USER');
    await owner.query('COMMIT');

    expect(await store.verify()).toMatchObject({ ok: true, rows: 3 });
    expect(await checkpointer.verify()).toMatchObject({ ok: false, reason: VERIFY_FAILURES.checkpointBeyondChain, firstBadSequence: 4 });
    expect(await checkpointer.checkpoint()).toMatchObject({ ok: false, result: { reason: VERIFY_FAILURES.checkpointBeyondChain } });
  });

  it('checkpoint — a changed or foreign-key checkpoint file is refused, and the CLI exits 1 without printing the key', async () => {
    await store.appendMany([event(1), event(2)]);
    const file = join(dir, 'checkpoint.json');
    expect(await checkpointer.checkpoint()).toMatchObject({ ok: true });
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect((await checkpointer.verify()).ok).toBe(true);

    writeFileSync(file, JSON.stringify({ ...stored, sequence: 1 }));
    await expect(checkpointer.verify()).rejects.toBeInstanceOf(AuditCheckpointError);
    writeFileSync(file, 'not json');
    await expect(checkpointer.checkpoint()).rejects.toBeInstanceOf(AuditCheckpointError);
    writeFileSync(file, JSON.stringify(stored));
    await expect(checkpointerOf(file, { current: 'another-key-of-at-least-32-characters!!' }).verify()).rejects.toThrow(/neither the current nor the previous key/);

    writeFileSync(file, JSON.stringify({ ...stored, hash: 'f'.repeat(64) }));
    const result = await cli(['verify', '--database-url', postgresRoleUrl(ctx, 'app', db.name), '--checkpoint-file', file], { CORTEXOPS_AUDIT_CHECKPOINT_KEY: KEY });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('signature does not match');
    expect(`${result.stdout}${result.stderr}`).not.toContain(KEY);
  });

  it('checkpoint — every(): one now, then one per interval; stopping waits for the one in progress', async () => {
    await store.append(event(1));
    const stop = checkpointer.every(200);
    await expect.poll(async () => (await checkpointer.last())?.sequence, { timeout: 5000 }).toBe(1);
    await store.append(event(2));
    await expect.poll(async () => (await checkpointer.last())?.sequence, { timeout: 5000 }).toBe(2);
    await stop();
  });

  it("migrate CLI — runs as the owner (another package's migrations too) and grants the role of CORTEXOPS_DATABASE_URL; a password never reaches its output", async () => {
    const env = { CORTEXOPS_DATABASE_MIGRATION_URL: postgresRoleUrl(ctx, 'owner', db.name), CORTEXOPS_DATABASE_URL: postgresRoleUrl(ctx, 'app', db.name) };
    await owner.query('DROP TABLE IF EXISTS knowledge_points, knowledge_collections, knowledge_migrations');
    await owner.query('DROP SEQUENCE IF EXISTS knowledge_points_revision');
    const result = await cli(['migrate', '--also', `knowledge:${fileURLToPath(new URL('../../../knowledge/migrations', import.meta.url))}`], env);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining(`application role ${POSTGRES_ROLES.app}`) as unknown });
    expect(result.stdout).toContain('knowledge: ran 1767225600000_knowledge-points');
    const tables = await owner.query<{ tableowner: string }>("SELECT DISTINCT tableowner FROM pg_tables WHERE tablename LIKE 'knowledge%'");
    expect(tables.rows).toEqual([{ tableowner: POSTGRES_ROLES.owner }]);
    expect((await cli(['migrate', '--also', 'Not A Name'], env)).code).toBe(2);
    const bad = await cli(['migrate'], { CORTEXOPS_DATABASE_MIGRATION_URL: postgresRoleUrl(ctx, 'owner', db.name).replace('postgres://', 'postgress://') });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('CORTEXOPS_DATABASE_MIGRATION_URL');
    const password = new URL(postgresRoleUrl(ctx, 'owner', db.name)).password;
    expect(`${result.stdout}${result.stderr}${bad.stdout}${bad.stderr}`).not.toContain(password);
  });
});

describe('audit roles — TLS to PostgreSQL', () => {
  const tls = async (url: string): Promise<boolean> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return rows[0]?.ssl ?? false;
    } finally {
      await client.end();
    }
  };

  it('the application role connects with sslmode=verify-full against the stack certificate (by address and by name) and the store works over it; another CA is refused', async () => {
    const url = postgresRoleUrl(ctx, 'app', db.name);
    expect(await tls(`${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(postgresCaFile(ctx))}`)).toBe(true);
    expect(await tls(url)).toBe(false);
    const store = await AuditStore.create({ databaseUrl: `${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(postgresCaFile(ctx))}` });
    try {
      expect((await store.append(event(1))).sequence).toBe(1);
    } finally {
      await store.close();
    }
    const other = join(dir, 'other.crt');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=other', '-keyout', join(dir, 'other.key'), '-out', other]);
    await expect(tls(`${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(other)}`)).rejects.toThrow(/certificate/i);
    const byName = url.replace('127.0.0.1', 'localhost');
    expect(await tls(`${byName}?sslmode=verify-full&sslrootcert=${encodeURIComponent(postgresCaFile(ctx))}`)).toBe(true);
  });
});
