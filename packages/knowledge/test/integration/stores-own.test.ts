import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, ensureServers, freePort, qdrantUrl, uniqueName, type StackContext, type TestDatabase } from '@cortexops/testkit';
import { KNOWLEDGE_ERROR_CODES, PostgresStore, QdrantStore } from '../../src/index.js';
import { codeOf } from './stores.js';

const point = (key: string, x: number) => ({ vector: [1, x], payload: { key, type: 'incident' as const, text: key, document: {} } });

describe('embedded store — bounded table', () => {
  let ctx: StackContext;
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    ctx = await ensureServers(['postgres']);
    db = await createTestDatabase(ctx, 'knowledge');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    pool.on('error', () => {}); // a connection terminated by the final DROP ... WITH (FORCE) is not a test failure
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('embedded store — keeps maxPoints live points, the oldest writes pruned (also from another replica’s copy)', async () => {
    const store = await PostgresStore.create({ pool, collection: 'bounded', dimension: 2, maxPoints: 3 });
    const replica = await PostgresStore.create({ pool, collection: 'bounded', dimension: 2, maxPoints: 3 });
    await store.upsert([point('incident:1', 0.1), point('incident:2', 0.2)]);
    expect((await replica.search([1, 0], { limit: 10 })).length).toBe(2);
    await store.upsert([point('incident:3', 0.3), point('incident:4', 0.4)]);
    await store.upsert([point('incident:2', 0.25)]);
    expect(await store.count()).toBe(3);
    expect((await replica.search([1, 0], { limit: 10 })).map((h) => h.payload.key).sort()).toEqual(['incident:2', 'incident:3', 'incident:4']);
    expect(await store.get('incident:1')).toBeUndefined();
  });

  it('embedded store — bad options: maxPoints 0, above a million or fractional; an empty collection name', async () => {
    for (const maxPoints of [0, 1_000_001, 2.5]) expect(await codeOf(PostgresStore.create({ pool, collection: 'x', dimension: 2, maxPoints }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(await codeOf(PostgresStore.create({ pool, collection: '', dimension: 2 }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
  });
});

describe('Qdrant store — its own', () => {
  let ctx: StackContext;
  beforeAll(async () => {
    ctx = await ensureServers(['qdrant']);
  });

  it('Qdrant store — a snapshot of the collection is written under the server’s snapshots path', async () => {
    const store = await QdrantStore.create({ url: qdrantUrl(ctx), collection: uniqueName('test'), dimension: 2 });
    try {
      await store.upsert([point('incident:1', 0.5)]);
      const name = await store.snapshot();
      expect(readdirSync(join(ctx.dataDir, 'qdrant', 'snapshots', store.collection))).toContain(name);
    } finally {
      await store.drop();
    }
  });

  it('Qdrant store — a URL that is not http(s), a bad collection name, a server that does not answer', async () => {
    expect(await codeOf(QdrantStore.create({ url: 'file:///etc/passwd', collection: 'c', dimension: 2 }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(await codeOf(QdrantStore.create({ url: 'not a url', collection: 'c', dimension: 2 }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(await codeOf(QdrantStore.create({ url: qdrantUrl(ctx), collection: '../x', dimension: 2 }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect(await codeOf(QdrantStore.create({ url: closed, collection: 'c', dimension: 2, timeoutMs: 2000 }))).toBe(KNOWLEDGE_ERROR_CODES.unavailable);
  });
});
