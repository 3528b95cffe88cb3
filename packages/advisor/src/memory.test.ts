import { describe, expect, it } from 'vitest';
import { raisedMemoryLimit } from './memory.js';

describe('memory — raised limits', () => {
  it.each([
    ['256Mi', '4Gi', '384Mi', false],
    ['1Gi', '4Gi', '1536Mi', false],
    ['1.5Gi', '4Gi', '2304Mi', false],
    ['100M', '4Gi', '144Mi', false],
    ['1000Ki', '4Gi', '2Mi', false],
    ['134217728', '4Gi', '192Mi', false],
    ['3Gi', '4Gi', '4096Mi', true],
    ['800Mi', '1G', '953Mi', true],
    ['2731Mi', '4Gi', '4096Mi', true],
    ['4095Mi', '4Gi', '4096Mi', true],
    ['4095.5Mi', '4Gi', '4096Mi', true],
  ])('%s with a maximum of %s → %s', (current, max, memory, capped) => {
    expect(raisedMemoryLimit(current, max)).toEqual({ ok: true, memory, capped });
  });

  it.each([
    [undefined, '4Gi', 'has no memory limit'],
    ['4Gi', '4Gi', 'already at the maximum of 4Gi'],
    ['5Gi', '4Gi', 'already at the maximum'],
    ['lots', '4Gi', 'is not a quantity the planner can read'],
    ['0', '4Gi', 'is not a quantity the planner can read'],
    ['-1Gi', '4Gi', 'is not a quantity the planner can read'],
    ['256Mi', 'unbounded', 'the configured maximum memory "unbounded" is not a quantity'],
  ])('%s with a maximum of %s → no raise (%s)', (current, max, why) => {
    const result = raisedMemoryLimit(current, max);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.why).toContain(why);
  });
});
