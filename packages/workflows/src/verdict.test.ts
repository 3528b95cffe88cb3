import { measurementSchema, verificationSpecSchema, type Measurement, type MeasurementOutcome, type VerificationSpec } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { roundOutcome, verdictOf, type VerdictStatus } from './verdict.js';

const CHECKS = ['available', 'restarts'] as const;

function spec(overrides: Partial<VerificationSpec> = {}): VerificationSpec {
  return verificationSpecSchema.parse({
    checks: [
      {
        type: 'promql',
        name: 'available',
        template: 'workload-available-ratio',
        query: 'q1',
        successCondition: { op: '>=', threshold: 1 },
      },
      {
        type: 'promql',
        name: 'restarts',
        template: 'workload-container-restarts',
        query: 'q2',
        successCondition: { op: '<', threshold: 1 },
      },
    ],
    stabilisationMs: 0,
    intervalMs: 1000,
    count: 5,
    minSamples: 3,
    ...overrides,
  });
}

const DETAIL: Record<MeasurementOutcome, string> = {
  success: '1 satisfies >= 1',
  failure: '0.5 does not satisfy >= 1',
  inconclusive: 'no data: the query returned no series',
};

/** A round in which the first check has `outcome` and the others succeed (S, F, I in the tables). */
function round(n: number, outcome: MeasurementOutcome): Measurement {
  const checks = CHECKS.map((name, i) => ({
    name,
    outcome: i === 0 ? outcome : ('success' as const),
    value: i === 0 && outcome === 'inconclusive' ? null : 1,
    detail: i === 0 ? DETAIL[outcome] : 'ok',
  }));
  return measurementSchema.parse({ round: n, at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), outcome: roundOutcome(checks), checks });
}

const LETTER = { S: 'success', F: 'failure', I: 'inconclusive' } as const;
function rounds(pattern: string): Measurement[] {
  return [...pattern].map((c, i) => round(i + 1, LETTER[c as keyof typeof LETTER]));
}

