import { type ApprovalRequest, HTTP_PATHS, remediationStateQuery } from '@cortexops/contracts';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptedUpdates,
  APPROVAL_CHANNEL,
  bearer,
  buttonValue,
  clickPayload,
  decisionBody,
  fixtureIncident,
  fixtureRequest,
  type Harness,
  PEOPLE,
  type PendingOptions,
  postApprovalRequest,
  randomPlanHash,
  replan,
  SECRETS,
  sendSigned,
  signSlackRequest,
  startHarness,
  startPendingWorkflow,
  USERS,
} from './harness.js';

const TEN_MINUTES = 10 * 60_000;

interface Posted {
  readonly handle: WorkflowHandle;
  readonly request: ApprovalRequest;
  readonly channel: string;
  readonly ts: string;
  readonly blocks: unknown[];
}

describe('approvals — Slack', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('approvals-slack');
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Posts `request` through the service's API; the message as Slack received it. */
  async function post(handle: WorkflowHandle, request: ApprovalRequest): Promise<Posted> {
    const response = await postApprovalRequest(h.baseUrl, request);
    expect(response.status, await response.clone().text()).toBe(201);
    const ref = (await response.json()) as { channel: string; ts: string };
    const message = h.slack.callsOf('chat.postMessage').find((c) => c.status === 200 && c.body['ts'] === undefined && JSON.stringify(c.body['blocks']).includes(request.planHash.slice(0, 12)));
    expect(message).toBeDefined();
    return { handle, request, channel: ref.channel, ts: ref.ts, blocks: message?.body['blocks'] as unknown[] };
  }

  /** A pending workflow whose approval request was posted to Slack through the service's API. */
  async function posted(timeoutMs = TEN_MINUTES, options: PendingOptions = {}): Promise<Posted> {
    const { handle, request } = await startPendingWorkflow(h.client, fixtureIncident('slack'), timeoutMs, options);
    return post(handle, request);
  }

  function click(p: Posted, decision: 'approve' | 'reject', userId: string, responseUrl = h.slack.responseUrl(), value = buttonValue(p.request)) {
    return { payload: clickPayload({ value, decision, userId, channel: p.channel, ts: p.ts, blocks: p.blocks, responseUrl }), responseUrl };
  }

  function updateTexts(p: Posted): string {
    return updatesOf(p)
      .map((u) => String(u.body['text']))
      .join('\n');
  }

  function updatesOf(p: Posted) {
    return h.slack.callsOf('chat.update').filter((c) => c.body['ts'] === p.ts && c.status === 200);
  }

  function toldAt(responseUrl: string): string[] {
    return h.slack
      .responses()
      .filter((c) => responseUrl.endsWith(c.method.replace(/^response/, '')))
      .map((c) => String(c.body['text']));
  }

  it('request — posts Block Kit with the summary, plan, dry-run difference, policy reasons and both buttons', async () => {
    const p = await posted();
    const post = h.slack.callsOf('chat.postMessage').find((c) => c.body['blocks'] === p.blocks);
    expect(post?.authorization).toBe(`Bearer ${SECRETS.botToken}`);
    expect(post?.body['channel']).toBe(APPROVAL_CHANNEL);
    const text = JSON.stringify(p.blocks);
    expect(text).toContain('checkout pods crash looping &lt;OOMKilled&gt; &amp; restarting');
    expect(text).toContain('raise-memory-limit');
    expect(text).toContain('+ memory: 512Mi');
    expect(text).toContain('risk high requires a human');
    const actions = p.blocks.find((b) => (b as { type: string }).type === 'actions') as { elements: { action_id: string; value: string }[] };
    expect(text).toContain(`Plan \`${p.request.planHash.slice(0, 12)}\` · request \`${p.request.requestId}\``);
    const value = { incidentId: p.request.incidentId, requestId: p.request.requestId, planHash: p.request.planHash };
    expect(actions.elements.map((e) => [e.action_id, JSON.parse(e.value) as unknown])).toEqual([
      ['cortexops_approve', value],
      ['cortexops_reject', value],
    ]);
    // The same request posted again (the workflow's activity retried) is the same message, not a second one.
    const before = h.slack.callsOf('chat.postMessage').length;
    const again = await postApprovalRequest(h.baseUrl, p.request);
    expect(await again.json()).toEqual({ posted: true, channel: p.channel, ts: p.ts });
    expect(h.slack.callsOf('chat.postMessage')).toHaveLength(before);
    await p.handle.terminate('test over');
  });

  it('approve — a signed click by an allowed user is the update; the message shows the outcome and who decided', async () => {
    const p = await posted();
    const response = await sendSigned(h.baseUrl, signSlackRequest(click(p, 'approve', USERS.alice).payload, SECRETS.signingSecret));
    expect(response.status).toBe(200);
    expect(await p.handle.result()).toMatchObject({
      state: 'RESOLVED',
      decision: { decision: 'approve', approver: USERS.alice, channel: 'slack', requestId: p.request.requestId, planHash: p.request.planHash },
    });
    await expect.poll(() => updatesOf(p).map((u) => String(u.body['text'])).join('\n'), { timeout: 15_000 }).toContain(`*Approved* by <@${USERS.alice}>`);
    const last = updatesOf(p).at(-1);
    expect(JSON.stringify(last?.body['blocks'])).not.toContain('cortexops_approve');
    expect(JSON.stringify(last?.body['blocks'])).toContain('raise-memory-limit');
  });

  it('reject — a member of the approver user group rejects; the message says rejected and by whom', async () => {
    const p = await posted();
    const response = await sendSigned(h.baseUrl, signSlackRequest(click(p, 'reject', USERS.bob).payload, SECRETS.signingSecret));
    expect(response.status).toBe(200);
    expect(await p.handle.result()).toMatchObject({ state: 'REJECTED', decision: { decision: 'reject', approver: USERS.bob } });
    await expect.poll(() => updatesOf(p).map((u) => String(u.body['text'])).join('\n'), { timeout: 15_000 }).toContain(`*Rejected* by <@${USERS.bob}>`);
    expect(h.slack.callsOf('usergroups.users.list').length).toBeGreaterThan(0);
  });

  it('forged signature — refused with 401 and nothing reaches the workflow', async () => {
    const p = await posted();
    const forged = signSlackRequest(click(p, 'approve', USERS.alice).payload, 'not-the-signing-secret');
    expect((await sendSigned(h.baseUrl, forged)).status).toBe(401);
    // A genuine signature over a different body (the user id swapped in transit) is refused too.
    const genuine = signSlackRequest(click(p, 'approve', USERS.mallory).payload, SECRETS.signingSecret);
    const tampered = { ...genuine, body: genuine.body.replace(USERS.mallory, USERS.alice) };
    expect((await sendSigned(h.baseUrl, tampered)).status).toBe(401);
    const unsigned = { body: genuine.body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': genuine.headers['x-slack-request-timestamp'] ?? '' } };
    expect((await sendSigned(h.baseUrl, unsigned)).status).toBe(401);
    await expect.poll(async () => (await h.refusals()).filter((r) => r.payload['code'] === 'SLACK_SIGNATURE_INVALID').length, { timeout: 15_000 }).toBe(3);
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    expect(await acceptedUpdates(p.handle)).toBe(0);
    await p.handle.terminate('test over');
  });

  it('stale timestamp — a correctly signed request older (or newer) than five minutes, or replayed, is refused', async () => {
    const p = await posted();
    const now = Math.floor(Date.now() / 1000);
    const stale = signSlackRequest(click(p, 'approve', USERS.alice).payload, SECRETS.signingSecret, now - 6 * 60);
    expect((await sendSigned(h.baseUrl, stale)).status).toBe(401);
    const future = signSlackRequest(click(p, 'approve', USERS.alice).payload, SECRETS.signingSecret, now + 6 * 60);
    expect((await sendSigned(h.baseUrl, future)).status).toBe(401);
    expect(await acceptedUpdates(p.handle)).toBe(0);

    // A request captured and sent again is refused, even within the window.
    const reject = signSlackRequest(click(p, 'reject', USERS.alice).payload, SECRETS.signingSecret);
    expect((await sendSigned(h.baseUrl, reject)).status).toBe(200);
    expect((await sendSigned(h.baseUrl, reject)).status).toBe(401);
    expect(await p.handle.result()).toMatchObject({ state: 'REJECTED' });
    expect(await acceptedUpdates(p.handle)).toBe(1);
    await expect.poll(async () => (await h.refusals()).map((r) => r.payload['code']).filter((c) => c === 'SLACK_STALE_TIMESTAMP' || c === 'SLACK_REPLAY').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
  });

  it('approver not allowed — the person is told why, nothing is recorded, the request stays open', async () => {
    const p = await posted();
    const { payload, responseUrl } = click(p, 'approve', USERS.mallory);
    expect((await sendSigned(h.baseUrl, signSlackRequest(payload, SECRETS.signingSecret))).status).toBe(200);
    await expect.poll(() => toldAt(responseUrl).join('\n'), { timeout: 15_000 }).toContain(`${USERS.mallory} is not on the Slack approver allow-list`);
    const told = h.slack.responses().find((c) => responseUrl.endsWith(c.method.replace(/^response/, '')));
    expect(told?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    expect(await acceptedUpdates(p.handle)).toBe(0);
    expect(updatesOf(p)).toHaveLength(0);
    const kept = (await h.refusals()).filter((r) => r.incidentId === p.request.incidentId);
    expect(kept.map((r) => [r.actor, r.payload['channel'], r.payload['code']])).toEqual([[USERS.mallory, 'slack', 'APPROVER_NOT_ALLOWED']]);
    await p.handle.terminate('test over');
  });

  it('decision after expiry — the message says expired; a late click and a late HTTP approval are refused, never approved', async () => {
    const p = await posted(1500);
    expect(await p.handle.result()).toMatchObject({ state: 'EXPIRED' });
    await expect.poll(() => updatesOf(p).map((u) => String(u.body['text'])).join('\n'), { timeout: 15_000 }).toContain('*Expired*');
    expect(JSON.stringify(updatesOf(p).at(-1)?.body['blocks'])).not.toContain('cortexops_approve');

    const { payload, responseUrl } = click(p, 'approve', USERS.alice);
    expect((await sendSigned(h.baseUrl, signSlackRequest(payload, SECRETS.signingSecret))).status).toBe(200);
    await expect.poll(() => toldAt(responseUrl).join('\n'), { timeout: 15_000 }).toContain('expired before anyone decided');

    const late = await fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${p.request.incidentId}`, {
      method: 'POST',
      headers: bearer(h.tokenOf(PEOPLE.alice)),
      body: JSON.stringify(decisionBody(p.request, 'approve', PEOPLE.alice)),
    });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: 'APPROVAL_EXPIRED' });
    const outcome = (await p.handle.result()) as { state: string; decision?: unknown };
    expect(outcome.state).toBe('EXPIRED');
    expect(outcome.decision).toBeUndefined();
    expect(await acceptedUpdates(p.handle)).toBe(0);
  });

  it('restart — a request posted before the service restarted is still watched: its expiry edits the message without a click', async () => {
    // Long enough for the restart under load (the test asserts the workflow is still pending after it).
    const p = await posted(10_000);
    const requested = await h.audit.query({ incidentId: p.request.incidentId, kinds: ['approval.requested'] });
    expect(requested.records).toHaveLength(1);
    expect(requested.records[0]?.payload['message']).toEqual({ channel: p.channel, ts: p.ts });

    await h.restartService();
    // Stopping cancelled the watch instead of waiting for the workflow: it is still waiting for a decision.
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    expect(await p.handle.result()).toMatchObject({ state: 'EXPIRED' });
    await expect.poll(() => updatesOf(p).map((u) => String(u.body['text'])).join('\n'), { timeout: 15_000 }).toContain('*Expired*');
    expect(JSON.stringify(updatesOf(p).at(-1)?.body['blocks'])).not.toContain('cortexops_approve');
    expect(h.logs()).toContain('watching approval requests posted before the restart');
  });

  it('double click — two presses at once record one decision; the second is told it was already decided', async () => {
    const p = await posted();
    const first = click(p, 'approve', USERS.alice);
    const second = click(p, 'approve', USERS.alice);
    const responses = await Promise.all([first, second].map((c) => sendSigned(h.baseUrl, signSlackRequest(c.payload, SECRETS.signingSecret))));
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED', decision: { approver: USERS.alice } });
    await expect.poll(() => [...toldAt(first.responseUrl), ...toldAt(second.responseUrl)].join('\n'), { timeout: 15_000 }).toContain('already decided (approve by');
    expect([...toldAt(first.responseUrl), ...toldAt(second.responseUrl)]).toHaveLength(1);
    expect(await acceptedUpdates(p.handle)).toBe(1);
  });

  it('Slack API down — posting is retried until Slack answers; while it stays down the HTTP path still decides', async () => {
    h.slack.failNext('chat.postMessage', 2);
    const before = h.slack.callsOf('chat.postMessage').length;
    const p = await posted();
    const attempts = h.slack.callsOf('chat.postMessage').slice(before);
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 200]);

    h.slack.down = true;
    try {
      const failedPost = await postApprovalRequest(h.baseUrl, fixtureRequest(fixtureIncident('down'), TEN_MINUTES));
      expect(failedPost.status).toBe(502);
      expect(await failedPost.json()).toMatchObject({ error: 'UPSTREAM_FAILED' });

      const decided = await fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${p.request.incidentId}`, {
        method: 'POST',
        headers: bearer(h.tokenOf(PEOPLE.alice)),
        body: JSON.stringify(decisionBody(p.request, 'approve', PEOPLE.alice, { comment: 'Slack is down; approved on the bridge call' })),
      });
      expect(decided.status).toBe(200);
      expect(await decided.json()).toMatchObject({ accepted: true, decision: 'approve' });
      // A note cannot be posted either: 502 after the retries (the workflow's activity retries or records it).
      const note = { incidentId: p.request.incidentId, workflowId: p.request.workflowId, kind: 'resolved', summary: 'resolved', at: new Date().toISOString() };
      const failedNote = await fetch(`${h.baseUrl}${HTTP_PATHS.notes}`, { method: 'POST', headers: bearer(), body: JSON.stringify(note) });
      expect(failedNote.status).toBe(502);
      expect(await failedNote.json()).toMatchObject({ error: 'UPSTREAM_FAILED' });
      expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED', decision: { approver: 'alice@example.com', channel: 'http' } });
      // The edit of the message was tried (and retried) against the down API.
      await expect.poll(() => h.slack.callsOf('chat.update').filter((c) => c.body['ts'] === p.ts && c.status === 503).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
      const health = await fetch(`${h.baseUrl}${HTTP_PATHS.health}`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { dependencies: Record<string, { status: string }> }).dependencies['slack']?.status).toBe('down');
    } finally {
      h.slack.down = false;
    }
  });

  it('changed plan — the older message is superseded (buttons gone); its buttons are refused as a stale plan, kept, and the person told; the new one decides', async () => {
    const first = await posted();
    const next = await replan({ handle: first.handle, request: first.request });
    const second = await post(first.handle, next);
    expect(second.ts).not.toBe(first.ts);
    await expect.poll(() => updateTexts(first), { timeout: 15_000 }).toContain('*Superseded* — the plan changed');
    expect(JSON.stringify(updatesOf(first).at(-1)?.body['blocks'])).not.toContain('cortexops_approve');

    const { payload, responseUrl } = click(first, 'approve', USERS.alice);
    expect((await sendSigned(h.baseUrl, signSlackRequest(payload, SECRETS.signingSecret))).status).toBe(200);
    await expect.poll(() => toldAt(responseUrl).join('\n'), { timeout: 15_000 }).toContain('The plan changed since you looked; review the new request.');
    expect(await acceptedUpdates(first.handle)).toBe(0);
    const kept = (await h.refusals()).filter((r) => r.incidentId === next.incidentId);
    expect(kept.map((r) => [r.actor, r.payload['channel'], r.payload['code']])).toEqual([[USERS.alice, 'slack', 'STALE_PLAN']]);
    expect(String(kept[0]?.payload['input'])).toContain(first.request.planHash);

    expect((await sendSigned(h.baseUrl, signSlackRequest(click(second, 'approve', USERS.alice).payload, SECRETS.signingSecret))).status).toBe(200);
    expect(await first.handle.result()).toMatchObject({ state: 'RESOLVED', decision: { requestId: next.requestId, planHash: next.planHash } });
    await expect.poll(() => updateTexts(second), { timeout: 15_000 }).toContain(`*Approved* by <@${USERS.alice}>`);
  });

  it('button values — a value naming another plan, or not one this service wrote, is refused, kept and explained; nothing reaches the workflow', async () => {
    const p = await posted();
    const otherPlan = buttonValue({ ...p.request, planHash: randomPlanHash() });
    const cases = [
      [otherPlan, 'STALE_PLAN', 'The plan changed since you looked'],
      [p.request.incidentId, 'INVALID_INPUT', 'does not name an approval request and plan'],
      [`{"incidentId":"${p.request.incidentId}"`, 'INVALID_INPUT', 'does not name an approval request and plan'],
      [JSON.stringify({ incidentId: p.request.incidentId, requestId: p.request.requestId, planHash: 'not-a-hash' }), 'INVALID_INPUT', 'does not name'],
    ] as const;
    for (const [value, , says] of cases) {
      const { payload, responseUrl } = click(p, 'approve', USERS.alice, h.slack.responseUrl(), value);
      expect((await sendSigned(h.baseUrl, signSlackRequest(payload, SECRETS.signingSecret))).status).toBe(200);
      await expect.poll(() => toldAt(responseUrl).join('\n'), { timeout: 15_000 }).toContain(says);
    }
    // Kept with what was sent (the value names the incident even when it cannot be read).
    const kept = (await h.refusals()).filter((r) => String(r.payload['input']).includes(p.request.incidentId));
    expect(kept.map((r) => [r.actor, r.payload['code']])).toEqual(cases.map(([, code]) => [USERS.alice, code]));
    expect(await acceptedUpdates(p.handle)).toBe(0);
    expect(updatesOf(p)).toHaveLength(0);
    await p.handle.terminate('test over');
  });

  it('critical — after the first approval the message says "1 of 2 approvals" and keeps its buttons; the same person again is told no; a second approver settles it', async () => {
    const p = await posted(TEN_MINUTES, { request: { approvalsRequired: 2 } });
    expect(JSON.stringify(p.blocks)).toContain('needs *2 distinct approvers*');
    expect((await sendSigned(h.baseUrl, signSlackRequest(click(p, 'approve', USERS.alice).payload, SECRETS.signingSecret))).status).toBe(200);
    await expect.poll(() => updateTexts(p), { timeout: 15_000 }).toContain(`*1 of 2 approvals* — approved by <@${USERS.alice}>`);
    expect(JSON.stringify(updatesOf(p).at(-1)?.body['blocks'])).toContain('cortexops_approve');
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');

    const twice = click(p, 'approve', USERS.alice);
    expect((await sendSigned(h.baseUrl, signSlackRequest(twice.payload, SECRETS.signingSecret))).status).toBe(200);
    await expect.poll(() => toldAt(twice.responseUrl).join('\n'), { timeout: 15_000 }).toContain('the next approval must come from someone else');

    expect((await sendSigned(h.baseUrl, signSlackRequest(click(p, 'approve', USERS.bob).payload, SECRETS.signingSecret))).status).toBe(200);
    expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED' });
    await expect.poll(() => updateTexts(p), { timeout: 15_000 }).toContain(`*Approved* by <@${USERS.alice}> and <@${USERS.bob}>`);
    expect(JSON.stringify(updatesOf(p).at(-1)?.body['blocks'])).not.toContain('cortexops_approve');
    expect(await acceptedUpdates(p.handle)).toBe(2);
  });

  it('cancel — the message says who cancelled and why, and loses its buttons', async () => {
    const p = await posted();
    const response = await fetch(`${h.baseUrl}${HTTP_PATHS.remediations}/${p.request.incidentId}/cancel`, {
      method: 'POST',
      headers: bearer(h.tokenOf(PEOPLE.alice)),
      body: JSON.stringify({ reason: 'handled by hand' }),
    });
    expect(response.status).toBe(200);
    expect(await p.handle.result()).toMatchObject({ state: 'CANCELLED' });
    await expect.poll(() => updateTexts(p), { timeout: 15_000 }).toContain('Remediation finished: *CANCELLED*');
    expect(updateTexts(p)).toContain('*Cancelled* by alice@example.com (via HTTP API)');
    expect(JSON.stringify(updatesOf(p).at(-1)?.body['blocks'])).not.toContain('cortexops_approve');
  });

  it('notes — an escalation is a plain message to the approval channel (no buttons); bad notes are 400, kept, and post nothing', async () => {
    const incident = fixtureIncident('note');
    const note = { incidentId: incident.id, workflowId: `incident-${incident.id}`, kind: 'escalated', summary: 'no safe action for <OOMKilled>; a person is needed', at: new Date().toISOString() };
    const response = await fetch(`${h.baseUrl}${HTTP_PATHS.notes}`, { method: 'POST', headers: bearer(), body: JSON.stringify(note) });
    expect(response.status).toBe(201);
    const ref = (await response.json()) as { channel: string; ts: string };
    expect(ref.channel).toBe(APPROVAL_CHANNEL);
    const sent = h.slack.callsOf('chat.postMessage').find((c) => JSON.stringify(c.body['blocks']).includes(incident.id));
    expect(sent?.body['channel']).toBe(APPROVAL_CHANNEL);
    expect(String(sent?.body['text'])).toContain(`escalated — incident ${incident.id}`);
    expect(JSON.stringify(sent?.body['blocks'])).toContain('no safe action for &lt;OOMKilled&gt;');
    expect((sent?.body['blocks'] as { type: string }[]).some((b) => b.type === 'actions')).toBe(false);

    const posts = h.slack.callsOf('chat.postMessage').length;
    const cases: [unknown, string][] = [
      [{ ...note, kind: 'panic' }, 'kind'],
      [{ ...note, summary: '' }, 'summary'],
      [{ ...note, summary: 'x'.repeat(3001) }, 'summary'],
      [{ ...note, at: 'now' }, 'at'],
      [{ ...note, incidentId: 'Not An Id' }, 'incidentId'],
      [{ ...note, workflowId: undefined }, 'workflowId'],
      ['{"kind":', 'JSON'],
    ];
    for (const [body, mentions] of cases) {
      const bad = await fetch(`${h.baseUrl}${HTTP_PATHS.notes}`, { method: 'POST', headers: bearer(), body: typeof body === 'string' ? body : JSON.stringify(body) });
      expect(bad.status, JSON.stringify(body).slice(0, 120)).toBe(400);
      expect(JSON.stringify(await bad.json())).toContain(mentions);
    }
    expect(h.slack.callsOf('chat.postMessage')).toHaveLength(posts);
    expect((await fetch(`${h.baseUrl}${HTTP_PATHS.notes}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(note) })).status).toBe(401);
    const kept = (await h.refusals()).filter((r) => String(r.payload['input']).includes(incident.id) || String(r.payload['input']).includes('Not An Id'));
    expect(kept.map((r) => r.payload['code'])).toEqual(cases.slice(0, -1).map(() => 'INVALID_INPUT'));
  });

  it('secrets — the bot token, signing secret and API token never reach the logs', () => {
    const logs = h.logs();
    expect(logs).toContain('approvals ready');
    for (const secret of Object.values(SECRETS)) expect(logs).not.toContain(secret);
  });
});
