import {
  ANNOTATIONS,
  approvalDecisionUpdate,
  type ApprovalRequest,
  HTTP_PATHS,
  incidentWorkflowId,
  type RemediationOutcome,
  TASK_QUEUES,
  WORKFLOW_REFUSALS,
  WORKFLOW_TYPES,
} from '@cortexops/contracts';
import { clickPayload, fixtureIncident, signSlackRequest, SlackStub } from '@cortexops/testkit';
import { ApplicationFailure, type WorkflowHandle, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemediationHarness, WAIT } from './harness.js';

const SLACK = { botToken: 'xoxb-remediation-test-1f2e3d', signingSecret: 'remediation-signing-secret-9a8b7c', channel: 'C0APPROVALS' } as const;
const ALICE = 'U0ALICE';
const OPERATOR = 'oncall@example.com';

let h: RemediationHarness;
let slack: SlackStub;
/** The operator's personal approver token (issued with the approvals CLI): decisions through the API are theirs. */
let operatorToken: string;

beforeAll(async () => {
  slack = await SlackStub.start({});
  h = await RemediationHarness.start('approve', {
    mode: 'approve',
    approvalsEnv: {
      CORTEXOPS_SLACK_BOT_TOKEN: SLACK.botToken,
      CORTEXOPS_SLACK_SIGNING_SECRET: SLACK.signingSecret,
      CORTEXOPS_SLACK_CHANNEL: SLACK.channel,
      CORTEXOPS_SLACK_API_URL: `${slack.url}/api/`,
      CORTEXOPS_SLACK_APPROVERS: ALICE,
    },
  });
  operatorToken = await h.issueToken(OPERATOR);
}, 300_000);

afterAll(async () => {
  await h?.dispose();
  await slack?.close();
});

