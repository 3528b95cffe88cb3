import { measurementSchema, type TargetRef } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import type { InstantQuerier, InstantSample } from './client.js';
import { measureCheck, satisfies, type PromqlCheck } from './measure.js';
import { renderPromql } from './promql.js';

const target: TargetRef = { kind: 'Deployment', namespace: 'shop', name: 'web' };

function check(overrides: Partial<PromqlCheck> = {}): PromqlCheck {
  return {
    type: 'promql',
    name: 'available',
    template: 'workload-available-ratio',
    query: renderPromql('workload-available-ratio', target),
    successCondition: { op: '>=', threshold: 1 },
    ...overrides,
  };
}

/** A querier that answers `sample` and records the queries it was asked. */
function answering(sample: InstantSample): InstantQuerier & { queries: string[] } {
  const queries: string[] = [];
  return {
    queries,
    instant: async (query) => {
      queries.push(query);
      return sample;
    },
  };
}

/** The per-check result must fit the contracts' measurement. */
function fits(result: unknown) {
  expect(() => measurementSchema.parse({ round: 1, at: '2026-01-01T00:00:00.000Z', outcome: 'success', checks: [result] })).not.toThrow();
}

describe('measureCheck — outcomes', () => {
  it('a value satisfying the condition is a success', async () => {
    const client = answering({ kind: 'value', value: 1 });
    const result = await measureCheck(check(), target, client);
    expect(result).toEqual({ name: 'available', outcome: 'success', value: 1, detail: '1 satisfies >= 1' });
    expect(client.queries).toEqual([check().query]);
    fits(result);
  });

  it('a value not satisfying the condition is a failure, with the value', async () => {
    const result = await measureCheck(check(), target, answering({ kind: 'value', value: 0.5 }));
    expect(result).toEqual({ name: 'available', outcome: 'failure', value: 0.5, detail: '0.5 does not satisfy >= 1' });
    fits(result);
  });

  it.each([
    [{ kind: 'empty' }, /no data/],
    [{ kind: 'not-a-number', raw: 'NaN' }, /returned NaN/],
    [{ kind: 'not-a-number', raw: '+Inf' }, /returned \+Inf/],
    [{ kind: 'not-a-number', raw: '-Inf' }, /returned -Inf/],
    [{ kind: 'multiple', count: 2 }, /returned 2 series, expected one/],
    [{ kind: 'error', message: 'cannot reach http://x: ECONNREFUSED', attempts: 4, reason: 'network' }, /query failed after 4 attempts: cannot reach/],
  ] as [InstantSample, RegExp][])('%o is inconclusive, never success', async (sample, detail) => {
    const result = await measureCheck(check({ successCondition: { op: '<=', threshold: 1e9 } }), target, answering(sample));
    expect(result).toMatchObject({ name: 'available', outcome: 'inconclusive', value: null });
    expect(result.detail).toMatch(detail);
    fits(result);
  });

  it('a long error message is clipped to the detail limit', async () => {
    const result = await measureCheck(check(), target, answering({ kind: 'error', message: 'x'.repeat(5000), attempts: 1, reason: 'server' }));
    expect(result.detail.length).toBeLessThanOrEqual(1000);
    fits(result);
  });
});

describe('measureCheck — refusals', () => {
  it('a query that is not what the template renders is refused without being sent', async () => {
    const client = answering({ kind: 'value', value: 1 });
    const result = await measureCheck(check({ query: 'vector(1)' }), target, client);
    expect(result).toMatchObject({ outcome: 'inconclusive', value: null, detail: expect.stringMatching(/^refused: the plan's query is not what template/) as string });
    expect(client.queries).toEqual([]);
  });

  it('a query rendered for another target is refused', async () => {
    const other = renderPromql('workload-available-ratio', { ...target, name: 'api' });
    const result = await measureCheck(check({ query: other }), target, answering({ kind: 'value', value: 1 }));
    expect(result.outcome).toBe('inconclusive');
  });

  it('a template that does not apply to the target is inconclusive with the reason', async () => {
    const result = await measureCheck(check({ template: 'node-ready' }), target, answering({ kind: 'value', value: 1 }));
    expect(result).toMatchObject({ outcome: 'inconclusive', detail: expect.stringMatching(/template node-ready does not apply to a Deployment/) as string });
  });

  it('a hostile target is inconclusive, never queried', async () => {
    const client = answering({ kind: 'value', value: 1 });
    const result = await measureCheck(check(), { ...target, name: 'web"} or vector(1) #' }, client);
    expect(result).toMatchObject({ outcome: 'inconclusive', detail: expect.stringMatching(/invalid target/) as string });
    expect(client.queries).toEqual([]);
  });
});

describe('satisfies — each comparison', () => {
  it.each([
    [1, '<', 2, true],
    [2, '<', 2, false],
    [2, '<=', 2, true],
    [3, '<=', 2, false],
    [3, '>', 2, true],
    [2, '>', 2, false],
    [2, '>=', 2, true],
    [1, '>=', 2, false],
    [2, '==', 2, true],
    [2.0000001, '==', 2, false],
  ] as const)('%d %s %d is %s', (value, op, threshold, expected) => {
    expect(satisfies(value, { op, threshold })).toBe(expected);
  });
});
