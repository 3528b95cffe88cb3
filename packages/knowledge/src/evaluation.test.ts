import { describe, expect, it } from 'vitest';
import { precisionAtK, randomPrecision } from './evaluation.js';

describe('evaluation — precision@k by leave-one-out', () => {
  const labels = ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'];

  it('a scorer that knows the labels scores 1; one that prefers the other kind scores 0', () => {
    expect(precisionAtK(labels, 3, (q, c) => (labels[q] === labels[c] ? 1 : 0))).toBe(1);
    expect(precisionAtK(labels, 3, (q, c) => (labels[q] === labels[c] ? 0 : 1))).toBe(0);
  });

  it('a query is never its own answer, and ties keep the items’ order (deterministic)', () => {
    // Every score ties: each query takes the first three others.
    const p = precisionAtK(labels, 3, () => 0);
    // a-queries: 0 → 1,2,3 (3 a); 1 → 0,2,3; 2 → 0,1,3; 3 → 0,1,2 : all a. b-queries: 4 → 0,1,2 : none ...
    expect(p).toBe(0.5);
  });

  it('random — the share of others of the same kind: 3 of 7 here', () => {
    expect(randomPrecision(labels)).toBeCloseTo(3 / 7, 10);
    expect(randomPrecision(['a', 'b', 'c'])).toBe(0);
  });
});
