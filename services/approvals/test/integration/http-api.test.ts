import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HTTP_PATHS, remediationStateQuery } from '@cortexops/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_EXIT, runCli } from '../../src/cli.js';
import { acceptedUpdates, bearer, fixtureIncident, fixtureRequest, type Harness, SECRETS, startHarness, startPendingWorkflow } from './harness.js';

const TEN_MINUTES = 10 * 60_000;
const BIN = fileURLToPath(new URL('../../bin/cortexops-approve.js', import.meta.url));

describe('approvals — HTTP API and CLI', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('approvals-http');
  });
  afterAll(async () => {
    await h?.close();
  });

  function decide(incidentId: string, body: unknown, headers: Record<string, string> = bearer()): Promise<Response> {
    return fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${incidentId}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  }

  async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
    return { code, out, err };
  }

  it('approve — a bearer-authenticated decision is the workflow update', async () => {
    const incident = fixtureIncident('http');
    const handle = await startPendingWorkflow(h.client, incident, TEN_MINUTES);
    const response = await decide(incident.id, { decision: 'approve', approver: 'alice@example.com' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: true, decision: 'approve', state: 'APPLYING' });
    expect(await handle.result()).toMatchObject({ state: 'RESOLVED', decision: { approver: 'alice@example.com', channel: 'http' } });
  });

  it('duplicate — a second decision is refused with 409 and the first stands', async () => {
    const incident = fixtureIncident('dup');
    const handle = await startPendingWorkflow(h.client, incident, TEN_MINUTES);
    expect((await decide(incident.id, { decision: 'reject', approver: 'alice@example.com' })).status).toBe(200);
    const second = await decide(incident.id, { decision: 'approve', approver: 'alice@example.com' });
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ error: 'ALREADY_DECIDED', message: expect.stringContaining('reject by alice@example.com') as unknown });
    expect(await handle.result()).toMatchObject({ state: 'REJECTED' });
    expect(await acceptedUpdates(handle)).toBe(1);
  });

  it('refusals — 401 without or with a wrong token, 403 for an approver not allowed, 404 for an unknown incident', async () => {
    const incident = fixtureIncident('refuse');
    const handle = await startPendingWorkflow(h.client, incident, TEN_MINUTES);
    const body = { decision: 'approve', approver: 'alice@example.com' };
    expect((await decide(incident.id, body, { 'content-type': 'application/json' })).status).toBe(401);
    expect((await decide(incident.id, body, bearer('x'.repeat(SECRETS.apiToken.length)))).status).toBe(401);
    expect((await decide(incident.id, body, { ...bearer(), authorization: `Basic ${SECRETS.apiToken}` })).status).toBe(401);
    const forbidden = await decide(incident.id, { decision: 'approve', approver: 'mallory@example.com' });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: 'APPROVER_NOT_ALLOWED' });
    const unknown = await decide('inc-does-not-exist', body);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'INCIDENT_NOT_FOUND' });
    const codes = (await h.refusals()).filter((r) => r.incidentId === incident.id).map((r) => [r.payload['code'], r.actor]);
    expect(codes).toEqual([
      ['UNAUTHENTICATED', 'http:unknown'],
      ['UNAUTHENTICATED', 'http:unknown'],
      ['UNAUTHENTICATED', 'http:unknown'],
      ['APPROVER_NOT_ALLOWED', 'http:mallory@example.com'],
    ]);
    expect((await handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    expect(await acceptedUpdates(handle)).toBe(0);
    await handle.terminate('test over');
  });

  it('bad values — each is refused with 400 naming the problem, logged, and the service carries on', async () => {
    const incident = fixtureIncident('bad');
    const handle = await startPendingWorkflow(h.client, incident, TEN_MINUTES);
    const cases: [unknown, string][] = [
      ['{"decision": "approve",', 'JSON'],
      [{ approver: 'alice@example.com' }, 'decision'],
      [{ decision: 'maybe', approver: 'alice@example.com' }, 'decision'],
      [{ decision: 'approve' }, 'approver'],
      [{ decision: 'approve', approver: '' }, 'approver'],
      [{ decision: 'approve', approver: 'alice@example.com', channel: 'slack' }, 'channel'],
      [{ decision: 'approve', approver: 'alice@example.com', decidedAt: '1999-01-01T00:00:00Z' }, 'decidedAt'],
      [{ decision: 'approve', approver: 'alice@example.com', comment: 'x'.repeat(2001) }, 'comment'],
      [[1, 2, 3], '(root)'],
    ];
    for (const [body, mentions] of cases) {
      const response = await decide(incident.id, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(await response.json()), JSON.stringify(body)).toContain(mentions);
    }
    const badId = await decide('NOT%20AN%20ID', { decision: 'approve', approver: 'alice@example.com' });
    expect(badId.status).toBe(400);

    const badRequest = await fetch(`${h.baseUrl}${HTTP_PATHS.approvalRequests}`, {
      method: 'POST',
      headers: bearer(),
      body: JSON.stringify({ ...fixtureRequest(incident, TEN_MINUTES), expiresAt: 'tomorrow', plan: { actions: [] } }),
    });
    expect(badRequest.status).toBe(400);
    const problem = (await badRequest.json()) as { issues: { field: string }[] };
    expect(problem.issues.map((i) => i.field)).toEqual(expect.arrayContaining(['expiresAt', 'plan.actions']));
    // Each refused attempt is kept in the audit store with its reason and a bounded copy of what was sent.
    const kept = (await h.refusals()).filter((r) => r.incidentId === incident.id);
    expect(kept.length).toBeGreaterThanOrEqual(cases.length);
    expect(kept.map((r) => r.payload['input'])).toContain(JSON.stringify({ decision: 'maybe', approver: 'alice@example.com' }));
    expect(kept.every((r) => r.payload['code'] === 'INVALID_INPUT' && typeof r.payload['reason'] === 'string')).toBe(true);

    expect((await fetch(`${h.baseUrl}${HTTP_PATHS.health}`)).status).toBe(200);
    expect((await handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    expect(await acceptedUpdates(handle)).toBe(0);
    await handle.terminate('test over');
  });

  it('CLI — rejects through the same update, and says why a refused decision was refused', async () => {
    const incident = fixtureIncident('cli');
    const handle = await startPendingWorkflow(h.client, incident, TEN_MINUTES);
    const common = ['--api-url', h.baseUrl, '--token', SECRETS.apiToken];
    const denied = await cli([incident.id, 'reject', '--approver', 'mallory@example.com', ...common]);
    expect(denied.code).toBe(CLI_EXIT.refused);
    expect(denied.err.join('\n')).toContain('not on the approver allow-list');

    const ok = await cli([incident.id, 'reject', '--approver', 'alice@example.com', '--comment', 'wrong target', ...common]);
    expect(ok).toMatchObject({ code: CLI_EXIT.accepted });
    expect(ok.out.join('\n')).toContain(`rejected incident ${incident.id}`);
    expect(await handle.result()).toMatchObject({ state: 'REJECTED', decision: { channel: 'cli', approver: 'alice@example.com', comment: 'wrong target' } });

    const again = await cli([incident.id, 'approve', '--approver', 'alice@example.com', ...common]);
    expect(again.code).toBe(CLI_EXIT.refused);
    expect(again.err.join('\n')).toContain('ALREADY_DECIDED');
  });

  it('CLI — usage errors, a missing token and an unreachable API end with clear messages and distinct exit codes', async () => {
    expect((await cli(['inc-1', 'maybe', '--approver', 'alice'])).code).toBe(CLI_EXIT.usage);
    expect((await cli(['inc-1', 'approve'])).err.join('\n')).toContain('--approver');
    const noToken = await cli(['inc-1', 'approve', '--approver', 'alice', '--api-url', h.baseUrl]);
    expect(noToken).toMatchObject({ code: CLI_EXIT.usage, err: [expect.stringContaining('CORTEXOPS_APPROVALS_API_TOKEN') as unknown] });
    const badToken = await cli(['inc-1', 'approve', '--approver', 'alice', '--api-url', h.baseUrl, '--token', 'nope']);
    expect(badToken.code).toBe(CLI_EXIT.failed);
    expect(badToken.err.join('\n')).toContain('401');
    const unreachable = await cli(['inc-1', 'approve', '--approver', 'alice', '--api-url', 'http://127.0.0.1:1', '--token', SECRETS.apiToken]);
    expect(unreachable.code).toBe(CLI_EXIT.failed);
    expect(unreachable.err.join('\n')).toContain('could not be reached');
  });

  it('CLI — the installed cortexops-approve command runs and reads the token from the environment', async () => {
    const incident = fixtureIncident('bin');
    const handle = await startPendingWorkflow(h.client, incident, TEN_MINUTES);
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, incident.id, 'approve', '--approver', 'alice@example.com', '--api-url', h.baseUrl], {
      env: { ...process.env, CORTEXOPS_APPROVALS_API_TOKEN: SECRETS.apiToken },
      cwd: '/',
    });
    expect(stdout).toContain(`approved incident ${incident.id}`);
    expect(await handle.result()).toMatchObject({ state: 'RESOLVED', decision: { channel: 'cli' } });
  });
});

