import { ANNOTATIONS, type AuditKind, type RemediationOutcome } from '@cortexops/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemediationHarness } from './harness.js';

let h: RemediationHarness;

beforeAll(async () => {
  h = await RemediationHarness.start('auto');
}, 300_000);

afterAll(async () => {
  await h?.dispose();
});

describe('remediation — the automatic path', () => {
  it('automatic — a kubelet OOMKilling on a Deployment in an auto namespace: memory limit raised, verified against Prometheus, RESOLVED; the audit trail shows every step in order', async () => {
    const { uid, pods } = await h.deploy({ name: 'checkout', memory: '1Gi' });
    const signal = h.signal('checkout', pods[0]!.name, 'OOMKilling');
    await h.publish(signal);
    const handle = await h.workflowOf(signal);

    const outcome = (await handle.result()) as RemediationOutcome;

    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    const after = await h.deployment('checkout');
    expect(after.metadata.uid).toBe(uid);
    expect(after.spec.template.spec.containers[0]?.resources?.limits?.memory).toBe('1536Mi');
    expect(after.metadata.annotations?.[ANNOTATIONS.remediationId]).toBe(`${handle.workflowId}-a1`);
    expect(outcome.verification?.verdict).toBe('success');
    expect(outcome.verification?.measurements.filter((m) => m.outcome === 'success').length).toBeGreaterThanOrEqual(2);

    const trail = await h.trail(RemediationHarness.incidentIdOf(handle));
    const states = trail.filter((r) => r.kind === 'workflow.state').map((r) => r.payload['to']);
    expect(states).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'APPLYING', 'VERIFYING', 'RESOLVED']);
    const kinds = trail.map((r) => r.kind);
    const order: AuditKind[] = ['diagnosis.completed', 'plan.proposed', 'dryrun.completed', 'policy.decision', 'action.applied', 'verification.measured', 'verification.completed'];
    const positions = order.map((kind) => kinds.indexOf(kind));
    expect(positions.every((p) => p >= 0), kinds.join(', ')).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // Incident memory is off in this harness (no embedding model): the diagnosis carries no similar incidents (no field,
    // not an empty list) and planning read none either.
    expect(trail.find((r) => r.kind === 'diagnosis.completed')?.payload['diagnosis']).not.toHaveProperty('similar');
    expect(trail.find((r) => r.kind === 'plan.proposed')?.payload).toMatchObject({ similar: [] });
    expect(trail.find((r) => r.kind === 'plan.proposed')?.payload).not.toHaveProperty('similarFrom');
    expect((await h.audit.verify()).ok).toBe(true);
  });
});
