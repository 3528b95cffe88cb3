import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOf, REASON_CODES, reasonCodes, shouldEscalate, VIOLATION_CODES, violationCodes } from './codes.js';
import { POLICY_DIR } from './paths.js';

const ENGINE_ONLY = new Set<string>([VIOLATION_CODES.policyUnavailable, VIOLATION_CODES.policyEvaluationFailed]);

describe('policy codes', () => {
  it('policy codes — codes.ts and codes.rego name the same codes', () => {
    const rego = readFileSync(join(POLICY_DIR, 'codes.rego'), 'utf8');
    const inRego = [...rego.matchAll(/^\s*"[a-z_]+": "([a-z-]+)",$/gm)].map((m) => m[1]).sort();
    const inTs = [...Object.values(VIOLATION_CODES).filter((c) => !ENGINE_ONLY.has(c)), ...Object.values(REASON_CODES)].sort();
    expect(inRego).toEqual(inTs);
  });

  it('policy codes — the code is the text before the first ": "', () => {
    expect(codeOf('change-freeze: black-friday is in force: no changes')).toBe('change-freeze');
    expect(codeOf('no separator')).toBe('no separator');
  });

  it('policy codes — escalation only when the circuit breaker is open', () => {
    const open = { allow: false, mode: 'auto' as const, requireApproval: false, reasons: ['risk-requires-approval: x'], violations: ['rate-limit-target: x', 'circuit-open: 3 failed'] };
    expect(violationCodes(open)).toEqual(['rate-limit-target', 'circuit-open']);
    expect(reasonCodes(open)).toEqual(['risk-requires-approval']);
    expect(shouldEscalate(open)).toBe(true);
    expect(shouldEscalate({ ...open, violations: ['rate-limit-target: x'] })).toBe(false);
  });
});
