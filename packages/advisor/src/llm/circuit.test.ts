import { describe, expect, it } from 'vitest';
import { TokenBudget } from './budget.js';
import { CircuitBreaker } from './circuit.js';

describe('LLM circuit breaker', () => {
  it('circuit — opens after the threshold of failures in a row; a success in between starts the count again', () => {
    let now = 0;
    const c = new CircuitBreaker(3, 1000, () => now);
    c.failure();
    c.failure();
    c.success();
    c.failure();
    c.failure();
    expect(c.allow()).toBe(true);
    c.failure();
    expect(c.open).toBe(true);
    expect(c.allow()).toBe(false);
    now = 999;
    expect(c.allow()).toBe(false);
  });

  it('circuit — after the cool-down one trial call at a time; its failure opens it again at once, its success closes it', () => {
    let now = 0;
    const c = new CircuitBreaker(1, 1000, () => now);
    c.failure();
    now = 1000;
    expect(c.allow()).toBe(true);
    expect(c.allow()).toBe(false);
    c.failure();
    expect(c.allow()).toBe(false);
    now = 2000;
    expect(c.allow()).toBe(true);
    c.success();
    expect(c.open).toBe(false);
    expect(c.allow()).toBe(true);
    expect(c.allow()).toBe(true);
  });
});

describe('LLM token budget', () => {
  it('budget — per incident and per rolling hour; spent tokens leave the hour after an hour', () => {
    let now = 0;
    const b = new TokenBudget(100, 150, () => now);
    b.add('a', 99);
    expect(b.exhausted('a')).toBeUndefined();
    b.add('a', 1);
    expect(b.exhausted('a')).toMatch(/this incident used 100 of its 100 tokens/);
    b.add('b', 50);
    expect(b.exhausted('c')).toMatch(/the last hour used 150 of its 150 tokens/);
    now = 3_600_001;
    expect(b.exhausted('c')).toBeUndefined();
    expect(b.exhausted('a')).toMatch(/this incident/);
  });

  it('budget — zero, negative and NaN usage add nothing', () => {
    const b = new TokenBudget(1, 1, () => 0);
    for (const n of [0, -5, Number.NaN]) b.add('a', n);
    expect(b.exhausted('a')).toBeUndefined();
  });
});
