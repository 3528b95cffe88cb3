/**
 * `make demo-failure`'s runner: each chaos scenario runs alone, bounded in time, with its progress printed as it goes;
 * it ends PASS (every check held) or FAIL (the first check that did not, or the step that did not happen in time), and
 * what it set up is removed either way. The summary is a table; {@link allPassed} is the exit code's answer.
 */

/** A check that did not hold: the scenario fails with this as its evidence. */
export class ScenarioFailure extends Error {
  readonly code = 'CHAOS_CHECK_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioFailure';
  }
}

/** What a scenario is given: where to log, what to check, what to undo at the end, when to stop. */
export interface ScenarioContext {
  /** A progress line (printed at once, prefixed with the scenario's name and the seconds since it started). */
  readonly step: (line: string) => void;
  /**
   * Records `what` as evidence when `holds`, fails the scenario with it otherwise. `detail` says what was seen
   * (the actual values), in both cases.
   */
  readonly check: (what: string, holds: boolean, detail?: string) => void;
  /** The table's evidence for a PASS: the few facts that prove it (default: the checks' names). */
  readonly conclude: (summary: string) => void;
  /** What to print when the scenario fails (e.g. the last lines a service logged). */
  readonly diagnose: (describe: () => string) => void;
  /** Undone at the end, newest first, whether the scenario passed, failed or ran out of time. */
  readonly defer: (cleanup: () => Promise<unknown>) => void;
  /** Aborted when the scenario's time is up: loops stop waiting. */
  readonly signal: AbortSignal;
  /** Milliseconds left before the scenario's deadline. */
  readonly remainingMs: () => number;
}

export interface Scenario {
  /** Short, stable (the table's first column and `--only`). */
  readonly name: string;
  /** What it shows, in one sentence. */
  readonly title: string;
  /** The whole scenario (set-up, fault, checks) must end within this. */
  readonly timeoutMs: number;
  run(ctx: ScenarioContext): Promise<void>;
}

export type ScenarioVerdict = 'PASS' | 'FAIL';

export interface ScenarioResult {
  readonly name: string;
  readonly result: ScenarioVerdict;
  readonly seconds: number;
  /** The checks that held, in order; for a FAIL, the last entry is what did not. */
  readonly evidence: readonly string[];
  /** What the table shows for a PASS. */
  readonly summary: string;
  /** Cleanups that failed (the scenario's verdict stands; these say what may be left behind). */
  readonly cleanupErrors: readonly string[];
}

export interface RunOptions {
  readonly log?: (line: string) => void;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Runs one scenario to its verdict, then its cleanups (always; a timeout aborts the run and still cleans up). */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const deadline = started + scenario.timeoutMs;
  const evidence: string[] = [];
  const names: string[] = [];
  let summary: string | undefined;
  let lastStep = 'set-up';
  const diagnostics: (() => string)[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const abort = new AbortController();
  const at = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`;
  const ctx: ScenarioContext = {
    step: (line) => {
      lastStep = line;
      log(`[${scenario.name}] ${at()}  ${line}`);
    },
    check: (what, holds, detail) => {
      const line = detail === undefined ? what : `${what} (${detail})`;
      if (!holds) throw new ScenarioFailure(`not so: ${line}`);
      evidence.push(line);
      names.push(what);
      log(`[${scenario.name}] ${at()}  ok: ${line}`);
    },
    conclude: (text) => {
      summary = text;
    },
    diagnose: (describe) => diagnostics.push(describe),
    defer: (cleanup) => cleanups.push(cleanup),
    signal: abort.signal,
    remainingMs: () => Math.max(0, deadline - Date.now()),
  };

  log(`[${scenario.name}] ${at()}  start: ${scenario.title} (at most ${scenario.timeoutMs / 1000} s)`);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new ScenarioFailure(`did not finish within ${scenario.timeoutMs / 1000} s (last step: ${lastStep})`));
    }, scenario.timeoutMs);
  });
  const running = scenario.run(ctx);
  let result: ScenarioVerdict = 'PASS';
  try {
    await Promise.race([running, timedOut]);
  } catch (error) {
    result = 'FAIL';
    const text = error instanceof ScenarioFailure ? error.message : `error: ${message(error)}`;
    // The table gets the first line; the progress shows all of it (a service's output, a stack trace).
    evidence.push(text.split('\n')[0] ?? text);
    log(`[${scenario.name}] ${at()}  FAIL: ${text}`);
    for (const describe of diagnostics) log(describe());
  } finally {
    clearTimeout(timer);
  }
  // A run cut short by the deadline stops at its next wait (the signal is aborted); its late rejection is not news.
  running.catch(() => undefined);
  abort.abort();

  const cleanupErrors: string[] = [];
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      cleanupErrors.push(message(error));
      log(`[${scenario.name}] ${at()}  cleanup failed: ${message(error)}`);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  log(`[${scenario.name}] ${at()}  ${result} (cleaned up${cleanupErrors.length > 0 ? `, ${cleanupErrors.length} cleanup error(s)` : ''})`);
  return { name: scenario.name, result, seconds, evidence, summary: summary ?? names.join('; '), cleanupErrors };
}

/** Runs `scenarios` one after the other (each on servers of its own; the machine is small). */
export async function runScenarios(scenarios: readonly Scenario[], options: RunOptions = {}): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario, options));
  return results;
}

export function allPassed(results: readonly ScenarioResult[]): boolean {
  return results.length > 0 && results.every((r) => r.result === 'PASS' && r.cleanupErrors.length === 0);
}

/** The evidence column: a PASS shows its checks, a FAIL what did not hold. */
function evidenceCell(r: ScenarioResult): string {
  const shown = r.result === 'PASS' ? r.summary : (r.evidence.at(-1) ?? '');
  return r.cleanupErrors.length > 0 ? `${shown}; CLEANUP FAILED: ${r.cleanupErrors.join('; ')}` : shown;
}

/** The summary: scenario | result | seconds | evidence (Markdown, so it reads in a terminal and pastes into a report). */
export function resultTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => [r.name, r.result, r.seconds.toFixed(1), evidenceCell(r).replace(/\|/g, '\\|')]);
  const widths = [0, 1, 2].map((i) => Math.max(['scenario', 'result', 'seconds'][i]!.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join(' | ')} |`;
  return [line(['scenario', 'result', 'seconds', 'evidence']), line(widths.map((w) => '-'.repeat(w)).concat('---')), ...rows.map(line)].join('\n');
}
