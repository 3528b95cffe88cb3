import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, ensureServers } from '@cortexops/testkit';
import {
  APPEND_ONLY_SQLSTATE,
  AuditConflictError,
  AuditInputError,
  type AuditEventInput,
  AuditSchemaMissingError,
  AuditStore,
  GENESIS_HASH,
  VERIFY_FAILURES,
  canonicalTimestamp,
  hashRow,
} from '../../src/index.js';
import { type Fixture, event, openFixture } from './helpers.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

async function cliVerify(databaseUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, 'verify', '--database-url', databaseUrl], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Changes a row the way an attacker with superuser access would: past the append-only trigger. */
async function tamper(f: Fixture, sql: string, values: unknown[] = []): Promise<void> {
  await f.sql('BEGIN');
  await f.sql('SET LOCAL session_replication_role = replica');
  await f.sql(sql, values);
  await f.sql('COMMIT');
}

let f: Fixture;
beforeEach(async () => {
  f = await openFixture();
});
afterEach(async () => {
  await f.dispose();
});

describe('audit chain', () => {
  it('append — chains each row to the one before, from the genesis hash', async () => {
    const first = await f.store.append(event(1));
    const second = await f.store.append(event(2));
    expect(first.sequence).toBe(1);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(second.sequence).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    expect(second.hash).not.toBe(first.hash);
    expect(second).toMatchObject({ idempotencyKey: 'wf-a/step-2', incidentId: 'inc-a', kind: 'workflow.state', occurredAt: '2025-01-01T00:00:02.000Z' });
    expect(await f.store.verify()).toEqual({ ok: true, rows: 2, headSequence: 2, headHash: second.hash });
  });

  it('append — a retried append (same idempotency key, same content) writes once and returns the same sequence and hash', async () => {
    const first = await f.store.append(event(1));
    const retry = await f.store.append({ ...event(1), occurredAt: '2025-01-01T01:00:01+01:00', payload: { nested: { list: [1, 'x', null, true, 0.1] }, state: 'PLANNING', n: 1 } });
    expect(retry).toEqual(first);
    const again = await f.store.appendMany([event(2), event(1), event(2)]);
    expect(again.map((r) => r.sequence)).toEqual([2, 1, 2]);
    const { rows } = await f.sql<{ n: string }>('SELECT count(*) AS n FROM audit_events');
    expect(rows[0]?.n).toBe('2');
    expect((await f.store.verify()).ok).toBe(true);
  });

  it('append — a known idempotency key with other content is an error naming what differs, and nothing of its batch is written', async () => {
    const first = await f.store.append(event(1));
    const variants: [Partial<AuditEventInput>, string][] = [
      [{ occurredAt: '2025-06-01T00:00:00Z' }, 'occurredAt'],
      [{ payload: { n: 1, state: 'RESOLVED' } }, 'payload'],
      [{ actor: 'mallory' }, 'actor'],
      [{ kind: 'workflow.state', incidentId: 'inc-b' }, 'incidentId'],
      [{ workflowId: undefined }, 'workflowId'],
      [{ kind: 'plan.proposed' }, 'kind'],
    ];
    for (const [change, field] of variants) {
      const error: unknown = await f.store.append({ ...event(1), ...change }).catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(AuditConflictError);
      expect(error).toMatchObject({ code: 'AUDIT_CONFLICT', idempotencyKey: 'wf-a/step-1', fields: [field], existing: first });
    }
    const batch: unknown = await f.store.appendMany([event(2), { ...event(1), actor: 'mallory' }]).catch((e: unknown) => e);
    expect(batch).toBeInstanceOf(AuditConflictError);
    const inBatch: unknown = await f.store.appendMany([event(3), { ...event(3), payload: {} }]).catch((e: unknown) => e);
    expect(inBatch).toMatchObject({ code: 'AUDIT_CONFLICT', idempotencyKey: 'wf-a/step-3', fields: ['payload'] });
    expect(await f.store.verify()).toEqual({ ok: true, rows: 1, headSequence: 1, headHash: first.hash });
  });

  it('appendMany — chains a batch in order in one transaction', async () => {
    await f.store.append(event(0));
    const batch = await f.store.appendMany(Array.from({ length: 250 }, (_, i) => event(i + 1)));
    expect(batch.map((r) => r.sequence)).toEqual(Array.from({ length: 250 }, (_, i) => i + 2));
    for (let i = 1; i < batch.length; i++) expect(batch[i]?.prevHash).toBe(batch[i - 1]?.hash);
    const stored = await f.store.query({ limit: 1000 });
    expect(stored.records.slice(1)).toEqual(batch);
    expect(await f.store.verify()).toMatchObject({ ok: true, rows: 251 });
  });

  it('concurrency — parallel appends from several stores never fork the chain', async () => {
    const other = await AuditStore.create({ databaseUrl: f.db.url });
    try {
      const writes = Array.from({ length: 40 }, (_, i) =>
        i % 4 === 0 ? (i % 8 === 0 ? f.store : other).appendMany([event(i * 10), event(i * 10 + 1)]) : (i % 2 === 0 ? f.store : other).append(event(i * 10)),
      );
      await Promise.all(writes);
      const result = await f.store.verify();
      expect(result).toMatchObject({ ok: true, rows: 50 });
      const { rows } = await f.sql<{ n: string }>('SELECT count(DISTINCT prev_hash) AS n FROM audit_events');
      expect(rows[0]?.n).toBe('50');
    } finally {
      await other.close();
    }
  });

  it('concurrency — the same event retried at once from two stores is written once', async () => {
    const other = await AuditStore.create({ databaseUrl: f.db.url });
    try {
      const results = await Promise.all([f.store.append(event(1)), other.append(event(1)), f.store.appendMany([event(1), event(2)]), other.append(event(2))]);
      expect(new Set(results.flat().map((r) => `${r.idempotencyKey}#${r.sequence}#${r.hash}`)).size).toBe(2);
      expect(await f.store.verify()).toMatchObject({ ok: true, rows: 2 });
    } finally {
      await other.close();
    }
  });

  it('append-only — the database refuses UPDATE, DELETE and TRUNCATE of audit rows, and moving the head back', async () => {
    await f.store.appendMany([event(1), event(2)]);
    const statements = [
      "UPDATE audit_events SET actor = 'mallory' WHERE sequence = 1",
      'DELETE FROM audit_events WHERE sequence = 2',
      'TRUNCATE audit_events',
      'UPDATE audit_chain_head SET last_sequence = 1',
      'DELETE FROM audit_chain_head',
    ];
    for (const statement of statements) {
      await expect(f.sql(statement), statement).rejects.toMatchObject({ code: APPEND_ONLY_SQLSTATE, message: expect.stringContaining('append-only') as unknown });
    }
    expect(await f.store.verify()).toMatchObject({ ok: true, rows: 2 });
  });

  it('tamper — changing one row makes verify fail and name that row; the CLI prints it and exits 1', async () => {
    await f.store.appendMany(Array.from({ length: 5 }, (_, i) => event(i + 1)));
    expect(await cliVerify(f.db.url)).toMatchObject({ code: 0, stdout: expect.stringContaining('intact: 5 rows') as unknown });

    await tamper(f, `UPDATE audit_events SET payload = jsonb_set(payload, '{state}', '"RESOLVED"') WHERE sequence = 3`);
    const result = await f.store.verify();
    expect(result).toMatchObject({ ok: false, firstBadSequence: 3, reason: VERIFY_FAILURES.hashMismatch, rows: 2 });
    expect(result.ok ? undefined : result.row?.payload).toMatchObject({ state: 'RESOLVED' });

    const cli = await cliVerify(f.db.url);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('BROKEN at sequence 3 (hash-mismatch)');
    expect(cli.stdout).toContain('"RESOLVED"');
  });

  it('tamper — a changed sub-millisecond digit of a timestamp is seen', async () => {
    await f.store.appendMany([event(1), event(2)]);
    await tamper(f, "UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE sequence = 2");
    expect(await f.store.verify()).toMatchObject({ ok: false, firstBadSequence: 2, reason: VERIFY_FAILURES.hashMismatch });
  });

  it('tamper — a row rewritten with a matching hash breaks the link of the next row', async () => {
    const rows = await f.store.appendMany([event(1), event(2), event(3)]);
    const row2 = rows[1]!;
    const forged = hashRow({
      sequence: 2,
      idempotencyKey: row2.idempotencyKey,
      incidentId: row2.incidentId ?? null,
      workflowId: row2.workflowId ?? null,
      kind: row2.kind,
      actor: 'mallory',
      occurredAt: canonicalTimestamp(row2.occurredAt),
      recordedAt: canonicalTimestamp(row2.recordedAt),
      payload: row2.payload,
      prevHash: row2.prevHash,
    });
    await tamper(f, "UPDATE audit_events SET actor = 'mallory', hash = $1 WHERE sequence = 2", [forged]);
    expect(await f.store.verify()).toMatchObject({ ok: false, firstBadSequence: 3, reason: VERIFY_FAILURES.prevHashMismatch, rows: 2 });
  });

  it('tamper — a removed row and a removed tail are both named', async () => {
    await f.store.appendMany(Array.from({ length: 4 }, (_, i) => event(i + 1)));
    await tamper(f, 'DELETE FROM audit_events WHERE sequence = 4');
    expect(await f.store.verify()).toMatchObject({ ok: false, firstBadSequence: 4, reason: VERIFY_FAILURES.headMismatch, rows: 3 });
    await tamper(f, 'DELETE FROM audit_events WHERE sequence = 2');
    expect(await f.store.verify()).toMatchObject({ ok: false, firstBadSequence: 2, reason: VERIFY_FAILURES.sequenceGap, rows: 1 });
  });

  it('bad values — an invalid event is refused naming its field, and nothing of its batch is written', async () => {
    await f.store.append(event(1));
    await expect(f.store.append({ ...event(2), kind: 'nope' } as never)).rejects.toMatchObject({ name: 'AuditInputError', field: 'kind' });
    const error: unknown = await f.store.appendMany([event(2), event(3), { ...event(4), payload: { x: 'a\u0000' } }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditInputError);
    expect((error as AuditInputError).field).toBe('[2].payload.x');
    await expect(f.store.appendMany('not a list' as never)).rejects.toMatchObject({ field: '(root)' });
    expect(await f.store.verify()).toMatchObject({ ok: true, rows: 1 });
    // The store still works afterwards.
    expect((await f.store.append(event(2))).sequence).toBe(2);
  });

  it('schema — a store opened without migrations on an empty database says so', async () => {
    const empty = await createTestDatabase(await ensureServers(['postgres']), 'audit_empty');
    const store = await AuditStore.create({ databaseUrl: empty.url, migrate: false });
    try {
      await expect(store.verify()).rejects.toBeInstanceOf(AuditSchemaMissingError);
      await expect(store.append(event(1))).rejects.toBeInstanceOf(AuditSchemaMissingError);
      const cli = await cliVerify(empty.url);
      expect(cli.code).toBe(2);
      expect(cli.stderr).toContain('audit schema is missing');
    } finally {
      await store.close();
      await empty.drop();
    }
  });

  it('migrations — run once; a second store and concurrent opens find the schema up to date', async () => {
    const stores = await Promise.all([AuditStore.create({ databaseUrl: f.db.url }), AuditStore.create({ databaseUrl: f.db.url })]);
    await Promise.all(stores.map((s) => s.close()));
    const { rows } = await f.sql<{ name: string }>('SELECT name FROM audit_migrations');
    expect(rows.map((r) => r.name)).toEqual(['1735689600000_audit-store', '1764547200000_incidents-updated-at-index']);
  });
});
