import { beforeAll, describe, expect, it } from 'vitest';
import { codeOf, ensurePolicyWasm, opaEval, PolicyEngine } from '../../src/index.js';
import { DECISION_CASES } from '../cases.js';

let engine: PolicyEngine;

beforeAll(async () => {
  await ensurePolicyWasm();
  engine = await PolicyEngine.create();
  expect(engine.status()).toMatchObject({ ready: true });
});

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
    ]) {
      expect(codes, code).toContain(code);
    }
  });

  it.each(DECISION_CASES)('policy agreement — $name', async (c) => {
    const inProcess = engine.decide(c.input);
    expect({
      allow: inProcess.allow,
      requireApproval: inProcess.requireApproval,
      violations: inProcess.violations.map(codeOf),
      reasons: inProcess.reasons.map(codeOf),
    }).toEqual({ allow: c.allow, requireApproval: c.requireApproval, violations: c.violations, reasons: c.reasons });
    expect(await opaEval(c.input)).toEqual(inProcess);
  });
});
