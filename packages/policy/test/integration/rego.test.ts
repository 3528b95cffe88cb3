import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POLICY_DIR, policySources, regoCoverage, runOpa } from '../../src/index.js';

interface OpaTestResult {
  readonly package: string;
  readonly name: string;
  readonly fail?: boolean;
  readonly error?: unknown;
}

describe('policy rego — opa test, check and fmt', () => {
  it('policy rego — every opa unit test passes', async () => {
    const { stdout } = await runOpa(['test', '--format', 'json', POLICY_DIR]);
    const results = JSON.parse(stdout) as OpaTestResult[];
    expect(results.length).toBeGreaterThanOrEqual(40);
    expect(results.filter((r) => r.fail === true || r.error !== undefined).map((r) => r.name)).toEqual([]);
  });

  it('policy rego — the unit tests reach every line of every rule', async () => {
    const coverage = await regoCoverage();
    expect(Object.keys(coverage.files).sort()).toEqual(policySources().map((f) => f.slice(POLICY_DIR.length + 1)));
    for (const [file, percent] of Object.entries(coverage.files)) expect({ file, percent }).toEqual({ file, percent: 100 });
  });

  it('policy rego — every source file has its _test.rego', () => {
    for (const source of policySources()) expect(existsSync(source.replace(/\.rego$/, '_test.rego')), source).toBe(true);
  });

  it('policy rego — sources pass opa check --strict and are opa fmt formatted', async () => {
    await runOpa(['check', '--strict', POLICY_DIR]);
    const { stdout } = await runOpa(['fmt', '--list', POLICY_DIR]);
    expect(stdout.trim()).toBe('');
  });

  it('policy rego — a failing rule test fails opa test with its name', async () => {
    // The harness itself: a broken expectation must surface, not pass silently.
    await expect(runOpa(['test', POLICY_DIR, '--run', 'test_decision_allows_a_plain_action_without_approval', '--ignore', 'data.json'])).rejects.toMatchObject({
      code: 'POLICY_OPA_COMMAND_FAILED',
      message: expect.stringContaining('test_decision_allows_a_plain_action_without_approval') as unknown,
    });
  });
});
