import { ConfigError, loadServiceConfig } from '@cortexops/config';
import { describe, expect, it } from 'vitest';
import { rulesOf } from './correlator.js';
import { stateTtlMs } from './engine.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadServiceConfig('correlator', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.variable);
  }
  throw new Error('expected a ConfigError');
}

describe('correlator rules — state TTL', () => {
  it('state TTL — 48 h by default, longer when a window looks back further; bad values are refused naming the variable', () => {
    const rules = rulesOf(loadServiceConfig('correlator', {}));
    expect(rules.stateTtlMs).toBe(48 * 3600 * 1000);
    expect(stateTtlMs(rules)).toBe(48 * 3600 * 1000);
    const longRecurrence = rulesOf(loadServiceConfig('correlator', { CORTEXOPS_CORRELATOR_RECURRENCE_WINDOW_MS: String(7 * 24 * 3600 * 1000) }));
    expect(stateTtlMs(longRecurrence)).toBe(7 * 24 * 3600 * 1000 + 60_000);
    for (const bad of ['0', '-5', 'two days', '1.5e3x', String(91 * 24 * 3600 * 1000)]) expect(problemsOf({ CORTEXOPS_CORRELATOR_STATE_TTL_MS: bad })).toEqual(['CORTEXOPS_CORRELATOR_STATE_TTL_MS']);
  });
});
