import { describe, expect, it } from 'vitest';
import { Bm25Index, lexicalTokens } from './bm25.js';

describe('BM25 — lexical baseline', () => {
  it('tokens — lowercase words and numbers, punctuation and one-letter tokens dropped, unicode letters kept', () => {
    expect(lexicalTokens('OOMKilled: pod/cart-7d9f (exit 137) a — Größe')).toEqual(['oomkilled', 'pod', 'cart', '7d9f', 'exit', '137', 'größe']);
    expect(lexicalTokens('')).toEqual([]);
  });

  it('scores — a document sharing a rare term outranks one sharing only a common term; no shared term scores 0', () => {
    const index = new Bm25Index(['pod failed oomkilled', 'pod failed backoff', 'pod failed unhealthy', 'node disk pressure']);
    const [oom, backoff, unhealthy, disk] = index.scores('oomkilled pod');
    expect(oom).toBeGreaterThan(backoff ?? 0);
    expect(backoff).toBeCloseTo(unhealthy ?? 0, 10);
    expect(disk).toBe(0);
  });

  it('scores — repeated terms saturate (k1) and longer documents are normalised (b)', () => {
    const index = new Bm25Index(['error', 'error error error error error error', 'error and many other words that dilute it a lot']);
    const [one, many, long] = index.scores('error');
    expect(many).toBeGreaterThan(one ?? 0);
    expect(many).toBeLessThan((one ?? 0) * 6);
    expect(long).toBeLessThan(one ?? 0);
  });

  it('scores — an empty query, an empty index, hostile text (10,000 terms, __proto__) are fine', () => {
    expect(new Bm25Index([]).scores('anything')).toEqual([]);
    const index = new Bm25Index(['__proto__ constructor', 'x '.repeat(10_000)]);
    expect(index.scores('')).toEqual([0, 0]);
    expect(index.scores('__proto__')[0]).toBeGreaterThan(0);
    expect(index.scores('constructor toString')[1]).toBe(0);
  });
});
