import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, policyBundleHash } from './bundle.js';

describe('policy bundle hash', () => {
  it('policy bundle hash — canonical json sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: 'é' } })).toBe('{"a":{"c":"é","d":[3,1]},"b":1}');
    expect(canonicalJson({ '\u00e9': 1, z: 2, Z: 3, '10': 4, '9': 5 })).toBe('{"10":4,"9":5,"Z":3,"z":2,"é":1}');
    expect(canonicalJson([null, true, 'a"\n', { y: [] }])).toBe('[null,true,"a\\"\\n",{"y":[]}]');
  });

  it('policy bundle hash — canonical json writes numbers in their shortest round-trip form (RFC 8785)', () => {
    expect(canonicalJson({ n: [1.0, 1e21, 0.1, -0, 1e-7, 50] })).toBe('{"n":[1,1e+21,0.1,0,1e-7,50]}');
  });

  it('policy bundle hash — canonical json refuses values with no JSON form', () => {
    for (const bad of [undefined, Number.NaN, Number.POSITIVE_INFINITY, () => 1, 1n, { a: undefined }]) expect(() => canonicalJson(bad)).toThrow(TypeError);
  });

  it('policy bundle hash — SHA-256 of {data, wasm} in canonical form, lowercase hex', () => {
    const wasm = 'a'.repeat(64);
    const hash = policyBundleHash(wasm, { remediation_policy: { modes: { killSwitch: false }, bounds: { maxReplicas: 50 } } });
    const expected = createHash('sha256')
      .update(`{"data":{"remediation_policy":{"bounds":{"maxReplicas":50},"modes":{"killSwitch":false}}},"wasm":"${wasm}"}`)
      .digest('hex');
    expect(hash).toBe(expected);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('policy bundle hash — key order does not matter, any value does', () => {
    const wasm = 'b'.repeat(64);
    const hash = policyBundleHash(wasm, { remediation_policy: { a: 1, modes: { killSwitch: false } } });
    expect(policyBundleHash(wasm, { remediation_policy: { modes: { killSwitch: false }, a: 1 } })).toBe(hash);
    expect(policyBundleHash(wasm, { remediation_policy: { a: 1, modes: { killSwitch: true } } })).not.toBe(hash);
    expect(policyBundleHash('c'.repeat(64), { remediation_policy: { a: 1, modes: { killSwitch: false } } })).not.toBe(hash);
  });
});
