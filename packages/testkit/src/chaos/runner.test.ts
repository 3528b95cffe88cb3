import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { allPassed, resultTable, runScenario, runScenarios, type Scenario } from './runner.js';
import { CHAOS_SCENARIOS, selectScenarios } from './scenarios.js';

const scenario = (name: string, run: Scenario['run'], timeoutMs = 5_000): Scenario => ({ name, title: `${name} title`, timeoutMs, run });

describe('chaos runner — verdicts, deadlines and cleanups', () => {
  it('runner — a scenario whose checks hold is PASS with its evidence, its cleanups run newest first', async () => {
    const order: string[] = [];
    const lines: string[] = [];
    const result = await runScenario(
      scenario('good', async (ctx) => {
        ctx.defer(async () => order.push('first'));
        ctx.defer(async () => order.push('second'));
        ctx.check('one incident', true, '1');
        ctx.check('chain verifies', true);
      }),
      { log: (l) => lines.push(l) },
    );
    expect(result).toMatchObject({ name: 'good', result: 'PASS', evidence: ['one incident (1)', 'chain verifies'], summary: 'one incident; chain verifies', cleanupErrors: [] });
    expect(order).toEqual(['second', 'first']);
    expect(lines[0]).toMatch(/^\[good\] +0\.\d s {2}start: good title \(at most 5 s\)$/);
    expect(lines.some((l) => l.includes('ok: one incident (1)'))).toBe(true);
    expect(allPassed([result])).toBe(true);
  });

  it('runner — the first check that does not hold makes it FAIL naming what was seen; later steps do not run; cleanups still run', async () => {
    let after = false;
    let cleaned = false;
    const result = await runScenario(
      scenario('bad', async (ctx) => {
        ctx.defer(async () => (cleaned = true));
        ctx.check('applied once', false, '2 action.applied');
        after = true;
      }),
    );
    expect(result.result).toBe('FAIL');
    expect(result.evidence.at(-1)).toBe('not so: applied once (2 action.applied)');
    expect(after).toBe(false);
    expect(cleaned).toBe(true);
    expect(allPassed([result])).toBe(false);
  });

  it('runner — a scenario past its deadline is FAIL, its signal aborted and its cleanups run; an error thrown is FAIL with its message', async () => {
    let signal: AbortSignal | undefined;
    let cleaned = false;
    const slow = await runScenario(
      scenario(
        'slow',
        async (ctx) => {
          signal = ctx.signal;
          ctx.defer(async () => (cleaned = true));
          await sleep(10_000, undefined, { signal: ctx.signal });
        },
        200,
      ),
    );
    expect(slow).toMatchObject({ result: 'FAIL', evidence: ['did not finish within 0.2 s (last step: set-up)'] });
    expect(slow.seconds).toBeLessThan(5);
    expect(signal?.aborted).toBe(true);
    expect(cleaned).toBe(true);

    const thrown = await runScenario(scenario('throws', () => Promise.reject(new Error('worker exited with 1'))));
    expect(thrown).toMatchObject({ result: 'FAIL', evidence: ['error: worker exited with 1'] });
  });

  it('runner — a cleanup that fails is reported and fails the run; nothing run is not a pass', async () => {
    const result = await runScenario(
      scenario('leaky', async (ctx) => {
        ctx.defer(() => Promise.reject(new Error('namespace still there')));
        ctx.check('fine', true);
      }),
    );
    expect(result).toMatchObject({ result: 'PASS', cleanupErrors: ['namespace still there'] });
    expect(allPassed([result])).toBe(false);
    expect(resultTable([result])).toContain('CLEANUP FAILED: namespace still there');
    expect(allPassed([])).toBe(false);
  });

  it('runner — scenarios run one after another; the table has scenario | result | seconds | evidence, a FAIL showing what did not hold', async () => {
    const running: string[] = [];
    const results = await runScenarios([
      scenario('a', async (ctx) => {
        running.push('a');
        await sleep(50);
        ctx.conclude('1 incident | 0 duplicates');
        running.push('a done');
      }),
      scenario('b', async (ctx) => {
        running.push('b');
        ctx.check('resumed', false);
      }),
    ]);
    expect(running).toEqual(['a', 'a done', 'b']);
    const lines = resultTable(results).split('\n');
    expect(lines[0]).toMatch(/^\| scenario +\| result \| seconds \| evidence \|$/);
    expect(lines[2]).toMatch(/^\| a +\| PASS +\| \d+\.\d +\| 1 incident \\\| 0 duplicates \|$/);
    expect(lines[3]).toMatch(/^\| b +\| FAIL +\| \d+\.\d +\| not so: resumed \|$/);
  });

  it('scenarios — --only picks by name in the given order; an unknown or empty-looking name is refused naming the known ones', () => {
    expect(selectScenarios([]).map((s) => s.name)).toEqual(CHAOS_SCENARIOS.map((s) => s.name));
    const [first] = CHAOS_SCENARIOS;
    expect(selectScenarios([first!.name])).toEqual([first]);
    for (const bad of ['nope', 'REMEDIATION-LOOP', ' remediation-loop', '*']) {
      expect(() => selectScenarios([bad])).toThrow(`unknown scenario "${bad}"; known: ${CHAOS_SCENARIOS.map((s) => s.name).join(', ')}`);
    }
  });
});
