import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HTTP_PATHS, remediationStateQuery } from '@cortexops/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_EXIT, runCli } from '../../src/cli.js';
import {
  acceptedUpdates,
  bearer,
  decisionBody,
  fixtureIncident,
  fixtureRequest,
  type Harness,
  PEOPLE,
  randomPlanHash,
  replan,
  SECRETS,
  startHarness,
  startPendingWorkflow,
} from './harness.js';

const TEN_MINUTES = 10 * 60_000;
const BIN = fileURLToPath(new URL('../../bin/cortexops-approve.js', import.meta.url));
const ALICE = PEOPLE.alice;
const BOB = PEOPLE.bob;

describe('approvals — HTTP API and CLI', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('approvals-http');
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The personal token of whoever the body names (`approver`, `actor`), else Alice's: the name itself decides nothing. */
  function tokenFor(body: unknown): Record<string, string> {
    const named = typeof body === 'object' && body !== null ? ((body as { approver?: unknown; actor?: unknown }).approver ?? (body as { actor?: unknown }).actor) : undefined;
    return bearer(h.tokenOf(Object.values<string>(PEOPLE).includes(named as string) ? (named as string) : ALICE));
  }

  function decide(incidentId: string, body: unknown, headers: Record<string, string> = tokenFor(body)): Promise<Response> {
    return fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${incidentId}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  }

  function cancel(incidentId: string, body: unknown, headers: Record<string, string> = tokenFor(body)): Promise<Response> {
    return fetch(`${h.baseUrl}${HTTP_PATHS.remediations}/${incidentId}/cancel`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  }

  function pendingOf(incidentId: string, headers: Record<string, string> = { authorization: bearer(h.tokenOf(ALICE)).authorization ?? '' }): Promise<Response> {
    return fetch(`${h.baseUrl}${HTTP_PATHS.approvalRequests}/${incidentId}`, { headers });
  }

  async function refusalsOf(incidentId: string): Promise<[unknown, string][]> {
    return (await h.refusals()).filter((r) => r.incidentId === incidentId).map((r) => [r.payload['code'], r.actor]);
  }

  async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
    return { code, out, err };
  }

  it('approve — the request waiting is read, and a bearer-authenticated decision bound to it is the workflow update', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('http'), TEN_MINUTES);
    const shown = await pendingOf(p.request.incidentId);
    expect(shown.status).toBe(200);
    expect(await shown.json()).toEqual({ state: 'APPROVAL_PENDING', request: p.request, approvedBy: [], approvalsOutstanding: 1 });
    const response = await decide(p.request.incidentId, decisionBody(p.request, 'approve', ALICE));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: true, decision: 'approve', state: 'APPROVAL_PENDING', approvalsOutstanding: 0, approver: ALICE });
    expect(await p.handle.result()).toMatchObject({
      state: 'RESOLVED',
      decision: { approver: ALICE, channel: 'http', requestId: p.request.requestId, planHash: p.request.planHash },
    });
    // Nothing waits any more.
    const after = await pendingOf(p.request.incidentId);
    expect(after.status).toBe(404);
    expect(await after.json()).toMatchObject({ error: 'NO_PENDING_REQUEST', message: expect.stringContaining('state RESOLVED') as unknown });
  });

  it('pending request — 404 for an unknown incident, 401 without the token, 400 for a bad incident id; each refusal kept', async () => {
    const unknown = await pendingOf('inc-nobody-knows');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'INCIDENT_NOT_FOUND' });
    expect((await pendingOf('inc-nobody-knows', {})).status).toBe(401);
    expect((await pendingOf('NOT%20AN%20ID')).status).toBe(400);
    expect(await refusalsOf('inc-nobody-knows')).toEqual([
      ['INCIDENT_NOT_FOUND', `http:${ALICE}`],
      ['UNAUTHENTICATED', 'http:unknown'],
    ]);
  });

  it('duplicate — a second decision is refused with 409 and the first stands', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('dup'), TEN_MINUTES);
    expect((await decide(p.request.incidentId, decisionBody(p.request, 'reject', ALICE))).status).toBe(200);
    const second = await decide(p.request.incidentId, decisionBody(p.request, 'approve', ALICE));
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ error: 'ALREADY_DECIDED', message: expect.stringContaining(`reject by ${ALICE}`) as unknown });
    expect(await p.handle.result()).toMatchObject({ state: 'REJECTED' });
    expect(await acceptedUpdates(p.handle)).toBe(1);
  });

  it('stale plan — a decision with another plan hash, or about the request before the plan changed, is refused with 409 and kept; the new request is decided', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('stale'), TEN_MINUTES);
    const otherHash = await decide(p.request.incidentId, decisionBody({ ...p.request, planHash: randomPlanHash() }, 'approve', ALICE));
    expect(otherHash.status).toBe(409);
    const answer = (await otherHash.json()) as { error: string; message: string; issues?: unknown };
    expect(answer).toMatchObject({ error: 'STALE_PLAN', issues: { current: { requestId: p.request.requestId, planHash: p.request.planHash } } });
    expect(answer.message).toMatch(/^The plan changed since you looked; review the new request\./);

    const next = await replan(p);
    const old = await decide(p.request.incidentId, decisionBody(p.request, 'approve', ALICE));
    expect(old.status).toBe(409);
    expect(await old.json()).toMatchObject({ error: 'STALE_PLAN', message: expect.stringContaining(`the request waiting is ${next.requestId}`) as unknown });
    // Another request id with the current hash is refused too: the decision must name both.
    expect((await decide(p.request.incidentId, decisionBody({ ...next, requestId: p.request.requestId }, 'approve', ALICE))).status).toBe(409);
    expect(await acceptedUpdates(p.handle)).toBe(0);

    expect(await (await pendingOf(p.request.incidentId)).json()).toMatchObject({ request: { requestId: next.requestId, planHash: next.planHash } });
    expect((await decide(p.request.incidentId, decisionBody(next, 'approve', ALICE))).status).toBe(200);
    expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED', decision: { requestId: next.requestId, planHash: next.planHash } });
    expect(await refusalsOf(p.request.incidentId)).toEqual([
      ['STALE_PLAN', `http:${ALICE}`],
      ['STALE_PLAN', `http:${ALICE}`],
      ['STALE_PLAN', `http:${ALICE}`],
    ]);
  });

  it('critical — two distinct approvers: the first is told one more is needed, the same person twice is refused, the second approves', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('critical'), TEN_MINUTES, { request: { approvalsRequired: 2 } });
    const first = await decide(p.request.incidentId, decisionBody(p.request, 'approve', ALICE));
    expect(await first.json()).toMatchObject({ accepted: true, approvalsOutstanding: 1 });
    const again = await decide(p.request.incidentId, decisionBody(p.request, 'approve', ALICE));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'ALREADY_DECIDED', message: expect.stringContaining('the next approval must come from someone else') as unknown });
    expect(await (await pendingOf(p.request.incidentId)).json()).toMatchObject({ approvedBy: [ALICE], approvalsOutstanding: 1 });
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    const second = await decide(p.request.incidentId, decisionBody(p.request, 'approve', BOB));
    expect(await second.json()).toMatchObject({ accepted: true, approvalsOutstanding: 0 });
    const outcome = (await p.handle.result()) as { state: string; decisions: { approver: string }[] };
    expect(outcome.state).toBe('RESOLVED');
    expect(outcome.decisions.map((d) => d.approver)).toEqual([ALICE, BOB]);
  });

  it("refusals — 401 without, with a wrong or a revoked token, 403 for the worker's token (it posts, never decides), 404 for an unknown incident", async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('refuse'), TEN_MINUTES);
    const incidentId = p.request.incidentId;
    const body = decisionBody(p.request, 'approve', ALICE);
    const alice = h.tokenOf(ALICE);
    expect((await decide(incidentId, body, { 'content-type': 'application/json' })).status).toBe(401);
    expect((await decide(incidentId, body, bearer('x'.repeat(alice.length)))).status).toBe(401);
    // The right id with another secret, and Alice's token under another scheme.
    expect((await decide(incidentId, body, bearer(`${alice.slice(0, 21)}${'A'.repeat(43)}`))).status).toBe(401);
    expect((await decide(incidentId, body, { ...bearer(), authorization: `Basic ${alice}` })).status).toBe(401);
    const forbidden = await decide(incidentId, body, bearer(SECRETS.apiToken));
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: 'APPROVER_NOT_ALLOWED', message: expect.stringContaining('personal token') as unknown });
    const unknown = await decide('inc-does-not-exist', body);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'INCIDENT_NOT_FOUND' });
    expect(await refusalsOf(incidentId)).toEqual([
      // Who tried is who the token says; without a valid token nobody is known (a name in the body is never trusted).
      ['UNAUTHENTICATED', 'http:unknown'],
      ['UNAUTHENTICATED', 'http:unknown'],
      ['UNAUTHENTICATED', 'http:unknown'],
      ['UNAUTHENTICATED', 'http:unknown'],
      ['APPROVER_NOT_ALLOWED', 'http:worker'],
    ]);
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    expect(await acceptedUpdates(p.handle)).toBe(0);
    await p.handle.terminate('test over');
  });

  it('bad values — each is refused with 400 naming the problem, kept in the audit store, and the service carries on', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('bad'), TEN_MINUTES);
    const incidentId = p.request.incidentId;
    const good = decisionBody(p.request, 'approve', ALICE);
    const without = (field: string) => Object.fromEntries(Object.entries(good).filter(([key]) => key !== field));
    const cases: [unknown, string][] = [
      ['{"decision": "approve",', 'JSON'],
      [without('decision'), 'decision'],
      [{ ...good, decision: 'maybe' }, 'decision'],
      [{ ...good, approver: '' }, 'approver'],
      [{ ...good, channel: 'slack' }, 'channel'],
      [{ ...good, decidedAt: '1999-01-01T00:00:00Z' }, 'decidedAt'],
      [{ ...good, comment: 'x'.repeat(2001) }, 'comment'],
      [without('requestId'), 'requestId'],
      [{ ...good, requestId: 'Incident ../../etc' }, 'requestId'],
      [{ ...good, requestId: 'x'.repeat(201) }, 'requestId'],
      [{ ...good, requestId: 42 }, 'requestId'],
      [without('planHash'), 'planHash'],
      [{ ...good, planHash: p.request.planHash.slice(0, 12) }, 'planHash'],
      [{ ...good, planHash: p.request.planHash.toUpperCase() }, 'planHash'],
      [{ ...good, planHash: `${p.request.planHash.slice(0, 63)}g` }, 'planHash'],
      [[1, 2, 3], '(root)'],
    ];
    for (const [body, mentions] of cases) {
      const response = await decide(incidentId, body);
      expect(response.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(JSON.stringify(await response.json()), JSON.stringify(body).slice(0, 200)).toContain(mentions);
    }
    expect((await decide('NOT%20AN%20ID', good)).status).toBe(400);

    const badRequest = await fetch(`${h.baseUrl}${HTTP_PATHS.approvalRequests}`, {
      method: 'POST',
      headers: bearer(),
      body: JSON.stringify({ ...fixtureRequest(fixtureIncident('bad-request'), TEN_MINUTES), expiresAt: 'tomorrow', planHash: 'abc', plan: { actions: [] } }),
    });
    expect(badRequest.status).toBe(400);
    const problem = (await badRequest.json()) as { issues: { field: string }[] };
    expect(problem.issues.map((i) => i.field)).toEqual(expect.arrayContaining(['expiresAt', 'planHash', 'plan.rationale']));
    // Each refused attempt is kept in the audit store with its reason and a bounded copy of what was sent.
    const kept = (await h.refusals()).filter((r) => r.incidentId === incidentId);
    expect(kept).toHaveLength(cases.length);
    expect(kept.map((r) => r.payload['input'])).toContain(JSON.stringify({ ...good, decision: 'maybe' }));
    expect(kept.map((r) => r.payload['input'])).toContain(JSON.stringify({ ...good, requestId: 'Incident ../../etc' }));
    expect(kept.every((r) => r.payload['code'] === 'INVALID_INPUT' && typeof r.payload['reason'] === 'string')).toBe(true);
    expect(kept.map((r) => String(r.payload['reason'])).join('\n')).toContain('planHash: must be a lowercase hex SHA-256');

    expect((await fetch(`${h.baseUrl}${HTTP_PATHS.health}`)).status).toBe(200);
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    expect(await acceptedUpdates(p.handle)).toBe(0);
    await p.handle.terminate('test over');
  });

  it('cancel — before the apply the workflow stops (CANCELLED); a second cancel and a cancel of an ended remediation are 409', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('cancel'), TEN_MINUTES);
    const response = await cancel(p.request.incidentId, { reason: 'wrong target, fixing by hand', actor: ALICE });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: true, state: 'APPROVAL_PENDING', effect: 'stop', actor: ALICE });
    expect(await p.handle.result()).toMatchObject({ state: 'CANCELLED', outcome: `cancelled by ${ALICE}: wrong target, fixing by hand` });
    const again = await cancel(p.request.incidentId, { reason: 'again', actor: BOB });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'NOT_CANCELLABLE', message: expect.stringContaining('CANCELLED') as unknown });
    // Deciding on a cancelled remediation is refused too.
    const late = await decide(p.request.incidentId, decisionBody(p.request, 'approve', ALICE));
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: 'NOT_AWAITING_APPROVAL' });
  });

  it('cancel — after the apply the change is compensated (effect compensate, ROLLED_BACK)', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('cancel-applied'), TEN_MINUTES, { holdApplyingMs: 60_000 });
    expect((await decide(p.request.incidentId, decisionBody(p.request, 'approve', ALICE))).status).toBe(200);
    await expect.poll(async () => (await p.handle.query(remediationStateQuery)).state, { timeout: 15_000 }).toBe('APPLYING');
    const response = await cancel(p.request.incidentId, { reason: 'error rate went up', actor: BOB, channel: 'cli' });
    expect(await response.json()).toEqual({ accepted: true, state: 'APPLYING', effect: 'compensate', actor: BOB });
    expect(await p.handle.result()).toMatchObject({ state: 'ROLLED_BACK' });
  });

  it("cancel — bad bodies are 400 naming the field, the worker's token 403, an unknown incident 404, no token 401; every refusal kept", async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('cancel-bad'), TEN_MINUTES);
    const incidentId = p.request.incidentId;
    const cases: [unknown, string][] = [
      ['{"reason":', 'JSON'],
      [{ actor: ALICE }, 'reason'],
      [{ actor: ALICE, reason: '' }, 'reason'],
      [{ actor: ALICE, reason: 'x'.repeat(2001) }, 'reason'],
      [{ reason: 'stop', actor: '' }, 'actor'],
      [{ reason: 'stop', actor: ALICE, channel: 'slack' }, 'channel'],
      [{ reason: 'stop', actor: ALICE, requestedAt: '1999-01-01T00:00:00Z' }, 'requestedAt'],
      ['"stop"', '(root)'],
    ];
    for (const [body, mentions] of cases) {
      const response = await cancel(incidentId, body);
      expect(response.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(JSON.stringify(await response.json()), JSON.stringify(body).slice(0, 200)).toContain(mentions);
    }
    const forbidden = await cancel(incidentId, { reason: 'stop' }, bearer(SECRETS.apiToken));
    expect(forbidden.status).toBe(403);
    expect((await cancel(incidentId, { reason: 'stop', actor: ALICE }, { 'content-type': 'application/json' })).status).toBe(401);
    const unknown = await cancel('inc-not-there', { reason: 'stop', actor: ALICE });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'INCIDENT_NOT_FOUND' });
    const codes = (await refusalsOf(incidentId)).map(([code]) => code);
    expect(codes).toEqual([...cases.map(() => 'INVALID_INPUT'), 'APPROVER_NOT_ALLOWED', 'UNAUTHENTICATED']);
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    await p.handle.terminate('test over');
  });

  it('CLI — prints what is decided (action, target, risk, plan hash, dry-run diff), then rejects through the same update', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('cli'), TEN_MINUTES);
    const common = ['--api-url', h.baseUrl, '--token', h.tokenOf(ALICE)];
    const denied = await cli(['reject', p.request.incidentId, '--api-url', h.baseUrl, '--token', SECRETS.apiToken]);
    expect(denied.code).toBe(CLI_EXIT.refused);
    expect(denied.err.join('\n')).toContain('cannot read, decide or cancel');

    const ok = await cli(['reject', p.request.incidentId, '--comment', 'wrong target', ...common]);
    expect(ok).toMatchObject({ code: CLI_EXIT.accepted });
    const printed = ok.out.join('\n');
    expect(printed).toContain(`Approval request ${p.request.requestId} for incident ${p.request.incidentId}`);
    expect(printed).toContain('action    raise-memory-limit Deployment demo/checkout (app → 512Mi)');
    expect(printed).toContain('risk      high');
    expect(printed).toContain(`plan      ${p.request.planHash.slice(0, 12)}`);
    expect(printed).toContain('    + memory: 512Mi');
    expect(printed).toContain(`rejected incident ${p.request.incidentId} (request ${p.request.requestId}, plan ${p.request.planHash.slice(0, 12)}) as ${ALICE}`);
    expect(await p.handle.result()).toMatchObject({ state: 'REJECTED', decision: { channel: 'cli', approver: ALICE, comment: 'wrong target', planHash: p.request.planHash } });

    const again = await cli(['approve', p.request.incidentId, ...common]);
    expect(again.code).toBe(CLI_EXIT.refused);
    expect(again.err.join('\n')).toContain('NO_PENDING_REQUEST');
  });

  it('CLI — --plan-hash pins the plan reviewed: another plan waiting is refused locally and nothing is sent; the right one is approved', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('cli-pin'), TEN_MINUTES, { request: { approvalsRequired: 2 } });
    const common = ['--api-url', h.baseUrl, '--token', h.tokenOf(ALICE)];
    const reviewed = p.request.planHash.slice(0, 12);
    const next = await replan(p);
    const refused = await cli(['approve', p.request.incidentId, '--plan-hash', reviewed, ...common]);
    expect(refused.code).toBe(CLI_EXIT.refused);
    expect(refused.err.join('\n')).toContain(`the plan waiting is ${next.planHash.slice(0, 12)}`);
    expect(refused.err.join('\n')).toContain('nothing was sent');
    expect(await acceptedUpdates(p.handle)).toBe(0);

    const json = await cli(['approve', p.request.incidentId, '--plan-hash', next.planHash.slice(0, 8).toUpperCase(), '--output', 'json', ...common]);
    expect(json.code).toBe(CLI_EXIT.accepted);
    expect(json.out).toHaveLength(1);
    expect(JSON.parse(json.out[0] ?? '')).toMatchObject({ request: { requestId: next.requestId, planHash: next.planHash }, outcome: { accepted: true, approvalsOutstanding: 1 } });

    const shown = await cli(['show', p.request.incidentId, '--output', 'json', ...common]);
    expect(JSON.parse(shown.out[0] ?? '')).toMatchObject({ approvedBy: [ALICE], approvalsOutstanding: 1 });
    const text = await cli(['show', p.request.incidentId, ...common]);
    expect(text.out.join('\n')).toContain(`needs 2 distinct approvers; approved so far by ${ALICE}`);
    const second = await cli(['approve', p.request.incidentId, '--api-url', h.baseUrl, '--token', h.tokenOf(BOB)]);
    expect(second.out.at(-1)).toContain(`as ${BOB}; remediation state`);
    expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED' });
  });

  it('CLI — cancel sends the reason (the actor is the token owner); refused cancels say why; --output json prints one object', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('cli-cancel'), TEN_MINUTES);
    const common = ['--api-url', h.baseUrl, '--token', h.tokenOf(ALICE)];
    expect((await cli(['cancel', p.request.incidentId, ...common])).code).toBe(CLI_EXIT.usage);
    const ok = await cli(['cancel', p.request.incidentId, '--reason', 'maintenance window', ...common]);
    expect(ok).toMatchObject({ code: CLI_EXIT.accepted });
    expect(ok.out.join('\n')).toContain(`cancelled the remediation of incident ${p.request.incidentId} as ${ALICE} (it was in state APPROVAL_PENDING; nothing was applied)`);
    expect(await p.handle.result()).toMatchObject({ state: 'CANCELLED' });
    const again = await cli(['cancel', p.request.incidentId, '--reason', 'again', '--output', 'json', ...common]);
    expect(again.code).toBe(CLI_EXIT.refused);
    expect(JSON.parse(again.out[0] ?? '')).toMatchObject({ error: 'NOT_CANCELLABLE', status: 409 });
  });

  it('CLI — usage errors, a missing token and an unreachable API end with clear messages and distinct exit codes', async () => {
    expect((await cli(['maybe', 'inc-1'])).code).toBe(CLI_EXIT.usage);
    expect((await cli(['inc-1', 'approve'])).code).toBe(CLI_EXIT.usage);
    // Who decides is the token's owner: naming someone is not an option any more.
    const named = await cli(['approve', 'inc-1', '--actor', 'alice', '--api-url', h.baseUrl, '--token', h.tokenOf(ALICE)]);
    expect(named.code).toBe(CLI_EXIT.usage);
    expect(named.err.join('\n')).toContain("unknown option '--actor'");
    expect((await cli(['approve', 'inc-1', '--plan-hash', 'xyz'])).err.join('\n')).toContain('8 to 64 hex digits');
    expect((await cli(['show', 'inc-1', '--output', 'yaml'])).code).toBe(CLI_EXIT.usage);
    const noToken = await cli(['approve', 'inc-1', '--api-url', h.baseUrl]);
    expect(noToken).toMatchObject({ code: CLI_EXIT.usage, err: [expect.stringContaining('CORTEXOPS_APPROVER_TOKEN') as unknown] });
    const badToken = await cli(['approve', 'inc-1', '--api-url', h.baseUrl, '--token', 'nope-not-a-real-token-at-all']);
    expect(badToken.code).toBe(CLI_EXIT.failed);
    expect(badToken.err.join('\n')).toContain('401');
    const unreachable = await cli(['approve', 'inc-1', '--api-url', 'http://127.0.0.1:1', '--token', h.tokenOf(ALICE)]);
    expect(unreachable.code).toBe(CLI_EXIT.failed);
    expect(unreachable.err.join('\n')).toContain('could not be reached');
  });

  it('CLI — the installed cortexops-approve command runs and reads the token from the environment', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('bin'), TEN_MINUTES);
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'approve', p.request.incidentId, '--api-url', h.baseUrl], {
      env: { ...process.env, CORTEXOPS_APPROVER_TOKEN: h.tokenOf(ALICE) },
      cwd: '/',
    });
    expect(stdout).toContain(`approved incident ${p.request.incidentId}`);
    expect(stdout).toContain(`as ${ALICE}`);
    expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED', decision: { channel: 'cli', approver: ALICE } });
  });
});

