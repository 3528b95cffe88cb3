import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, DEFAULT_DATA_PATH, ensurePolicyWasm, opaEval, PolicyEngine } from '../../src/index.js';
import { type DecisionCase, DECISION_CASES, TEST_MODES } from '../cases.js';

const dir = mkdtempSync(join(tmpdir(), 'cortexops-policy-agreement-'));
const defaultData = JSON.parse(readFileSync(DEFAULT_DATA_PATH, 'utf8')) as { remediation_policy: Record<string, unknown> };

beforeAll(async () => {
  await ensurePolicyWasm();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** data.json with the case's own `modes` (else TEST_MODES): the same file for the engine and for opa eval. */
async function evaluatorsFor(c: DecisionCase): Promise<{ engine: PolicyEngine; dataPath: string }> {
  const dataPath = join(dir, `${c.name.replaceAll(/[^a-z0-9]+/gi, '-')}.json`);
  writeFileSync(dataPath, JSON.stringify({ remediation_policy: { ...defaultData.remediation_policy, modes: c.modes ?? TEST_MODES } }));
  const own = await PolicyEngine.create({ dataPath });
  expect(own.status()).toMatchObject({ ready: true });
  return { engine: own, dataPath };
}

describe('policy agreement — the wasm evaluator and opa eval', () => {
  it('policy agreement — the table covers at least 15 inputs and every rule', () => {
    expect(DECISION_CASES.length).toBeGreaterThanOrEqual(15);
    const codes = new Set(DECISION_CASES.flatMap((c) => [...c.violations, ...c.reasons]));
    for (const code of [
      'dry-run-failed',
      'protected-namespace',
      'action-not-allowed',
      'replicas-above-maximum',
      'memory-above-maximum',
      'change-freeze',
      'rate-limit-target',
      'rate-limit-cluster',
      'circuit-open',
      'risk-requires-approval',
      'production-requires-approval',
      'stateful-workload',
      'database-target',
      'scale-to-zero',
      'approve-mode',
      'observe-mode',
      'policy-data-invalid',
    ]) {
      expect(codes, code).toContain(code);
    }
    expect(new Set(DECISION_CASES.map((c) => c.mode))).toEqual(new Set(['observe', 'approve', 'auto']));
    expect(DECISION_CASES.some((c) => c.modes?.['killSwitch'] === true)).toBe(true);
  });

  it.each(DECISION_CASES)('policy agreement — $name', async (c) => {
    const { engine, dataPath } = await evaluatorsFor(c);
    const inProcess = engine.decide(c.input);
    expect({
      allow: inProcess.allow,
      mode: inProcess.mode,
      requireApproval: inProcess.requireApproval,
      violations: inProcess.violations.map(codeOf),
      reasons: inProcess.reasons.map(codeOf),
    }).toEqual({ allow: c.allow, mode: c.mode, requireApproval: c.requireApproval, violations: c.violations, reasons: c.reasons });
    expect(await opaEval(c.input, { dataPath })).toEqual(inProcess);
  });
});
