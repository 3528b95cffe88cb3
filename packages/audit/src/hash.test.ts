import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ChainedFields, GENESIS_HASH, canonicalJson, chainDocument, hashRow } from './hash.js';

const base: ChainedFields = {
  sequence: 7,
  idempotencyKey: 'wf-1/policy',
  incidentId: 'inc-1',
  workflowId: 'remediation-inc-1',
  kind: 'policy.violation',
  actor: 'worker',
  occurredAt: '2025-01-02T03:04:05.678000Z',
  recordedAt: '2025-01-02T03:04:06.000000Z',
  payload: { b: 1, a: { d: [1, 'x', null], c: true } },
  prevHash: GENESIS_HASH,
};

describe('canonical hashing', () => {
  it('canonical json — sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: 'é' } })).toBe('{"a":{"c":"é","d":[3,1]},"b":1}');
  });

  it('canonical json — writes numbers in their shortest round-trip form (RFC 8785)', () => {
    expect(canonicalJson({ n: [1.0, 1e21, 0.1, -0, 1e-7] })).toBe('{"n":[1,1e+21,0.1,0,1e-7]}');
  });

  it('canonical json — refuses a value with no JSON form', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });

  it('chain document — pins the hashed format: version, every field, prevHash', () => {
    expect(chainDocument(base)).toBe(
      '{"actor":"worker","idempotencyKey":"wf-1/policy","incidentId":"inc-1","kind":"policy.violation",' +
        '"occurredAt":"2025-01-02T03:04:05.678000Z","payload":{"a":{"c":true,"d":[1,"x",null]},"b":1},' +
        `"prevHash":"${GENESIS_HASH}","recordedAt":"2025-01-02T03:04:06.000000Z","sequence":7,"v":1,"workflowId":"remediation-inc-1"}`,
    );
  });

  it('hash — is the SHA-256 of the chain document', () => {
    expect(hashRow(base)).toBe(createHash('sha256').update(chainDocument(base)).digest('hex'));
    expect(hashRow(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hash — does not depend on the key order of the payload', () => {
    expect(hashRow({ ...base, payload: { a: { c: true, d: [1, 'x', null] }, b: 1 } })).toBe(hashRow(base));
  });

  it('hash — changes when any hashed field changes, prevHash included', () => {
    const changes: Partial<ChainedFields>[] = [
      { sequence: 8 },
      { idempotencyKey: 'wf-1/policy2' },
      { incidentId: null },
      { workflowId: null },
      { kind: 'policy.decision' },
      { actor: 'someone' },
      { occurredAt: '2025-01-02T03:04:05.678001Z' },
      { recordedAt: '2025-01-02T03:04:06.001000Z' },
      { payload: { b: 2, a: { d: [1, 'x', null], c: true } } },
      { payload: { b: 1, a: { d: ['x', 1, null], c: true } } },
      { prevHash: 'f'.repeat(64) },
    ];
    const original = hashRow(base);
    const hashes = changes.map((change) => hashRow({ ...base, ...change }));
    for (const hash of hashes) expect(hash).not.toBe(original);
    expect(new Set(hashes).size).toBe(changes.length);
  });

  it('hash — distinguishes null from an absent payload key', () => {
    expect(hashRow({ ...base, payload: { a: null } })).not.toBe(hashRow({ ...base, payload: {} }));
  });
});
