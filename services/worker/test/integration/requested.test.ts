import { HTTP_PATHS, incidentWorkflowId, type RemediationOutcome, TASK_QUEUES, WORKFLOW_REFUSALS, WORKFLOW_TYPES } from '@cortexops/contracts';
import { fixtureIncident } from '@cortexops/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemediationHarness } from './harness.js';

const REQUESTER = 'requester@example.com';
const COLLEAGUE = 'colleague@example.com';

let h: RemediationHarness;
const tokens = new Map<string, string>();

beforeAll(async () => {
  // The namespace is in `auto`: the policy itself asks for no approval.
  h = await RemediationHarness.start('requested', { mode: 'auto', approvalsEnv: {} });
  for (const person of [REQUESTER, COLLEAGUE]) tokens.set(person, await h.issueToken(person));
}, 300_000);

afterAll(async () => {
  await h?.dispose();
});

function as(person: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${h.approvals!.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${tokens.get(person)!}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function memoryOf(name: string): Promise<string | undefined> {
  return (await h.deployment(name)).spec.template.spec.containers[0]?.resources?.limits?.memory;
}

describe('remediation — a change a person asked for (four-eyes, issue 10 item 4)', () => {
  it("a person's request starts a new run that waits for approval although the policy needs none; the requester's own approval is refused (403 SELF_APPROVAL), a colleague's applies it", async () => {
    const { pods } = await h.deploy({ name: 'basket', memory: '1Gi' });
    const signal = h.signal('basket', pods[0]!.name, 'OOMKilling');
    await h.publish(signal);
    const first = await h.workflowOf(signal);
    const firstOutcome = (await first.result()) as RemediationOutcome;
    console.log(`first run: ${firstOutcome.state} (${firstOutcome.outcome ?? ''})`);
    expect(firstOutcome.state).toBe('RESOLVED');
    expect(await memoryOf('basket')).toBe('1536Mi');
    const incidentId = RemediationHarness.incidentIdOf(first);
    const path = `${HTTP_PATHS.remediations}/${incidentId}/request`;

    // The requester is the token's owner: a body naming someone is refused, and so are bad values.
    for (const bad of [{ reason: 'again', requestedBy: COLLEAGUE }, { reason: '' }, {}, { reason: 'x'.repeat(2001) }, { reason: 'again', channel: 'slack' }]) {
      expect((await as(REQUESTER, path, bad)).status, JSON.stringify(bad).slice(0, 80)).toBe(400);
    }
    expect((await as(REQUESTER, `${HTTP_PATHS.remediations}/not-an-incident-${Date.now()}/request`, { reason: 'again' })).status).toBe(404);
    const unauthenticated = await fetch(`${h.approvals!.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'again' }) });
    expect(unauthenticated.status).toBe(401);

    const requested = await as(REQUESTER, path, { reason: 'still OOM-killed under load' });
    expect(requested.status).toBe(201);
    expect(await requested.json()).toMatchObject({ started: true, workflowId: incidentWorkflowId(incidentId), requestedBy: REQUESTER });
    const second = h.client.workflow.getHandle(incidentWorkflowId(incidentId));
    await expect.poll(async () => (await h.view(second)).state, { timeout: 90_000, interval: 500 }).toMatch(/APPROVAL_PENDING|ESCALATED|FAILED|RESOLVED|DENIED/);
    const reached = await h.view(second);
    console.log(`second run: ${reached.state} ${reached.outcome ?? ''}`);
    const view = await h.waitForState(second, 'APPROVAL_PENDING');
    expect(view.approvalRequest).toMatchObject({ requestedBy: REQUESTER, approvalsRequired: 1 });
    const request = view.approvalRequest!;
    // One run at a time.
    expect(await (await as(COLLEAGUE, path, { reason: 'me too' })).json()).toMatchObject({ error: 'REMEDIATION_RUNNING' });

    const own = await as(REQUESTER, `${HTTP_PATHS.approvals}/${incidentId}`, { requestId: request.requestId, planHash: request.planHash, decision: 'approve' });
    expect(own.status).toBe(403);
    expect(await own.json()).toMatchObject({ error: 'SELF_APPROVAL' });
    expect((await h.view(second)).state).toBe('APPROVAL_PENDING');
    expect(await memoryOf('basket')).toBe('1536Mi');

    expect((await as(COLLEAGUE, `${HTTP_PATHS.approvals}/${incidentId}`, { requestId: request.requestId, planHash: request.planHash, decision: 'approve' })).status).toBe(200);
    const outcome = (await second.result()) as RemediationOutcome;
    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    expect(outcome.decisions).toMatchObject([{ approver: COLLEAGUE }]);
    expect(await memoryOf('basket')).not.toBe('1536Mi');
    console.log(`memory after the requested run: ${await memoryOf('basket')}`);
    const trail = await h.trail(incidentId);
    expect(trail.find((r) => r.kind === 'manual.action' && r.payload['action'] === 'request')).toMatchObject({ actor: REQUESTER, payload: { reason: 'still OOM-killed under load', channel: 'http' } });
    expect(trail.find((r) => r.kind === 'approval.decided')).toMatchObject({ actor: COLLEAGUE });
  }, 300_000);

  it('a bare Temporal client cannot name a requester: a request not signed by the approvals service ends the run FAILED before anything is planned, audited as refused', async () => {
    const incident = fixtureIncident('forged-request', { target: { kind: 'Deployment', namespace: h.namespace, name: 'ghost' } });
    const requested = { requestedBy: 'mallory@example.com', channel: 'http', reason: 'trust me', requestedAt: new Date().toISOString(), signature: 'ab'.repeat(64) };
    const handle = await h.client.workflow.start(WORKFLOW_TYPES.remediation, { taskQueue: TASK_QUEUES.remediation, workflowId: incidentWorkflowId(incident.id), args: [{ incident, requested }] });
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state).toBe('FAILED');
    expect(outcome.outcome).toMatch(/not signed by the approvals service/);
    const trail = await h.trail(incident.id);
    expect(trail.find((r) => r.kind === 'approval.refused')).toMatchObject({ payload: { code: WORKFLOW_REFUSALS.unsigned, claimedBy: 'mallory@example.com' } });
    expect(trail.filter((r) => r.kind === 'workflow.state').map((r) => r.payload['to'])).toEqual(['DIAGNOSING', 'FAILED']);
  });
});