describe('approvals — without Slack, and a flood of refused attempts', () => {
  const LIMIT = 3;
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('approvals-flood', { CORTEXOPS_APPROVALS_REFUSALS_PER_MINUTE: String(LIMIT) }, { slack: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('without Slack — a note and an approval request are answered "not posted" (200, no refusal recorded), the HTTP path still decides', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('noslack'), TEN_MINUTES);
    const note = { incidentId: p.request.incidentId, workflowId: p.request.workflowId, kind: 'escalated', summary: 'no safe action', at: new Date().toISOString() };
    const noted = await fetch(`${h.baseUrl}${HTTP_PATHS.notes}`, { method: 'POST', headers: bearer(), body: JSON.stringify(note) });
    expect(noted.status).toBe(200);
    expect(await noted.json()).toMatchObject({ posted: false });
    const requested = await fetch(`${h.baseUrl}${HTTP_PATHS.approvalRequests}`, { method: 'POST', headers: bearer(), body: JSON.stringify(p.request) });
    expect(requested.status).toBe(200);
    expect(await requested.json()).toMatchObject({ posted: false });
    expect((await h.refusals()).filter((r) => r.payload['code'] === 'NOT_CONFIGURED')).toEqual([]);
    expect(
      (await fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${p.request.incidentId}`, { method: 'POST', headers: bearer(h.tokenOf(ALICE)), body: JSON.stringify(decisionBody(p.request, 'approve', ALICE)) })).status,
    ).toBe(200);
    expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED' });
  });

  it('flood — every attempt is refused; the first of a kind are stored one by one, the rest counted and summarised in one row', async () => {
    const incident = fixtureIncident('flood');
    const attempts = 12;
    const body = JSON.stringify({ ...decisionBody(fixtureRequest(incident, TEN_MINUTES), 'approve', 'mallory') });
    const statuses = await Promise.all(
      Array.from({ length: attempts }, () =>
        fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${incident.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array.from({ length: attempts }, () => 401));
    // Another kind of refusal has its own allowance.
    expect((await fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${incident.id}`, { method: 'POST', headers: bearer(), body })).status).toBe(403);

    const ofFlood = async () => (await h.refusals()).filter((r) => r.payload['code'] !== 'NOT_CONFIGURED');
    const stored = await ofFlood();
    expect(stored.map((r) => r.payload['code'])).toEqual([...Array.from({ length: LIMIT }, () => 'UNAUTHENTICATED'), 'APPROVER_NOT_ALLOWED']);
    const metrics = await (await fetch(`${h.baseUrl}${HTTP_PATHS.metrics}`)).text();
    expect(metrics).toContain(`cortexops_approval_refusals_total{channel="http",code="UNAUTHENTICATED",stored="true",service="approvals"} ${LIMIT}`);
    expect(metrics).toContain(`cortexops_approval_refusals_total{channel="http",code="UNAUTHENTICATED",stored="false",service="approvals"} ${attempts - LIMIT}`);
    expect(h.logs()).toContain('counting them instead of storing each');

    // Stopping writes the summary of what was only counted: nothing is lost, the database is not flooded.
    await h.service.shutdown('test: flush the summaries');
    const after = await ofFlood();
    expect(after).toHaveLength(LIMIT + 2);
    const summary = after.at(-1);
    expect(summary).toMatchObject({ actor: 'http:flood', payload: { channel: 'http', code: 'UNAUTHENTICATED', suppressed: attempts - LIMIT } });
    expect(summary?.payload['reason']).toMatch(/^9 more refused attempts .*\(limit 3 per minute\)$/);
  });
});
