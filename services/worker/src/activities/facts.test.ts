import { describe, expect, it } from 'vitest';
import { environmentOf } from './facts.js';

describe('worker facts — namespace environments', () => {
  it('maps each named namespace, everything else (and cluster-scoped actions) to the default', () => {
    const of = environmentOf(['demo=development', ' shop = staging '], 'production');
    expect(of('demo')).toBe('development');
    expect(of('shop')).toBe('staging');
    expect(of('payments')).toBe('production');
    expect(of(undefined)).toBe('production');
  });

  it.each(['demo', 'demo=', '=development', 'demo=development=extra'])('refuses %j at start-up, naming the entry', (entry) => {
    expect(() => environmentOf([entry], 'production')).toThrowError(`CORTEXOPS_ENVIRONMENTS: "${entry}" is not namespace=environment`);
  });
});
