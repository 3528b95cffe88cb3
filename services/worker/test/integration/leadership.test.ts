import { createLogger } from '@cortexops/observability';
import { createTestDatabase, ensureServers, type TestDatabase } from '@cortexops/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdvisoryLeadership } from '../../src/leadership.js';

const LOCK = 'cortexops-leadership-test';
const logger = createLogger({ service: 'worker', level: 'silent' });
let db: TestDatabase;
const held: AdvisoryLeadership[] = [];

function replica(): AdvisoryLeadership {
  const leadership = new AdvisoryLeadership(db.url, LOCK, logger);
  held.push(leadership);
  return leadership;
}

/** What a PostgreSQL restart or a network cut does to a session: the server ends it. */
async function terminateSessionsOf(name: string): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ ended: boolean }>('SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [`cortexops ${name}`]);
    return rows.filter((r) => r.ended).length;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  const ctx = await ensureServers(['postgres']);
  db = await createTestDatabase(ctx, 'leadership');
}, 120_000);

afterAll(async () => {
  await Promise.all(held.map((l) => l.release()));
  await db?.drop();
});

describe('worker — one replica holds the gauges lock (PostgreSQL advisory lock)', () => {
  it('the first to ask holds it and keeps it; the others do not, until it releases', async () => {
    const [a, b] = [replica(), replica()];
    expect(await a.holds()).toBe(true);
    expect(await b.holds()).toBe(false);
    expect(await a.holds()).toBe(true);
    expect(await b.holds()).toBe(false);
    await a.release();
    expect(await b.holds()).toBe(true);
    expect(await a.holds()).toBe(false);
    await Promise.all([a.release(), b.release()]);
  });

  it('a holder whose session the server ended loses it: another replica takes it, and the old holder, reconnected, does not have it', async () => {
    const [a, b] = [replica(), replica()];
    expect(await a.holds()).toBe(true);
    expect(await b.holds()).toBe(false);
    // Both sessions carry the lock's name; end them all, then let b ask first (as the next refresh would).
    expect(await terminateSessionsOf(LOCK)).toBe(2);
    await expect.poll(() => b.holds().catch(() => 'reconnecting'), { timeout: 10_000, interval: 200 }).toBe(true);
    expect(await a.holds()).toBe(false);
  });

  it('a database that cannot be reached is an error, not a lock', async () => {
    const unreachable = new AdvisoryLeadership('postgres://nobody@127.0.0.1:1/none', LOCK, logger);
    await expect(unreachable.holds()).rejects.toThrow();
    await unreachable.release();
  });
});