describe('verdictOf — table of cases', () => {
  const cases: { name: string; spec: Partial<VerificationSpec>; taken: string; status: VerdictStatus; reason: RegExp }[] = [
    { name: 'no measurement yet continues', spec: {}, taken: '', status: 'continue', reason: /0 of 5 measurements taken/ },
    { name: 'all success after count', spec: {}, taken: 'SSSSS', status: 'success', reason: /5 of 5 measurements successful, at least 3 needed/ },
    { name: 'all success before count continues', spec: {}, taken: 'SSS', status: 'continue', reason: /3 of 5 measurements taken: 3 successful/ },
    { name: 'one failure with limit 0 fails at once', spec: {}, taken: 'SF', status: 'failure', reason: /1 failed measurement exceeds the failure limit of 0 \(round 2: available: 0.5 does not satisfy >= 1\)/ },
    { name: 'first round failing fails at once', spec: {}, taken: 'F', status: 'failure', reason: /round 1/ },
    { name: 'failures within the limit continue', spec: { failureLimit: 2 }, taken: 'SFSF', status: 'continue', reason: /2 failed/ },
    { name: 'failures within the limit still succeed with enough samples', spec: { failureLimit: 2 }, taken: 'SFSFS', status: 'success', reason: /3 of 5 measurements successful/ },
    { name: 'failures past the limit fail', spec: { failureLimit: 2 }, taken: 'FSFF', status: 'failure', reason: /3 failed measurements exceed the failure limit of 2 \(round 4/ },
    { name: 'one empty/NaN round with limit 0 is inconclusive, never success', spec: {}, taken: 'SSIS', status: 'inconclusive', reason: /1 inconclusive measurement exceeds the inconclusive limit of 0 \(round 3: available: no data/ },
    { name: 'every round inconclusive is never success', spec: { inconclusiveLimit: 5 }, taken: 'IIIII', status: 'inconclusive', reason: /too few samples: 0 successful of 5/ },
    { name: 'inconclusive rounds within the limit, enough samples', spec: { inconclusiveLimit: 2 }, taken: 'SISIS', status: 'success', reason: /2 inconclusive/ },
    { name: 'too few samples', spec: { inconclusiveLimit: 3 }, taken: 'SIISI', status: 'inconclusive', reason: /too few samples: 2 successful of 5 measurements, at least 3 needed/ },
    { name: 'too few samples with failures within the limit', spec: { failureLimit: 3, minSamples: 4 }, taken: 'SFSFS', status: 'inconclusive', reason: /too few samples: 3 successful/ },
    { name: 'early stop: failure before count ignores the rest', spec: {}, taken: 'FSSSS', status: 'failure', reason: /round 1/ },
    { name: 'early stop: inconclusive before count', spec: { inconclusiveLimit: 1 }, taken: 'IIS', status: 'inconclusive', reason: /2 inconclusive measurements exceed the inconclusive limit of 1 \(round 2/ },
    { name: 'failure is counted before inconclusive', spec: { inconclusiveLimit: 1 }, taken: 'IF', status: 'failure', reason: /failure limit/ },
    { name: 'minSamples equal to count needs every round', spec: { minSamples: 5, inconclusiveLimit: 1 }, taken: 'SSSSI', status: 'inconclusive', reason: /too few samples: 4 successful/ },
    { name: 'count 1, one success', spec: { count: 1, minSamples: 1 }, taken: 'S', status: 'success', reason: /1 of 1 measurements successful/ },
    { name: 'measurements past count are ignored', spec: { count: 3, minSamples: 3 }, taken: 'SSSF', status: 'success', reason: /3 of 3/ },
  ];

  it.each(cases)('$name ($taken)', ({ spec: overrides, taken, status, reason }) => {
    const verdict = verdictOf(spec(overrides), rounds(taken));
    expect(verdict.status).toBe(status);
    expect(verdict.reason).toMatch(reason);
    expect(verdict.reason.length).toBeLessThanOrEqual(2000);
  });
});

describe('verdictOf — a round counts by its checks, not its label', () => {
  it('a round recorded as success with a failed check is a failure', () => {
    const m = { ...round(1, 'failure'), outcome: 'success' as const };
    expect(verdictOf(spec(), [m]).status).toBe('failure');
  });

  it('a round recorded as success with an inconclusive check is inconclusive', () => {
    const m = { ...round(1, 'inconclusive'), outcome: 'success' as const };
    expect(verdictOf(spec(), [m]).status).toBe('inconclusive');
  });

  it('a round recorded as failure with passing checks is still a failure', () => {
    const m = { ...round(1, 'success'), outcome: 'failure' as const };
    expect(verdictOf(spec(), [m])).toEqual({ status: 'failure', reason: expect.stringMatching(/round 1: recorded as failure/) as string });
  });

  it('a round that left out a check of the spec is inconclusive', () => {
    const m = round(1, 'success');
    const partial = { ...m, checks: m.checks.slice(0, 1) };
    expect(verdictOf(spec(), [partial])).toEqual({ status: 'inconclusive', reason: expect.stringMatching(/round 1: not measured: restarts/) as string });
  });

  it('a round without checks is inconclusive', () => {
    const empty = { ...round(1, 'success'), checks: [] };
    expect(verdictOf(spec(), [empty]).status).toBe('inconclusive');
  });

  it('a very long check detail keeps the reason within 2000 characters', () => {
    const m = round(1, 'failure');
    const long = { ...m, checks: m.checks.map((c) => ({ ...c, detail: 'x'.repeat(1000) })) };
    const verdict = verdictOf(spec(), [long]);
    expect(verdict.status).toBe('failure');
    expect(verdict.reason.length).toBeLessThanOrEqual(2000);
  });

  it('is deterministic: same input, same verdict; the input is not changed', () => {
    const taken = rounds('SFS');
    const copy = structuredClone(taken);
    expect(verdictOf(spec({ failureLimit: 1 }), taken)).toEqual(verdictOf(spec({ failureLimit: 1 }), copy));
    expect(taken).toEqual(copy);
  });
});

describe('roundOutcome — worst check wins', () => {
  it.each([
    [['success', 'success'], 'success'],
    [['success', 'inconclusive'], 'inconclusive'],
    [['inconclusive', 'failure'], 'failure'],
    [['failure', 'success'], 'failure'],
    [['inconclusive'], 'inconclusive'],
    [[], 'inconclusive'],
  ] as [MeasurementOutcome[], MeasurementOutcome][])('%j → %s', (outcomes, expected) => {
    expect(roundOutcome(outcomes.map((outcome) => ({ outcome })))).toBe(expected);
  });
});
