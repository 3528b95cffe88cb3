import { afterEach, describe, expect, it } from 'vitest';
import { KNOWLEDGE_ERROR_CODES, type PointPayload, type VectorPoint } from '../../src/index.js';
import { STORE_BACKENDS, codeOf, type StoreFixture } from './stores.js';

const DIM = 4;

function point(key: string, vector: number[], fields: Partial<PointPayload> = {}): VectorPoint {
  return { vector, payload: { key, type: 'incident', text: `text of ${key}`, document: { key }, ...fields } };
}

describe.each(STORE_BACKENDS)('vector store contract — $name', (backend) => {
  let f: StoreFixture | undefined;
  const open = async (options?: { maxPoints?: number }) => {
    f = await backend.open(DIM, options);
    return f.store;
  };
  afterEach(async () => {
    await f?.dispose();
    f = undefined;
  });

  it('store — a collection opened again with the same dimension is the same one; another dimension is refused', async () => {
    const store = await open();
    await store.upsert([point('incident:a', [1, 0, 0, 0])]);
    const again = await f!.another();
    expect(await again.count()).toBe(1);
    expect(again.dimension).toBe(DIM);
    expect(await codeOf(f!.another(DIM + 1))).toBe(KNOWLEDGE_ERROR_CODES.dimensionMismatch);
    expect(await codeOf(f!.another(0))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(await codeOf(f!.another(1.5))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(await again.count()).toBe(1);
  });

  it('upsert — a key written twice is one point holding the second write', async () => {
    const store = await open();
    await store.upsert([point('incident:a', [1, 0, 0, 0], { outcome: 'escalated' })]);
    await store.upsert([point('incident:a', [0, 1, 0, 0], { outcome: 'resolved' })]);
    await store.upsert([point('incident:b', [0, 0, 1, 0]), point('incident:b', [0, 0, 0, 1], { outcome: 'denied' })]);
    expect(await store.count()).toBe(2);
    expect((await store.get('incident:a'))?.outcome).toBe('resolved');
    expect((await store.get('incident:b'))?.outcome).toBe('denied');
    const [hit] = await store.search([0, 1, 0, 0], { limit: 1 });
    expect(hit?.payload.key).toBe('incident:a');
    expect(await store.get('incident:none')).toBeUndefined();
  });

  it('search — nearest first by cosine (length does not matter), at most limit, payload intact', async () => {
    const store = await open();
    await store.upsert([
      point('incident:x', [1, 0, 0, 0]),
      point('incident:near-x', [10, 1, 0, 0], { cluster: 'prod', namespace: 'shop', kind: 'oom-killed', action: 'raise-memory-limit', outcome: 'resolved' }),
      point('incident:y', [0, 1, 0, 0]),
      point('incident:opposite', [-1, 0, 0, 0]),
    ]);
    const hits = await store.search([2, 0, 0, 0], { limit: 3 });
    expect(hits.map((h) => h.payload.key)).toEqual(['incident:x', 'incident:near-x', 'incident:y']);
    expect(hits[0]?.score).toBeCloseTo(1, 5);
    expect(hits[1]?.score).toBeCloseTo(10 / Math.sqrt(101), 5);
    expect(hits[2]?.score).toBeCloseTo(0, 5);
    expect(hits[1]?.payload).toEqual({
      key: 'incident:near-x',
      type: 'incident',
      cluster: 'prod',
      namespace: 'shop',
      kind: 'oom-killed',
      action: 'raise-memory-limit',
      outcome: 'resolved',
      text: 'text of incident:near-x',
      document: { key: 'incident:near-x' },
    });
    const all = await store.search([1, 0, 0, 0], { limit: 100 });
    expect(all.map((h) => h.payload.key).at(-1)).toBe('incident:opposite');
    expect(all.at(-1)?.score).toBeCloseTo(-1, 5);
  });

  it('search — filters on every indexed field, all must match; a point without the field never matches', async () => {
    const store = await open();
    await store.upsert([
      point('incident:1', [1, 0, 0, 0], { cluster: 'prod', namespace: 'shop', kind: 'oom-killed', action: 'raise-memory-limit', outcome: 'resolved' }),
      point('incident:2', [1, 0.1, 0, 0], { cluster: 'prod', namespace: 'payments', kind: 'oom-killed', action: 'raise-memory-limit', outcome: 'rolled-back' }),
      point('incident:3', [1, 0.2, 0, 0], { cluster: 'staging', namespace: 'shop', kind: 'crash-loop', action: 'rollout-restart', outcome: 'resolved' }),
      point('runbook:oom#1', [1, 0.3, 0, 0], { type: 'runbook', kind: 'raise-memory-limit' }),
    ]);
    const keys = async (filter: Record<string, string>) => (await store.search([1, 0, 0, 0], { limit: 10, filter })).map((h) => h.payload.key);
    expect(await keys({ cluster: 'prod' })).toEqual(['incident:1', 'incident:2']);
    expect(await keys({ namespace: 'shop' })).toEqual(['incident:1', 'incident:3']);
    expect(await keys({ kind: 'oom-killed', outcome: 'resolved' })).toEqual(['incident:1']);
    expect(await keys({ action: 'rollout-restart' })).toEqual(['incident:3']);
    expect(await keys({ type: 'runbook' })).toEqual(['runbook:oom#1']);
    expect(await keys({ outcome: 'escalated' })).toEqual([]);
    expect(await store.count({ kind: 'oom-killed', action: 'raise-memory-limit' })).toBe(2);
    expect(await store.count({ kind: 'oom-killed', action: 'raise-memory-limit', outcome: 'resolved' })).toBe(1);
    expect(await store.count({ type: 'incident' })).toBe(3);
  });

  it('delete — a deleted key is gone from search, get and count, also for another client of the same collection', async () => {
    const store = await open();
    await store.upsert([point('incident:a', [1, 0, 0, 0]), point('incident:b', [0, 1, 0, 0])]);
    const other = await f!.another();
    expect((await other.search([1, 0, 0, 0], { limit: 5 })).length).toBe(2);
    await store.delete(['incident:a', 'incident:never-written']);
    expect(await store.count()).toBe(1);
    expect(await store.get('incident:a')).toBeUndefined();
    expect((await other.search([1, 0, 0, 0], { limit: 5 })).map((h) => h.payload.key)).toEqual(['incident:b']);
    await other.upsert([point('incident:c', [0, 0, 1, 0])]);
    expect((await store.search([0, 0, 1, 0], { limit: 1 }))[0]?.payload.key).toBe('incident:c');
  });

  it('bad input — wrong length, NaN, Infinity or an all-zero vector, a limit outside 1..100, an unknown filter field', async () => {
    const store = await open();
    expect(await codeOf(store.upsert([point('incident:a', [1, 0, 0])]))).toBe(KNOWLEDGE_ERROR_CODES.badVector);
    expect(await codeOf(store.upsert([point('incident:a', [1, Number.NaN, 0, 0])]))).toBe(KNOWLEDGE_ERROR_CODES.badVector);
    expect(await codeOf(store.upsert([point('incident:a', [Number.POSITIVE_INFINITY, 0, 0, 0])]))).toBe(KNOWLEDGE_ERROR_CODES.badVector);
    expect(await codeOf(store.upsert([point('incident:a', [0, 0, 0, 0])]))).toBe(KNOWLEDGE_ERROR_CODES.badVector);
    expect(await codeOf(store.search([1, 0, 0, 0, 0], { limit: 1 }))).toBe(KNOWLEDGE_ERROR_CODES.badVector);
    for (const limit of [0, -1, 101, 1.5, Number.NaN]) expect(await codeOf(store.search([1, 0, 0, 0], { limit }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(await codeOf(store.search([1, 0, 0, 0], { limit: 1, filter: { text: 'x' } as never }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(await codeOf(store.count({ 'payload->>x': 'y' } as never))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(await store.count()).toBe(0);
  });

  it('payload — text from telemetry (quotes, SQL, unicode, 10 kB) is stored and found as it was', async () => {
    const store = await open();
    const text = `'; DROP TABLE knowledge_points; -- ${'ü€😀 "quoted" \\ back'.repeat(300)}`;
    await store.upsert([point("incident:it's", [0, 0, 0, 1], { text, namespace: "o'brien" })]);
    const [hit] = await store.search([0, 0, 0, 1], { limit: 1, filter: { namespace: "o'brien" } });
    expect(hit?.payload.text).toBe(text);
    expect((await store.get("incident:it's"))?.namespace).toBe("o'brien");
  });
});
