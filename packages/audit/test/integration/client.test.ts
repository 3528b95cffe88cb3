import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, ensureServers, type TestDatabase } from '@cortexops/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/index.js';

/**
 * PostgreSQL ending a backend between two queries of a checked-out client (what a restart does to every session):
 * the process must not die of an unhandled 'error' event, the work fails with the error, and the pool goes on with a
 * new connection. (Without withClient's listener this file's run ends with an uncaught exception.)
 */
describe('audit — a connection terminated while checked out', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let admin: pg.Pool;

  beforeAll(async () => {
    const ctx = await ensureServers(['postgres']);
    db = await createTestDatabase(ctx, 'audit_client');
    pool = new pg.Pool({ connectionString: db.url, max: 1 });
    pool.on('error', () => {});
    admin = new pg.Pool({ connectionString: db.url, max: 1 });
  });

  afterAll(async () => {
    await pool?.end();
    await admin?.end();
    await db?.drop();
  });

  it('the work fails with the termination, nothing is thrown out of band, and the next checkout gets a live connection', async () => {
    let terminatedPid = 0;
    const work = withClient(pool, async (client) => {
      await client.query('BEGIN');
      terminatedPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [terminatedPid]);
      // Idle in transaction, between queries: the server's 57P01 arrives as an 'error' event on the client.
      await sleep(300);
      await client.query('COMMIT');
    });
    await expect(work).rejects.toThrow(/terminat|Connection/i);
    const pid = await withClient(pool, async (client) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    expect(pid).not.toBe(terminatedPid);
  });
});
