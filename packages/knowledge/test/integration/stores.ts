import pg from 'pg';
import { createTestDatabase, ensureServers, qdrantUrl, uniqueName, type StackContext } from '@cortexops/testkit';
import { expect } from 'vitest';
import { KnowledgeError, PostgresStore, QdrantStore, type VectorStore } from '../../src/index.js';

/** A store of one backend on a fresh collection (Qdrant) or a fresh database (PostgreSQL), and how to get rid of it. */
export interface StoreFixture {
  readonly store: VectorStore;
  /** Another client of the same collection (a second replica), or one that asks for another dimension. */
  another(dimension?: number): Promise<VectorStore>;
  dispose(): Promise<void>;
}

export interface StoreBackend {
  readonly name: 'qdrant' | 'postgres';
  open(dimension: number, options?: { maxPoints?: number }): Promise<StoreFixture>;
}

async function openQdrant(ctx: StackContext, dimension: number): Promise<StoreFixture> {
  const collection = uniqueName('test');
  const create = (d = dimension) => QdrantStore.create({ url: qdrantUrl(ctx), collection, dimension: d });
  const store = await create();
  return { store, another: create, dispose: () => store.drop() };
}

async function openPostgres(ctx: StackContext, dimension: number, maxPoints?: number): Promise<StoreFixture> {
  const db = await createTestDatabase(ctx, 'knowledge');
  const pools: pg.Pool[] = [];
  const create = (d = dimension) => {
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    // The database is dropped WITH (FORCE) at the end: a connection still open then is terminated (57P01), which an
    // idle pool client reports as a pool 'error' event — with no listener, an uncaught exception in the test process.
    pool.on('error', () => {});
    pools.push(pool);
    return PostgresStore.create({ pool, collection: 'incidents', dimension: d, maxPoints });
  };
  const store = await create();
  return {
    store,
    another: create,
    dispose: async () => {
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
    },
  };
}

/** Both real stores: the embedded one and Qdrant (CI has its binary beside the project). */
export const STORE_BACKENDS: readonly StoreBackend[] = [
  { name: 'postgres', open: async (d, o) => openPostgres(await ensureServers(['postgres']), d, o?.maxPoints) },
  // Qdrant is required here: without its binary (CORTEXOPS_QDRANT_BIN) the suite fails naming it, never skips.
  { name: 'qdrant' as const, open: async (d: number) => openQdrant(await ensureServers(['qdrant']), d) },
];

/** The code of the KnowledgeError a promise rejects with (undefined when it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(KnowledgeError);
    return (error as KnowledgeError).code;
  }
}
