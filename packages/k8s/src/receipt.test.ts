import { describe, expect, it } from 'vitest';
import { appliedIds, fromActionReceipt, HISTORY_LENGTH, newerThan, Receipt, toActionReceipt, withAppliedId } from './receipt.js';

const receipt = Receipt.parse({
  remediationId: 'rem-1',
  action: { type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'web', replicas: 4 },
  target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', uid: '6d1c6c62-1f0e-4a5e-9b8e-3f5a3c1e2d10' },
  priorResourceVersion: '1234',
  priorSpec: { field: 'spec.replicas', replicas: 2 },
  applied: { sha256: 'a'.repeat(64) },
  appliedAt: '2026-11-22T22:00:00.000Z',
});

describe('receipt — the audit record of an apply', () => {
  it('converts to the contracts ActionReceipt and back without loss', () => {
    const stored = toActionReceipt(receipt, 'inc-1', 'incident-inc-1');
    expect(stored).toMatchObject({ remediationId: 'rem-1', incidentId: 'inc-1', workflowId: 'incident-inc-1', priorSpec: receipt.priorSpec });
    expect(stored.receipt).toMatchObject({ applied: { sha256: 'a'.repeat(64) } });
    expect(fromActionReceipt(stored)).toEqual(receipt);
  });

  it('requires what the apply left for a changed field, and not for a deleted pod', () => {
    const { applied: _applied, ...without } = receipt;
    const result = Receipt.validate(without);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.issues.map((i) => i.field)).toContain('applied');
    const pod = { ...without, action: { type: 'delete-pod', kind: 'Pod', namespace: 'shop', name: 'web-1' }, priorSpec: { field: 'pod', pod: { name: 'web-1', uid: 'u-1' } } };
    expect(Receipt.validate(pod).ok).toBe(true);
  });

  it('refuses a receipt whose target is not something the gateway writes', () => {
    const result = Receipt.validate({ ...receipt, target: { ...receipt.target, kind: 'Secret' } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.issues.map((i) => i.field)).toContain('target.kind');
  });
});

describe('receipt — the history of applied ids on an object', () => {
  it('adds the newest last, once, and keeps the last ones only', () => {
    expect(withAppliedId(undefined, 'r-1')).toBe('r-1');
    expect(withAppliedId('r-1,r-2', 'r-1')).toBe('r-2,r-1');
    const long = Array.from({ length: HISTORY_LENGTH }, (_, i) => `r-${i}`).join(',');
    expect(appliedIds(withAppliedId(long, 'new'))).toEqual([...Array.from({ length: HISTORY_LENGTH - 1 }, (_, i) => `r-${i + 1}`), 'new']);
  });

  it('names the newest id applied after an older one; none for the newest, an unknown id or no history', () => {
    expect(newerThan('r-1,r-2,r-3', 'r-1')).toBe('r-3');
    expect(newerThan('r-1,r-2,r-3', 'r-3')).toBeUndefined();
    expect(newerThan('r-1,r-2', 'r-9')).toBeUndefined();
    expect(newerThan(undefined, 'r-1')).toBeUndefined();
    expect(appliedIds('')).toEqual([]);
  });
});
