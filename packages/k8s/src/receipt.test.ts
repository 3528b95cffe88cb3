import { describe, expect, it } from 'vitest';
import { fromActionReceipt, Receipt, toActionReceipt } from './receipt.js';

const receipt = Receipt.parse({
  remediationId: 'rem-1',
  action: { type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'web', replicas: 4 },
  target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', uid: '6d1c6c62-1f0e-4a5e-9b8e-3f5a3c1e2d10' },
  priorResourceVersion: '1234',
  priorSpec: { field: 'spec.replicas', replicas: 2 },
  appliedAt: '2026-11-22T22:00:00.000Z',
});

describe('receipt — the audit record of an apply', () => {
  it('converts to the contracts ActionReceipt and back without loss', () => {
    const stored = toActionReceipt(receipt, 'inc-1', 'incident-inc-1');
    expect(stored).toMatchObject({ remediationId: 'rem-1', incidentId: 'inc-1', workflowId: 'incident-inc-1', priorSpec: receipt.priorSpec });
    expect(fromActionReceipt(stored)).toEqual(receipt);
  });

  it('refuses a receipt whose target is not something the gateway writes', () => {
    const result = Receipt.validate({ ...receipt, target: { ...receipt.target, kind: 'Secret' } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.issues.map((i) => i.field)).toContain('target.kind');
  });
});