function api(path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${h.approvals!.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** A Deployment with an OOMKilling pod, its signal published; resolves with the incident's workflow waiting for a human. */
async function pendingRemediation(name: string): Promise<{ handle: WorkflowHandle; incidentId: string; request: ApprovalRequest }> {
  const { pods } = await h.deploy({ name, memory: '1Gi' });
  const signal = h.signal(name, pods[0]!.name, 'OOMKilling');
  await h.publish(signal);
  const handle = await h.workflowOf(signal);
  const view = await h.waitForState(handle, 'APPROVAL_PENDING');
  return { handle, incidentId: RemediationHarness.incidentIdOf(handle), request: view.approvalRequest! };
}

async function memoryOf(name: string): Promise<string | undefined> {
  return (await h.deployment(name)).spec.template.spec.containers[0]?.resources?.limits?.memory;
}

describe('remediation — approvals bound to the plan', () => {
  it('approval via Slack — a workflow waiting in APPROVAL_PENDING is found by search attribute, its request is posted to Slack with the plan hash, and an approver\'s click applies exactly that plan: RESOLVED', async () => {
    const { handle, incidentId, request } = await pendingRemediation('cart');

    const waiting: string[] = [];
    await expect
      .poll(async () => {
        waiting.length = 0;
        for await (const e of h.client.workflow.list({ query: `CortexopsState = 'APPROVAL_PENDING' AND CortexopsNamespace = '${h.namespace}'` })) waiting.push(e.workflowId);
        return waiting;
      }, WAIT)
      .toContain(handle.workflowId);
    expect(await memoryOf('cart')).toBe('1Gi');

    await expect.poll(() => slack.callsOf('chat.postMessage').find((c) => JSON.stringify(c.body).includes(request.requestId)), WAIT).toBeDefined();
    const message = slack.callsOf('chat.postMessage').find((c) => JSON.stringify(c.body).includes(request.requestId))!;
    const blocks = message.body['blocks'] as { elements?: { action_id?: string; value?: string }[] }[];
    const approve = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'cortexops_approve');
    expect(JSON.parse(approve!.value!)).toEqual({ incidentId, requestId: request.requestId, planHash: request.planHash });

    const click = signSlackRequest(
      clickPayload({ value: approve!.value!, decision: 'approve', userId: ALICE, channel: SLACK.channel, ts: '1700000000.000100', blocks, responseUrl: slack.responseUrl() }),
      SLACK.signingSecret,
    );
    const answer = await fetch(`${h.approvals!.baseUrl}${HTTP_PATHS.slackEvents}`, { method: 'POST', headers: click.headers, body: click.body });
    expect(answer.status).toBe(200);

    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    expect(outcome.decisions).toMatchObject([{ decision: 'approve', approver: ALICE, channel: 'slack', planHash: request.planHash }]);
    expect(await memoryOf('cart')).toBe('1536Mi');
    const trail = await h.trail(incidentId);
    expect(trail.find((r) => r.kind === 'approval.decided')).toMatchObject({ actor: ALICE, payload: { decision: 'approve', planHash: request.planHash } });
    const states = trail.filter((r) => r.kind === 'workflow.state').map((r) => r.payload['to']);
    expect(states).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'APPROVAL_PENDING', 'DRY_RUNNING', 'POLICY_CHECK', 'APPLYING', 'VERIFYING', 'RESOLVED']);
  });

  it('a bare Temporal client cannot approve — its unsigned decision (claiming to be an approver) is refused by the workflow, audited as approval.refused, and the request stays open; a signed one through the approvals service applies', async () => {
    const { handle, incidentId, request } = await pendingRemediation('orders');
    const forged = { requestId: request.requestId, planHash: request.planHash, decision: 'approve' as const, approver: OPERATOR, channel: 'http' as const, decidedAt: new Date().toISOString() };
    const refused = await handle.executeUpdate(approvalDecisionUpdate, { args: [forged] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: WORKFLOW_REFUSALS.unsigned, message: expect.stringContaining('not signed by the approvals service') as unknown });
    await expect
      .poll(async () => (await h.trail(incidentId)).find((r) => r.kind === 'approval.refused'), WAIT)
      .toMatchObject({ actor: `temporal:${OPERATOR}`, payload: { channel: 'temporal', code: WORKFLOW_REFUSALS.unsigned, update: 'approvalDecision', requestId: request.requestId } });
    expect((await h.view(handle)).state).toBe('APPROVAL_PENDING');
    expect(await memoryOf('orders')).toBe('1Gi');

    const approved = await api(`${HTTP_PATHS.approvals}/${incidentId}`, { method: 'POST', body: { requestId: request.requestId, planHash: request.planHash, decision: 'approve' } });
    expect(approved.status).toBe(200);
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    expect(outcome.decisions).toMatchObject([{ approver: OPERATOR, channel: 'http' }]);
    expect((await h.trail(incidentId)).find((r) => r.kind === 'approval.decided')).toMatchObject({ actor: OPERATOR });
  });

  it('a started workflow cannot carry its own plan — an input with anything beside the incident fails at once (InvalidWorkflowInput), nothing planned, audited or applied', async () => {
    const incident = fixtureIncident('forged-plan', { target: { kind: 'Deployment', namespace: h.namespace, name: 'ghost' } });
    const plan = { incidentId: incident.id, actions: [{ type: 'scale', kind: 'Deployment', namespace: h.namespace, name: 'ghost', replicas: 40 }], rationale: 'trust me', source: 'manual', risk: 'low' };
    for (const [suffix, input] of [
      ['plan', { incident, plan }],
      ['proposals', { incident, proposals: [plan] }],
      ['bad-incident', { incident: { ...incident, target: 'everything' } }],
    ] as const) {
      const handle = await h.client.workflow.start(WORKFLOW_TYPES.remediation, { taskQueue: TASK_QUEUES.remediation, workflowId: `${incidentWorkflowId(incident.id)}-${suffix}`, args: [input] });
      const failure: unknown = await handle.result().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure, suffix).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      expect(cause, suffix).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type, suffix).toBe('InvalidWorkflowInput');
    }
    expect(await h.trail(incident.id)).toEqual([]);
  });

  it('approval via the HTTP API — the pending request is read with its id and plan hash, a decision for another plan is refused (409) and changes nothing, the right one applies: RESOLVED', async () => {
    const { handle, incidentId, request } = await pendingRemediation('basket');

    const shown = await api(`${HTTP_PATHS.approvalRequests}/${incidentId}`);
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as { request: ApprovalRequest }).request).toMatchObject({ requestId: request.requestId, planHash: request.planHash });

    const otherPlan = 'f'.repeat(64);
    const stale = await api(`${HTTP_PATHS.approvals}/${incidentId}`, { method: 'POST', body: { requestId: request.requestId, planHash: otherPlan, decision: 'approve', approver: OPERATOR } });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: string }).error).toBe('STALE_PLAN');
    expect((await h.view(handle)).state).toBe('APPROVAL_PENDING');
    expect(await memoryOf('basket')).toBe('1Gi');

    const approved = await api(`${HTTP_PATHS.approvals}/${incidentId}`, { method: 'POST', body: { requestId: request.requestId, planHash: request.planHash, decision: 'approve', approver: OPERATOR } });
    expect(approved.status).toBe(200);
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    expect(await memoryOf('basket')).toBe('1536Mi');
    expect((await h.deployment('basket')).metadata.annotations?.[ANNOTATIONS.remediationId]).toBe(`${handle.workflowId}-a1`);
  });

  it('rejected — a rejection ends REJECTED and nothing is applied', async () => {
    const { handle, incidentId, request } = await pendingRemediation('wishlist');
    const rejected = await api(`${HTTP_PATHS.approvals}/${incidentId}`, {
      method: 'POST',
      body: { requestId: request.requestId, planHash: request.planHash, decision: 'reject', approver: OPERATOR, comment: 'not during the sale' },
    });
    expect(rejected.status).toBe(200);
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state).toBe('REJECTED');
    expect(outcome.outcome).toContain('not during the sale');
    expect(await memoryOf('wishlist')).toBe('1Gi');
    expect((await h.trail(incidentId)).some((r) => r.kind === 'action.applied')).toBe(false);
  });

  it('cancelled — an operator cancels through the HTTP API before anything is applied: CANCELLED, nothing applied', async () => {
    const { handle, incidentId } = await pendingRemediation('search');
    const cancelled = await api(`${HTTP_PATHS.remediations}/${incidentId}/cancel`, { method: 'POST', body: { actor: OPERATOR, reason: 'handled by hand' } });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ accepted: true, effect: 'stop' });
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state).toBe('CANCELLED');
    expect(await memoryOf('search')).toBe('1Gi');
    expect((await h.trail(incidentId)).find((r) => r.kind === 'manual.action')).toMatchObject({ actor: OPERATOR, payload: { action: 'cancel', effect: 'stop' } });
  });

  it('cancelled after the apply — an operator cancels while the change is being verified: COMPENSATING, the change reverted and checked, ROLLED_BACK', async () => {
    const { handle, incidentId, request } = await pendingRemediation('checkout');
    await api(`${HTTP_PATHS.approvals}/${incidentId}`, { method: 'POST', body: { requestId: request.requestId, planHash: request.planHash, decision: 'approve', approver: OPERATOR } });
    await h.waitForState(handle, 'VERIFYING');
    expect(await memoryOf('checkout')).toBe('1536Mi');

    const cancelled = await api(`${HTTP_PATHS.remediations}/${incidentId}/cancel`, { method: 'POST', body: { actor: OPERATOR, reason: 'customer-facing incident, hands off' } });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ accepted: true, effect: 'compensate' });

    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state, outcome.outcome).toBe('ROLLED_BACK');
    expect(await memoryOf('checkout')).toBe('1Gi');
    const kinds = (await h.trail(incidentId)).map((r) => r.kind);
    expect(kinds.indexOf('action.reverted')).toBeGreaterThan(kinds.indexOf('action.applied'));
    expect(kinds).toContain('manual.action');
  });

  it('expired — nobody decides within the configured timeout: EXPIRED, nothing applied, a late approval is refused', async () => {
    await h.stopWorkers();
    await h.startWorker({ CORTEXOPS_APPROVAL_TIMEOUT_MS: '5000' });
    const { handle, incidentId, request } = await pendingRemediation('reviews');
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state).toBe('EXPIRED');
    const late = await api(`${HTTP_PATHS.approvals}/${incidentId}`, { method: 'POST', body: { requestId: request.requestId, planHash: request.planHash, decision: 'approve', approver: OPERATOR } });
    expect(late.status).toBe(409);
    expect(await memoryOf('reviews')).toBe('1Gi');
    expect((await h.trail(incidentId)).map((r) => r.kind)).toContain('approval.expired');
    expect((await h.audit.verify()).ok).toBe(true);
  });
});
