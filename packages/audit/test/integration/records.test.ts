import type { ActionReceipt, Incident } from '@cortexops/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditInputError, AuditNotFoundError } from '../../src/index.js';
import { type Fixture, event, openFixture } from './helpers.js';

let f: Fixture;
beforeEach(async () => {
  f = await openFixture();
});
afterEach(async () => {
  await f.dispose();
});

const scale = { type: 'scale', kind: 'Deployment', namespace: 'shop', name: 'checkout', replicas: 4 } as const;

describe('audit queries', () => {
  beforeEach(async () => {
    await f.store.appendMany([
      event(1, { incidentId: 'inc-a', actor: 'worker', kind: 'incident.opened' }),
      event(2, { incidentId: 'inc-b', actor: 'worker', kind: 'incident.opened' }),
      event(3, { incidentId: 'inc-a', actor: 'alice@example.com', kind: 'approval.decided' }),
      event(4, { incidentId: 'inc-a', actor: 'worker', kind: 'action.applied' }),
      event(5, { incidentId: undefined, actor: 'bob', kind: 'manual.action' }),
      event(6, { incidentId: 'inc-b', actor: 'worker', kind: 'incident.resolved' }),
    ]);
  });
  const seqs = async (filter: Parameters<Fixture['store']['query']>[0]) => (await f.store.query(filter)).records.map((r) => r.sequence);

  it('query — by incident, actor, kinds and time range, each alone and combined', async () => {
    expect(await seqs({ incidentId: 'inc-a' })).toEqual([1, 3, 4]);
    expect(await seqs({ actor: 'worker' })).toEqual([1, 2, 4, 6]);
    expect(await seqs({ kinds: ['incident.opened', 'incident.resolved'] })).toEqual([1, 2, 6]);
    expect(await seqs({ from: '2025-01-01T00:00:03Z', to: '2025-01-01T00:00:05Z' })).toEqual([3, 4]);
    expect(await seqs({ incidentId: 'inc-a', actor: 'worker', from: '2025-01-01T01:00:02+01:00' })).toEqual([4]);
    expect(await seqs({ incidentId: 'inc-zzz' })).toEqual([]);
  });

  it('query — pages by sequence with a limit', async () => {
    const first = await f.store.query({ limit: 4 });
    expect(first.records.map((r) => r.sequence)).toEqual([1, 2, 3, 4]);
    expect(first.nextAfterSequence).toBe(4);
    const second = await f.store.query({ limit: 4, afterSequence: first.nextAfterSequence });
    expect(second.records.map((r) => r.sequence)).toEqual([5, 6]);
    expect(second.nextAfterSequence).toBeUndefined();
    expect((await f.store.query({ limit: 2, actor: 'worker', afterSequence: 1 })).nextAfterSequence).toBe(4);
  });

  const badFilters: [string, unknown, string][] = [
    ['unknown kind', { kinds: ['nope'] }, 'kinds[0]'],
    ['limit too large', { limit: 5000 }, 'limit'],
    ['limit zero', { limit: 0 }, 'limit'],
    ['bad timestamp', { from: 'last week' }, 'from'],
    ['empty range', { from: '2025-01-02T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'to'],
    ['bad incident id', { incidentId: 'INC A' }, 'incidentId'],
    ['NUL in actor', { actor: 'a\u0000' }, 'actor'],
    ['negative cursor', { afterSequence: -1 }, 'afterSequence'],
  ];
  for (const [name, filter, field] of badFilters) {
    it(`query bad values — ${name} is refused naming ${field}`, async () => {
      await expect(f.store.query(filter as never)).rejects.toMatchObject({ name: 'AuditInputError', field });
    });
  }
});

describe('policy violations', () => {
  const violation = {
    idempotencyKey: 'remediation-inc-a/policy/0',
    incidentId: 'inc-a',
    workflowId: 'remediation-inc-a',
    actor: 'policy',
    occurredAt: '2025-01-01T00:00:00Z',
    action: scale,
    decision: { allow: false, mode: 'auto' as const, requireApproval: false, reasons: ['too many replicas changes'], violations: ['rate-limit'] },
  };

  it('policy — a denial is written once as a policy.violation event with the action and the decision', async () => {
    const record = await f.store.recordPolicyViolation(violation);
    expect(record).toMatchObject({ kind: 'policy.violation', incidentId: 'inc-a', actor: 'policy', payload: { action: scale, decision: violation.decision } });
    expect(await f.store.recordPolicyViolation(violation)).toEqual(record);
    expect((await f.store.query({ kinds: ['policy.violation'], incidentId: 'inc-a' })).records).toEqual([record]);
  });

  it('policy bad values — an allowed decision, a bad action or a bad decision is refused naming the field', async () => {
    await expect(f.store.recordPolicyViolation({ ...violation, decision: { ...violation.decision, allow: true } })).rejects.toMatchObject({ field: 'decision.allow' });
    await expect(f.store.recordPolicyViolation({ ...violation, action: { ...scale, replicas: -1 } })).rejects.toMatchObject({ field: 'action.replicas' });
    await expect(f.store.recordPolicyViolation({ ...violation, decision: { allow: false } as never })).rejects.toMatchObject({ field: 'decision.mode' });
    await expect(f.store.recordPolicyViolation({ ...violation, actor: '' })).rejects.toMatchObject({ field: 'actor' });
    expect((await f.store.query()).records).toEqual([]);
  });
});

describe('incidents', () => {
  const incident: Incident = {
    id: 'inc-a',
    cluster: 'local',
    title: 'checkout pods crash-looping',
    severity: 'critical',
    status: 'open',
    target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
    fingerprints: ['fp-1'],
    signalIds: ['sig-1'],
    flapCount: 0,
    openedAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  };

  it('incidents — upsert by id; an older write does not overwrite a newer one', async () => {
    expect(await f.store.upsertIncident(incident)).toEqual(incident);
    const newer = { ...incident, signalIds: ['sig-1', 'sig-2'], updatedAt: '2025-01-01T00:05:00.000Z' };
    expect(await f.store.upsertIncident(newer)).toEqual(newer);
    expect(await f.store.upsertIncident({ ...incident, title: 'stale' })).toEqual(newer);
    expect(await f.store.getIncident('inc-a')).toEqual(newer);
    expect(await f.store.getIncident('inc-missing')).toBeUndefined();
  });

  it('incidents — status changes, listed by status and cluster', async () => {
    await f.store.upsertIncident(incident);
    await f.store.upsertIncident({ ...incident, id: 'inc-b', cluster: 'prod', updatedAt: '2025-01-01T00:01:00.000Z' });
    const resolved = await f.store.setIncidentStatus('inc-a', 'resolved', '2025-01-01T00:10:00Z');
    expect(resolved).toEqual({ ...incident, status: 'resolved', updatedAt: '2025-01-01T00:10:00.000Z' });
    // An earlier timestamp changes the status but never moves updatedAt back.
    expect(await f.store.setIncidentStatus('inc-a', 'escalated', '2024-12-31T00:00:00Z')).toMatchObject({ status: 'escalated', updatedAt: '2025-01-01T00:10:00.000Z' });
    expect((await f.store.listIncidents({ status: 'escalated' })).map((i) => i.id)).toEqual(['inc-a']);
    expect((await f.store.listIncidents({ cluster: 'prod' })).map((i) => i.id)).toEqual(['inc-b']);
    expect((await f.store.listIncidents()).map((i) => i.id)).toEqual(['inc-a', 'inc-b']);
    expect((await f.store.listIncidents({ limit: 1 })).map((i) => i.id)).toEqual(['inc-a']);
    await expect(f.store.setIncidentStatus('inc-missing', 'resolved', '2025-01-01T00:00:00Z')).rejects.toBeInstanceOf(AuditNotFoundError);
  });

  it('incidents bad values — refused naming the field', async () => {
    await expect(f.store.upsertIncident({ ...incident, severity: 'apocalyptic' } as never)).rejects.toMatchObject({ field: 'severity' });
    await expect(f.store.upsertIncident({ ...incident, title: 'x\u0000' })).rejects.toMatchObject({ field: 'title' });
    await expect(f.store.setIncidentStatus('inc-a', 'gone' as never, '2025-01-01T00:00:00Z')).rejects.toMatchObject({ field: 'status' });
    await expect(f.store.setIncidentStatus('inc-a', 'resolved', 'soon')).rejects.toMatchObject({ field: 'updatedAt' });
    await expect(f.store.listIncidents({ limit: 0 })).rejects.toBeInstanceOf(AuditInputError);
    await expect(f.store.getIncident('../etc')).rejects.toMatchObject({ field: 'id' });
    expect(await f.store.listIncidents()).toEqual([]);
  });
});

describe('action receipts', () => {
  const receipt: ActionReceipt = {
    remediationId: 'rem-inc-a-0',
    incidentId: 'inc-a',
    workflowId: 'remediation-inc-a',
    action: scale,
    priorSpec: { replicas: 2 },
    receipt: { resourceVersion: '123', generation: 4 },
    appliedAt: '2025-01-01T00:00:00.000Z',
  };

  it('receipts — written once per remediation id; a retry returns the stored receipt', async () => {
    expect(await f.store.recordActionReceipt(receipt)).toEqual(receipt);
    expect(await f.store.recordActionReceipt({ ...receipt, receipt: { resourceVersion: '999' } })).toEqual(receipt);
    expect(await f.store.getActionReceipt('rem-inc-a-0')).toEqual(receipt);
    expect(await f.store.getActionReceipt('rem-missing')).toBeUndefined();
  });

  it('receipts — listed by incident in applied order; marked reverted once', async () => {
    const second = { ...receipt, remediationId: 'rem-inc-a-1', priorSpec: undefined, workflowId: undefined, appliedAt: '2025-01-01T00:01:00.000Z' };
    await f.store.recordActionReceipt(second);
    await f.store.recordActionReceipt(receipt);
    const { priorSpec: _p, workflowId: _w, ...secondStored } = second;
    expect(await f.store.listActionReceipts('inc-a')).toEqual([receipt, secondStored]);
    expect(await f.store.markActionReverted('rem-inc-a-0', '2025-01-01T00:02:00Z')).toEqual({ ...receipt, revertedAt: '2025-01-01T00:02:00.000Z' });
    expect((await f.store.markActionReverted('rem-inc-a-0', '2025-01-01T00:09:00Z')).revertedAt).toBe('2025-01-01T00:02:00.000Z');
    await expect(f.store.markActionReverted('rem-missing', '2025-01-01T00:02:00Z')).rejects.toBeInstanceOf(AuditNotFoundError);
  });

  it('receipts bad values — refused naming the field', async () => {
    await expect(f.store.recordActionReceipt({ ...receipt, remediationId: 'Bad Id' })).rejects.toMatchObject({ field: 'remediationId' });
    await expect(f.store.recordActionReceipt({ ...receipt, action: { type: 'nuke' } as never })).rejects.toMatchObject({ field: 'action.type' });
    await expect(f.store.recordActionReceipt({ ...receipt, priorSpec: { s: 'a\u0000' } })).rejects.toMatchObject({ field: 'priorSpec.s' });
    await expect(f.store.markActionReverted('rem-inc-a-0', 'never')).rejects.toMatchObject({ field: 'revertedAt' });
    expect(await f.store.listActionReceipts('inc-a')).toEqual([]);
  });
});
