import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type ApprovalDecision,
  approvalDecisionUpdate,
  type CancelRequest,
  cancelRemediationUpdate,
  decisionSigningPayload,
  HTTP_PATHS,
  remediationStateQuery,
  WORKFLOW_REFUSALS,
} from '@cortexops/contracts';
import { chunkedUpload } from '@cortexops/testkit';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptedUpdates, bearer, decisionBody, fixtureIncident, fixtureRequest, type Harness, PEOPLE, SECRETS, startHarness, startPendingWorkflow } from './harness.js';

const TEN_MINUTES = 10 * 60_000;
const BIN = fileURLToPath(new URL('../../bin/cortexops-approve.js', import.meta.url));
const { alice: ALICE, bob: BOB, carol: CAROL } = PEOPLE;

/** The failure type a workflow update was refused with (the validator's `ApplicationFailure` type). */
async function refusalOf(update: Promise<unknown>): Promise<string | undefined> {
  try {
    await update;
    return undefined;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) return (error.cause as { type?: string } | undefined)?.type;
    throw error;
  }
}

describe('approvals — who may decide (issue 10)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('approvals-identity');
  });
  afterAll(async () => {
    await h?.close();
  });

  const decide = (incidentId: string, token: string, body: unknown) =>
    fetch(`${h.baseUrl}${HTTP_PATHS.approvals}/${incidentId}`, { method: 'POST', headers: bearer(token), body: JSON.stringify(body) });

  it('a bare Temporal client cannot approve or cancel: unsigned, signed with another key, or altered after signing — each refused by the workflow itself, nothing taken', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('bare'), TEN_MINUTES);
    const base: ApprovalDecision = { requestId: p.request.requestId, planHash: p.request.planHash, decision: 'approve', approver: ALICE, channel: 'http', decidedAt: new Date().toISOString() };
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const signedByStranger = { ...base, signature: sign(null, Buffer.from(decisionSigningPayload(base)), stranger).toString('hex') };
    // A decision the service really signed (read back from an accepted one elsewhere would do too): altered, it fails.
    const other = await startPendingWorkflow(h.client, fixtureIncident('bare-other'), TEN_MINUTES);
    expect((await decide(other.request.incidentId, h.tokenOf(BOB), decisionBody(other.request, 'approve', BOB))).status).toBe(200);
    const genuine = (await other.handle.query(remediationStateQuery)).decisions[0]!;
    expect(genuine.signature).toMatch(/^[0-9a-f]{128}$/);

    for (const forged of [base, { ...base, signature: 'f'.repeat(128) }, signedByStranger, { ...genuine, requestId: p.request.requestId, planHash: p.request.planHash }]) {
      expect(await refusalOf(p.handle.executeUpdate(approvalDecisionUpdate, { args: [forged] }))).toBe(WORKFLOW_REFUSALS.unsigned);
    }
    const cancel: CancelRequest = { actor: ALICE, channel: 'http', reason: 'let me in', requestedAt: new Date().toISOString() };
    expect(await refusalOf(p.handle.executeUpdate(cancelRemediationUpdate, { args: [cancel] }))).toBe(WORKFLOW_REFUSALS.unsigned);

    expect(await acceptedUpdates(p.handle)).toBe(0);
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    // The service's own, signed, decision still goes through.
    expect((await decide(p.request.incidentId, h.tokenOf(ALICE), decisionBody(p.request, 'approve', ALICE))).status).toBe(200);
    expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED', decisions: [{ approver: ALICE }] });
  });

  it('an HTTP approval naming someone else approves as the token owner only; a cancel naming someone else is the token owner\'s', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('impersonate'), TEN_MINUTES, { request: { approvalsRequired: 2 } });
    const answer = await decide(p.request.incidentId, h.tokenOf(ALICE), decisionBody(p.request, 'approve', BOB));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ accepted: true, approver: ALICE, approvalsOutstanding: 1 });
    const view = await p.handle.query(remediationStateQuery);
    expect(view.decisions.map((d) => d.approver)).toEqual([ALICE]);
    expect(view.state).toBe('APPROVAL_PENDING');
    // Alice again, claiming to be Carol this time: still Alice, so not a second approver.
    const again = await decide(p.request.incidentId, h.tokenOf(ALICE), decisionBody(p.request, 'approve', CAROL));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'ALREADY_DECIDED' });

    const cancelled = await fetch(`${h.baseUrl}${HTTP_PATHS.remediations}/${p.request.incidentId}/cancel`, {
      method: 'POST',
      headers: bearer(h.tokenOf(BOB)),
      body: JSON.stringify({ reason: 'not now', actor: CAROL }),
    });
    expect(await cancelled.json()).toMatchObject({ accepted: true, actor: BOB });
    expect(await p.handle.result()).toMatchObject({ state: 'CANCELLED', outcome: `cancelled by ${BOB}: not now` });
  });

  it('four-eyes — the person who asked for the change cannot approve it (403 SELF_APPROVAL, kept), may reject it, and someone else approves', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('self'), TEN_MINUTES, { request: { requestedBy: CAROL } });
    const self = await decide(p.request.incidentId, h.tokenOf(CAROL), decisionBody(p.request, 'approve', CAROL));
    expect(self.status).toBe(403);
    expect(await self.json()).toMatchObject({ error: 'SELF_APPROVAL', message: expect.stringContaining('another approver must') as unknown });
    expect(await acceptedUpdates(p.handle)).toBe(0);
    expect((await h.refusals()).filter((r) => r.incidentId === p.request.incidentId).map((r) => [r.payload['code'], r.actor])).toEqual([['SELF_APPROVAL', `http:${CAROL}`]]);
    expect((await decide(p.request.incidentId, h.tokenOf(ALICE), decisionBody(p.request, 'approve', ALICE))).status).toBe(200);
    expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED', decisions: [{ approver: ALICE }] });

    const rejectOwn = await startPendingWorkflow(h.client, fixtureIncident('self-reject'), TEN_MINUTES, { request: { requestedBy: CAROL } });
    expect((await decide(rejectOwn.request.incidentId, h.tokenOf(CAROL), decisionBody(rejectOwn.request, 'reject', CAROL))).status).toBe(200);
    expect(await rejectOwn.handle.result()).toMatchObject({ state: 'REJECTED' });
  });

  it('critical — waits for a second, different approver: after one approval it stays APPROVAL_PENDING, the same person (HTTP, then the CLI) is refused, another person settles it', async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('two'), TEN_MINUTES, { request: { approvalsRequired: 2 } });
    expect(await (await decide(p.request.incidentId, h.tokenOf(ALICE), decisionBody(p.request, 'approve', ALICE))).json()).toMatchObject({ approvalsOutstanding: 1 });
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    expect((await decide(p.request.incidentId, h.tokenOf(ALICE), decisionBody(p.request, 'approve', ALICE))).status).toBe(409);
    const viaCli = await promisify(execFile)(process.execPath, [BIN, 'approve', p.request.incidentId, '--api-url', h.baseUrl], { env: { ...process.env, CORTEXOPS_APPROVER_TOKEN: h.tokenOf(ALICE) } }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(viaCli).toMatchObject({ code: 1, stderr: expect.stringContaining('ALREADY_DECIDED') as unknown });
    expect((await p.handle.query(remediationStateQuery)).state).toBe('APPROVAL_PENDING');
    expect((await decide(p.request.incidentId, h.tokenOf(BOB), decisionBody(p.request, 'approve', BOB))).status).toBe(200);
    expect(await p.handle.result()).toMatchObject({ state: 'RESOLVED', decisions: [{ approver: ALICE }, { approver: BOB }] });
  });

  it("tokens — the worker's token posts but cannot read or decide, a personal token cannot post; a revoked or expired token is refused (401)", async () => {
    const p = await startPendingWorkflow(h.client, fixtureIncident('scopes'), TEN_MINUTES);
    expect((await fetch(`${h.baseUrl}${HTTP_PATHS.approvalRequests}/${p.request.incidentId}`, { headers: bearer(SECRETS.apiToken) })).status).toBe(403);
    expect((await decide(p.request.incidentId, SECRETS.apiToken, decisionBody(p.request, 'approve', ALICE))).status).toBe(403);
    const posted = await fetch(`${h.baseUrl}${HTTP_PATHS.approvalRequests}`, { method: 'POST', headers: bearer(h.tokenOf(ALICE)), body: JSON.stringify(fixtureRequest(fixtureIncident('scopes-post'), TEN_MINUTES)) });
    expect(posted.status).toBe(403);
    expect(await posted.json()).toMatchObject({ error: 'APPROVER_NOT_ALLOWED', message: expect.stringContaining("Only the worker's token") as unknown });

    const dave = await h.tokens.issue({ name: 'dave@example.com', expiresAt: new Date(Date.now() + 3600_000), by: 'test-admin' });
    expect((await fetch(`${h.baseUrl}${HTTP_PATHS.approvalRequests}/${p.request.incidentId}`, { headers: bearer(dave.token) })).status).toBe(200);
    expect(await h.tokens.revoke('dave@example.com', 'test-admin')).toHaveLength(1);
    expect((await decide(p.request.incidentId, dave.token, decisionBody(p.request, 'approve', 'dave@example.com'))).status).toBe(401);

    const erin = await h.tokens.issue({ name: 'erin@example.com', expiresAt: new Date(Date.now() + 1000), by: 'test-admin' });
    await expect.poll(async () => (await fetch(`${h.baseUrl}${HTTP_PATHS.approvalRequests}/${p.request.incidentId}`, { headers: bearer(erin.token) })).status, { timeout: 5000 }).toBe(401);
    expect(await acceptedUpdates(p.handle)).toBe(0);
    await p.handle.terminate('test over');
  });

  it('tokens CLI — create prints the token once (its hash is stored), list never shows secrets, revoke by name; bad names and durations are refused; every change audited', async () => {
    const env = { ...process.env, CORTEXOPS_DATABASE_URL: h.databaseUrl };
    const run = (args: string[]) => promisify(execFile)(process.execPath, [BIN, 'tokens', ...args], { env }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    const created = await run(['create', '--name', 'frank@example.com', '--expires-in', '7', '--by', 'admin@example.com']);
    const token = created.stdout.trim();
    expect(token).toMatch(/^cxa_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('shown only now');
    const listed = await run(['list']);
    expect(listed.stdout).toContain('frank@example.com  active');
    expect(listed.stdout).not.toContain(token.slice(21));
    const p = await startPendingWorkflow(h.client, fixtureIncident('cli-token'), TEN_MINUTES);
    expect((await decide(p.request.incidentId, token, decisionBody(p.request, 'reject', 'frank@example.com'))).status).toBe(200);
    expect(await p.handle.result()).toMatchObject({ state: 'REJECTED', decisions: [{ approver: 'frank@example.com' }] });

    expect((await run(['revoke', 'frank@example.com', '--by', 'admin@example.com'])).stdout).toContain('revoked');
    expect((await run(['list'])).stdout).toContain('frank@example.com  revoked');
    expect(await run(['revoke', 'frank@example.com', '--by', 'admin@example.com'])).toMatchObject({ code: 1, stderr: expect.stringContaining('no active token') as unknown });
    for (const bad of [
      ['create', '--name', 'Frank Smith', '--by', 'admin'],
      ['create', '--name', 'U0ALICE', '--by', 'admin'],
      ['create', '--name', 'frank@example.com', '--expires-in', '0', '--by', 'admin'],
      ['create', '--name', 'frank@example.com', '--expires-in', '400', '--by', 'admin'],
      ['create', '--name', 'frank@example.com'],
    ]) {
      expect(await run(bad), bad.join(' ')).toMatchObject({ code: 2 });
    }
    const changes = (await h.audit.query({ kinds: ['approver.changed'], limit: 100 })).records.filter((r) => r.payload['approver'] === 'frank@example.com');
    expect(changes.map((r) => [r.payload['change'], r.actor])).toEqual([
      ['issued', 'admin@example.com'],
      ['revoked', 'admin@example.com'],
    ]);
    expect(JSON.stringify(changes)).not.toContain(token.slice(21));
  });

  it('Slack — a chunked 100 MB body is refused (413) without reading it into memory: heap and buffers grow by less than 32 MB', async () => {
    const outcome = await chunkedUpload(`${h.baseUrl}${HTTP_PATHS.slackEvents}`, {
      totalBytes: 100 * 1024 * 1024,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)), 'x-slack-signature': 'v0=00' },
    });
    console.log(`chunked 100 MB Slack body: answered ${outcome.status} after ${(outcome.sentBytes / 1024 / 1024).toFixed(1)} MB sent; heap+buffers grew at most ${(outcome.peakGrowthBytes / 1024 / 1024).toFixed(1)} MB`);
    expect(outcome).toMatchObject({ status: 413, connection: 'close' });
    expect(outcome.sentBytes).toBeLessThan(100 * 1024 * 1024);
    expect(outcome.peakGrowthBytes).toBeLessThan(32 * 1024 * 1024);
    await expect.poll(async () => (await h.refusals()).map((r) => r.payload['code']), { timeout: 10_000 }).toContain('SLACK_TOO_LARGE');
    expect((await fetch(`${h.baseUrl}${HTTP_PATHS.health}`)).status).toBe(200);
  });
});
