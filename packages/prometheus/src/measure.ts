import type { Measurement, TargetRef, VerificationCheck } from '@cortexops/contracts';
import type { InstantQuerier, InstantSample } from './client.js';
import { renderPromql } from './promql.js';

/** One check's outcome in one round (`measurementSchema.checks[number]`). */
export type CheckMeasurement = Measurement['checks'][number];
export type PromqlCheck = Extract<VerificationCheck, { type: 'promql' }>;
export type SuccessCondition = PromqlCheck['successCondition'];

const DETAIL_MAX = 1000;

function clip(text: string): string {
  return text.length <= DETAIL_MAX ? text : `${text.slice(0, DETAIL_MAX - 1)}…`;
}

/** Whether `value <op> threshold` holds. */
export function satisfies(value: number, condition: SuccessCondition): boolean {
  const { op, threshold } = condition;
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '==':
      return value === threshold;
  }
}

function inconclusive(name: string, detail: string): CheckMeasurement {
  return { name, outcome: 'inconclusive', value: null, detail: clip(detail) };
}

/** Why a sample without a usable value is inconclusive, in words a person can act on. */
export function describeSample(sample: Exclude<InstantSample, { kind: 'value' }>): string {
  switch (sample.kind) {
    case 'empty':
      return 'no data: the query returned no series (the target or its metrics are missing, or not scraped yet)';
    case 'not-a-number':
      return `no usable value: the query returned ${sample.raw} (e.g. a ratio over zero desired replicas)`;
    case 'multiple':
      return `ambiguous: the query returned ${sample.count} series, expected one`;
    case 'error':
      return `query failed after ${sample.attempts} attempt${sample.attempts === 1 ? '' : 's'}: ${sample.message}`;
  }
}

/**
 * Measures one promql check of a plan's verification. The query is rendered again from the check's template and the
 * target, and a check whose recorded `query` differs is refused (inconclusive) without querying anything. A value that
 * satisfies `successCondition` is a success, any other value a failure; no data, NaN, ±Inf, several series or a
 * failed query are inconclusive, never success. Never throws for a bad check, target or answer.
 */
export async function measureCheck(check: PromqlCheck, target: TargetRef, client: InstantQuerier, at?: Date): Promise<CheckMeasurement> {
  if ((check as VerificationCheck).type !== 'promql') return inconclusive(check.name, `not a promql check (type ${(check as VerificationCheck).type})`);
  let rendered: string;
  try {
    rendered = renderPromql(check.template, target);
  } catch (error) {
    return inconclusive(check.name, `cannot render template ${check.template} for the target: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (rendered !== check.query) {
    return inconclusive(check.name, `refused: the plan's query is not what template ${check.template} renders for the target (plan: ${check.query}; rendered: ${rendered})`);
  }
  const sample = await client.instant(rendered, at);
  if (sample.kind !== 'value') return inconclusive(check.name, describeSample(sample));
  const { op, threshold } = check.successCondition;
  const ok = satisfies(sample.value, check.successCondition);
  return {
    name: check.name,
    outcome: ok ? 'success' : 'failure',
    value: sample.value,
    detail: clip(`${sample.value} ${ok ? 'satisfies' : 'does not satisfy'} ${op} ${threshold}`),
  };
}
