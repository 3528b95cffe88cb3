import { describe, expect, it } from 'vitest';
import { AuditCheckpointError } from './errors.js';
import { checkpointKeyId, openCheckpoint, signCheckpoint } from './checkpoint.js';

const key = 'k'.repeat(32);
const other = 'o'.repeat(40);
const head = { sequence: 42, hash: 'a'.repeat(64) };
const at = new Date('2026-01-02T03:04:05.678Z');

function refusal(value: unknown, keys = { current: key }): string {
  try {
    openCheckpoint(value, keys);
  } catch (error) {
    expect(error).toBeInstanceOf(AuditCheckpointError);
    return (error as AuditCheckpointError).message;
  }
  throw new Error('expected the checkpoint to be refused');
}

describe('audit checkpoint', () => {
  it('sign — records the head, the time and the key id, with an HMAC that opens with the same key', () => {
    const checkpoint = signCheckpoint(head, { current: key }, at);
    expect(checkpoint).toMatchObject({ v: 1, sequence: 42, hash: head.hash, at: '2026-01-02T03:04:05.678Z', keyId: checkpointKeyId(key) });
    expect(checkpoint.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(checkpoint.keyId).not.toContain('k');
    expect(openCheckpoint(JSON.parse(JSON.stringify(checkpoint)), { current: key })).toEqual(checkpoint);
  });

  it('rotation — a checkpoint signed with the previous key still opens; new ones are signed with the current key', () => {
    const old = signCheckpoint(head, { current: other }, at);
    expect(openCheckpoint(old, { current: key, previous: other })).toEqual(old);
    expect(signCheckpoint(head, { current: key, previous: other }, at).keyId).toBe(checkpointKeyId(key));
    expect(refusal(old)).toContain('neither the current nor the previous key');
  });

  it('bad values — a changed field, a forged MAC, a malformed or missing checkpoint and a short key are refused', () => {
    const good = signCheckpoint(head, { current: key }, at);
    expect(refusal({ ...good, sequence: 41 })).toContain('signature does not match');
    expect(refusal({ ...good, hash: 'b'.repeat(64) })).toContain('signature does not match');
    expect(refusal({ ...good, at: '2026-01-02T03:04:06.000Z' })).toContain('signature does not match');
    expect(refusal({ ...good, mac: 'f'.repeat(64) })).toContain('signature does not match');
    expect(refusal({ ...good, v: 2 })).toContain('malformed');
    expect(refusal({ ...good, extra: 1 })).toContain('malformed');
    expect(refusal({ ...good, sequence: -1 })).toContain('sequence');
    expect(refusal({ ...good, mac: 'xyz' })).toContain('mac');
    expect(refusal('not a checkpoint')).toContain('malformed');
    expect(refusal(null)).toContain('malformed');
    expect(() => signCheckpoint(head, { current: 'short' })).toThrow(AuditCheckpointError);
  });
});
