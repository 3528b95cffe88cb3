import { describe, expect, it } from 'vitest';
import type { Action } from '@cortexops/contracts';
import { planHashOf, stableDiff } from './plan-hash.js';

const restart: Action = { type: 'rollout-restart', kind: 'Deployment', namespace: 'shop', name: 'checkout' };
const diffAt = (time: string, image = '1.0') =>
  ['--- Deployment shop/checkout (live)', '+++ Deployment shop/checkout (after)', `+        kubectl.kubernetes.io/restartedAt: "${time}"`, `   image: checkout:${image}`].join('\n');

describe('worker — the plan hash an approval is bound to', () => {
  it('a restart stamped at another time is the same plan', () => {
    expect(stableDiff(diffAt('2026-11-30T10:00:00Z'))).toBe(stableDiff(diffAt('2026-11-30T10:05:00Z')));
    expect(planHashOf([{ action: restart, targetUid: 'u1', diff: diffAt('2026-11-30T10:00:00Z') }])).toBe(
      planHashOf([{ action: restart, targetUid: 'u1', diff: diffAt('2026-11-30T10:05:00Z') }]),
    );
  });

  it('another diff, another target object or other parameters are another plan', () => {
    const base = planHashOf([{ action: restart, targetUid: 'u1', diff: diffAt('t') }]);
    expect(planHashOf([{ action: restart, targetUid: 'u1', diff: diffAt('t', '2.0') }])).not.toBe(base);
    expect(planHashOf([{ action: restart, targetUid: 'u2', diff: diffAt('t') }])).not.toBe(base);
    expect(planHashOf([{ action: { ...restart, name: 'cart' }, targetUid: 'u1', diff: diffAt('t') }])).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});