describe('approvals — a flood of refused attempts', () => {
  const LIMIT = 3;
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('approvals-flood', { CORTEXOPS_APPROVALS_REFUSALS_PER_MINUTE: String(LIMIT) });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('flood — every attempt is refused; the first of a kind are stored one by one, the rest counted and summarised in one row', async () => {
    const incident = fixtureIncident('flood');
    const attempts = 12;
    const statuses = await Promise.all(
      Array.from({ length: attempts }, () =>
        fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${incident.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approve', approver: 'mallory' }) }).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array.from({ length: attempts }, () => 401));
    // Another kind of refusal has its own allowance.
    expect((await fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${incident.id}`, { method: 'POST', headers: bearer(), body: JSON.stringify({ decision: 'approve', approver: 'mallory' }) })).status).toBe(403);

    const stored = await h.refusals();
    expect(stored.map((r) => r.payload['code'])).toEqual([...Array.from({ length: LIMIT }, () => 'UNAUTHENTICATED'), 'APPROVER_NOT_ALLOWED']);
    const metrics = await (await fetch(`${h.baseUrl}${HTTP_PATHS.metrics}`)).text();
    expect(metrics).toContain(`cortexops_approval_refusals_total{channel="http",code="UNAUTHENTICATED",stored="true",service="approvals"} ${LIMIT}`);
    expect(metrics).toContain(`cortexops_approval_refusals_total{channel="http",code="UNAUTHENTICATED",stored="false",service="approvals"} ${attempts - LIMIT}`);
    expect(h.logs()).toContain('counting them instead of storing each');

    // Stopping writes the summary of what was only counted: nothing is lost, the database is not flooded.
    await h.service.shutdown('test: flush the summaries');
    const after = await h.refusals();
    expect(after).toHaveLength(LIMIT + 2);
    const summary = after.at(-1);
    expect(summary).toMatchObject({ actor: 'http:flood', payload: { channel: 'http', code: 'UNAUTHENTICATED', suppressed: attempts - LIMIT } });
    expect(summary?.payload['reason']).toMatch(/^9 more refused attempts .*\(limit 3 per minute\)$/);
  });
});
