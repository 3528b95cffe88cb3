import { describe, expect, it } from 'vitest';
import { parseQuantity } from './quantity.js';

describe('quantity — Kubernetes resource quantities', () => {
  it('parses binary, decimal, exponent and milli suffixes', () => {
    expect(parseQuantity('512Mi')).toBe(512 * 2 ** 20);
    expect(parseQuantity('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(parseQuantity('500M')).toBe(500e6);
    expect(parseQuantity('1e9')).toBe(1e9);
    expect(parseQuantity('128974848')).toBe(128974848);
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('1Gi')).toBeGreaterThan(parseQuantity('1G'));
  });

  it('refuses what is not a quantity, naming it', () => {
    for (const bad of ['', 'lots', '1GB', 'Mi', '1 Gi', '--1']) expect(() => parseQuantity(bad)).toThrow(`"${bad}" is not a Kubernetes quantity`);
  });
});
