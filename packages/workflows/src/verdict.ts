import type { Measurement, MeasurementOutcome, VerificationSpec } from '@cortexops/contracts';

/**
 * The verification verdict engine (DESIGN.md, "Verification semantics"): pure and deterministic — spec and the
 * measurements taken so far in, the verdict out; no I/O, no clock. Workflow code calls it after every round.
 */

export type VerdictStatus = 'continue' | 'success' | 'failure' | 'inconclusive';

export interface Verdict {
  readonly status: VerdictStatus;
  /** Why, in words a person can act on (fits `verificationResultSchema.reason`). */
  readonly reason: string;
}

type CheckResult = Measurement['checks'][number];

const REASON_MAX = 2000;
const SEVERITY: Record<MeasurementOutcome, number> = { success: 0, inconclusive: 1, failure: 2 };

function worst(a: MeasurementOutcome, b: MeasurementOutcome): MeasurementOutcome {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

function clip(text: string): string {
  return text.length <= REASON_MAX ? text : `${text.slice(0, REASON_MAX - 1)}…`;
}

/** "1 failed measurement exceeds" / "2 failed measurements exceed". */
function countExceeds(n: number, what: string): string {
  return n === 1 ? `1 ${what} exceeds` : `${n} ${what}s exceed`;
}

/**
 * A round's outcome from its checks: failure if any check failed, else inconclusive if any was, else success.
 * A round without any check is inconclusive (nothing measured is never a success).
 */
export function roundOutcome(checks: readonly Pick<CheckResult, 'outcome'>[]): MeasurementOutcome {
  if (checks.length === 0) return 'inconclusive';
  if (checks.some((c) => c.outcome === 'failure')) return 'failure';
  if (checks.some((c) => c.outcome === 'inconclusive')) return 'inconclusive';
  return 'success';
}

interface Judged {
  readonly outcome: MeasurementOutcome;
  /** The check (or missing check) that made the round what it is, for the reason. */
  readonly why: string;
}

/**
 * One round as the engine counts it: the worst of its recorded outcome, the outcome of its checks, and
 * "inconclusive" for each check of the spec that the round did not measure. So a round cannot count as a success
 * because it says so while a check failed or was left out.
 */
function judge(spec: VerificationSpec, m: Measurement): Judged {
  const missing = spec.checks.map((c) => c.name).filter((name) => !m.checks.some((r) => r.name === name));
  let outcome = worst(m.outcome, roundOutcome(m.checks));
  if (missing.length > 0) outcome = worst(outcome, 'inconclusive');
  const culprit = m.checks.find((c) => c.outcome === outcome);
  let why: string;
  if (culprit) why = `round ${m.round}: ${culprit.name}: ${culprit.detail}`;
  else if (missing.length > 0 && outcome === 'inconclusive') why = `round ${m.round}: not measured: ${missing.join(', ')}`;
  else if (m.checks.length === 0) why = `round ${m.round}: no check measured`;
  else why = `round ${m.round}: recorded as ${m.outcome}`;
  return { outcome, why };
}

/**
 * The verdict after the measurements taken so far (in the order taken; any beyond `spec.count` are ignored):
 * - `failure` as soon as failed rounds exceed `failureLimit`;
 * - `inconclusive` as soon as inconclusive rounds exceed `inconclusiveLimit`;
 * - after `count` rounds: `success` only with at least `minSamples` successful rounds, else `inconclusive`
 *   ("too few samples");
 * - otherwise `continue` (measure again after `intervalMs`).
 */
export function verdictOf(spec: VerificationSpec, measurements: readonly Measurement[]): Verdict {
  const taken = measurements.slice(0, spec.count);
  let successes = 0;
  let failures = 0;
  let inconclusives = 0;
  for (const m of taken) {
    const { outcome, why } = judge(spec, m);
    if (outcome === 'success') successes += 1;
    else if (outcome === 'failure') failures += 1;
    else inconclusives += 1;
    if (failures > spec.failureLimit) {
      return {
        status: 'failure',
        reason: clip(`${countExceeds(failures, 'failed measurement')} the failure limit of ${spec.failureLimit} (${why})`),
      };
    }
    if (inconclusives > spec.inconclusiveLimit) {
      return {
        status: 'inconclusive',
        reason: clip(`${countExceeds(inconclusives, 'inconclusive measurement')} the inconclusive limit of ${spec.inconclusiveLimit} (${why})`),
      };
    }
  }
  const tally = `${successes} successful, ${failures} failed, ${inconclusives} inconclusive`;
  if (taken.length < spec.count) return { status: 'continue', reason: `${taken.length} of ${spec.count} measurements taken: ${tally}` };
  if (successes < spec.minSamples) {
    return { status: 'inconclusive', reason: `too few samples: ${successes} successful of ${spec.count} measurements, at least ${spec.minSamples} needed (${tally})` };
  }
  return { status: 'success', reason: `${successes} of ${spec.count} measurements successful, at least ${spec.minSamples} needed (${tally})` };
}
