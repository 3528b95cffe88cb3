import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore, signCheckpoint } from '@cortexops/audit';
import type { AuditVerifyReport, IncidentDetail, IncidentList, IncidentReview } from '@cortexops/contracts';
import { freePort, natsEnv, sharedStack, spawnService } from '@cortexops/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalsForwarder } from '../../src/approvals-forward.js';
import { ApiError } from '../../src/errors.js';
import { type ApiUnderTest, cli, READ_TOKEN, request, startApiUnderTest } from './harness.js';
import { type SeededIncident, seedRemediation } from './seed.js';

type ErrorBody = { error: string; message: string; issues?: { field: string; problem: string }[] };

describe('api — incidents, reviews, audit and manual actions against the real audit store and approvals service', () => {
  let sut: ApiUnderTest;
  let store: AuditStore;
  let resolved: SeededIncident;
  let pending: SeededIncident;
  let other: SeededIncident;
  const base = () => sut.api.baseUrl;

  beforeAll(async () => {
    sut = await startApiUnderTest();
    store = await AuditStore.create({ databaseUrl: sut.db.url });
    resolved = await seedRemediation(store, { prefix: 'resolved', openedAt: '2026-11-20T10:00:00.000Z', diff: '-  memory: 256Mi\n+  memory: 384Mi | ```not a fence```' });
    pending = await seedRemediation(store, { prefix: 'pending', openedAt: '2026-11-21T10:00:00.000Z', stopAt: 'APPROVAL_PENDING' });
    other = await seedRemediation(store, { prefix: 'other', openedAt: '2026-11-22T10:00:00.000Z', namespace: 'payments', name: 'ledger' });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await sut?.stop();
  });

  describe('incident list', () => {
    it('lists every incident, most recently updated first, with the workflow state from the audit trail', async () => {
      const { status, body } = await request<IncidentList>(base(), '/v1/incidents');
      expect(status).toBe(200);
      // `updatedAt` orders them: the resolved one was last updated 31 s after it opened, a day before the pending one opened.
      expect(body.incidents.map((i) => i.id)).toEqual([other.incident.id, pending.incident.id, resolved.incident.id]);
      const byId = new Map(body.incidents.map((i) => [i.id, i]));
      expect(byId.get(resolved.incident.id)).toMatchObject({ status: 'resolved', state: 'RESOLVED', workflowId: `incident-${resolved.incident.id}` });
      expect(byId.get(pending.incident.id)).toMatchObject({ status: 'open', state: 'APPROVAL_PENDING' });
      expect(body.nextCursor).toBeUndefined();
    });

    it('filters by state, status, namespace, target, kind and time', async () => {
      const ids = async (query: string) => (await request<IncidentList>(base(), `/v1/incidents?${query}`)).body.incidents.map((i) => i.id);
      expect(await ids('state=APPROVAL_PENDING')).toEqual([pending.incident.id]);
      expect(await ids('status=resolved')).toEqual([other.incident.id, resolved.incident.id]);
      expect(await ids('namespace=payments')).toEqual([other.incident.id]);
      expect(await ids('target=checkout&namespace=demo')).toEqual([pending.incident.id, resolved.incident.id]);
      expect(await ids('kind=StatefulSet')).toEqual([]);
      expect(await ids('from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z')).toEqual([pending.incident.id]);
      expect(await ids('from=2026-11-21T10:00:00.000Z')).toEqual([other.incident.id, pending.incident.id]);
      expect(await ids('state=RESOLVED&namespace=payments&status=resolved')).toEqual([other.incident.id]);
    });

    it('pages with a cursor: every incident once, in order', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const { status, body } = await request<IncidentList>(base(), `/v1/incidents?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(status).toBe(200);
        seen.push(...body.incidents.map((i) => i.id));
        cursor = body.nextCursor;
        if (!cursor) break;
      }
      expect(seen).toEqual([other.incident.id, pending.incident.id, resolved.incident.id]);
    });

    it.each([
      ['state=WAITING', 'querystring.state'],
      ['status=closed', 'querystring.status'],
      ['limit=0', 'querystring.limit'],
      ['limit=1001', 'querystring.limit'],
      ['limit=ten', 'querystring.limit'],
      ['from=yesterday', 'querystring.from'],
      ['from=2026-11-22T00:00:00Z&to=2026-11-21T00:00:00Z', 'querystring.to'],
      ['namespace=Not_A_Namespace', 'querystring.namespace'],
      ['kind=Deploymentz', 'querystring.kind'],
      ['colour=red', 'querystring'],
      ['cursor=%25%25%25', 'querystring.cursor'],
      ['cursor=bm90LWEtY3Vyc29y', 'querystring.cursor'],
    ])('refuses a malformed filter %s with 400 naming the field', async (query, field) => {
      const { status, body } = await request<ErrorBody>(base(), `/v1/incidents?${query}`);
      expect(status).toBe(400);
      expect(body.error).toBe('INVALID_INPUT');
      expect(body.issues?.map((i) => i.field).some((f) => f.startsWith(field))).toBe(true);
    });
  });

  describe('credentials of the read routes', () => {
    it.each([
      ['no Authorization header', null],
      ['a wrong token', 'not-the-token-0123456789abcdef0123456789'],
      ['an empty bearer', ''],
    ])('answers 401 with %s, on every read route', async (_what, token) => {
      for (const path of ['/v1/incidents', `/v1/incidents/${resolved.incident.id}`, `/v1/incidents/${resolved.incident.id}/review`, `/v1/incidents/${resolved.incident.id}/review.md`, '/v1/audit', '/v1/audit/verify']) {
        const { status, body } = await request<ErrorBody>(base(), path, { token });
        expect(status, path).toBe(401);
        expect(body.error).toBe('UNAUTHENTICATED');
        expect(JSON.stringify(body)).not.toContain(READ_TOKEN);
      }
    });
  });

  describe('one incident', () => {
    it('shows its signals, diagnosis, plan, dry-run diff, policy, approvals, receipt, verification samples and outcome', async () => {
      const { status, body } = await request<IncidentDetail>(base(), `/v1/incidents/${resolved.incident.id}`);
      expect(status).toBe(200);
      expect(body.signals.ids).toEqual(['sig-a', 'sig-b']);
      expect(body.diagnosis?.pods[0]?.lastTerminationReason).toBe('OOMKilled');
      expect(body.diagnosis?.similar?.map((s) => [s.score, s.incident.incidentId, s.incident.action?.type, s.incident.outcome])).toEqual([[0.91666, `${resolved.incident.id}-past`, 'raise-memory-limit', 'resolved']]);
      expect(body.plan?.actions[0]).toMatchObject({ type: 'raise-memory-limit', memory: '384Mi' });
      expect(body.dryRun?.actions[0]?.diff).toContain('+  memory: 384Mi');
      expect(body.policy).toMatchObject({ allow: true, requireApproval: true, mode: 'approve' });
      expect(body.approvals.requests).toHaveLength(1);
      expect(body.approvals.decisions).toEqual([expect.objectContaining({ decision: 'approve', approver: 'alice@example.com', channel: 'cli', voided: false })]);
      expect(body.receipts).toEqual([expect.objectContaining({ remediationId: `rem-${resolved.incident.id}`, priorSpec: { memory: '256Mi' } })]);
      expect(body.verification.measurements.map((m) => m.measurement.round)).toEqual([1, 2]);
      expect(body.verification.completed).toEqual([expect.objectContaining({ verdict: 'success', compensation: false })]);
      expect(body.outcome).toMatchObject({ state: 'RESOLVED', detail: 'verified: 2 of 2 rounds succeeded' });
      expect(body.states.map((s) => s.state)).toEqual(['DIAGNOSING', 'PLANNING', 'DRY_RUNNING', 'POLICY_CHECK', 'APPROVAL_PENDING', 'APPLYING', 'VERIFYING', 'RESOLVED']);
      expect(body.auditEvents).toBe(resolved.events);
      expect(body.unreadable).toEqual([]);
    });

    it('answers a remediation still waiting with no outcome', async () => {
      const { body } = await request<IncidentDetail>(base(), `/v1/incidents/${pending.incident.id}`);
      expect(body.state).toBe('APPROVAL_PENDING');
      expect(body.outcome).toBeNull();
      expect(body.receipts).toEqual([]);
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      for (const path of ['', '/review', '/review.md']) {
        const unknown = await request<ErrorBody>(base(), `/v1/incidents/no-such-incident${path}`);
        expect(unknown.status).toBe(404);
        expect(unknown.body.error).toBe('INCIDENT_NOT_FOUND');
        const malformed = await request<ErrorBody>(base(), `/v1/incidents/Not_An_Id!${path}`);
        expect(malformed.status).toBe(400);
        expect(malformed.body.issues?.[0]?.field).toBe('params.incidentId');
      }
    });
  });

  describe('incident review', () => {
    it('draws a timeline from every audit record of the incident: time, actor, step, evidence, hash', async () => {
      const { status, body } = await request<IncidentReview>(base(), `/v1/incidents/${resolved.incident.id}/review`);
      expect(status).toBe(200);
      expect(body.timeline).toHaveLength(resolved.events);
      const sequences = body.timeline.map((e) => e.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      const decided = body.timeline.find((e) => e.kind === 'approval.decided');
      expect(decided).toMatchObject({ actor: 'alice@example.com', step: 'approved by alice@example.com' });
      expect(decided?.evidence).toContain('looks right');
      expect(body.timeline.find((e) => e.kind === 'diagnosis.completed')?.evidence).toContain('OOMKilled');
      expect(body.timeline.find((e) => e.kind === 'diagnosis.completed')?.evidence).toContain(`similar past incidents: ${resolved.incident.id}-past (score 0.92, raise-memory-limit, resolved)`);
      expect(body.timeline.find((e) => e.kind === 'policy.decision')?.actor).toBe('policy');
      for (const entry of body.timeline) expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(body.outcome).toContain('RESOLVED');
      expect(body.durationMs).toBe(31_000);
    });

    it('renders Markdown for a postmortem: header, timeline table, plan, diff and verification', async () => {
      const { status, text, contentType } = await request(base(), `/v1/incidents/${resolved.incident.id}/review.md`);
      expect(status).toBe(200);
      expect(contentType).toContain('text/markdown');
      expect(text).toContain(`| Incident | ${resolved.incident.id} |`);
      expect(text).toContain('| Target | Deployment demo/checkout |');
      expect(text).toContain('| Duration | 31.0 s |');
      const timeline = text.slice(text.indexOf('## Timeline'), text.indexOf('## Plan'));
      expect(timeline).toContain('| Time (UTC) | Actor | Step | Evidence |');
      // One row per audit record; a pipe inside the rationale is escaped and does not split a cell.
      expect(timeline.split('\n').filter((l) => l.startsWith('| 2026-'))).toHaveLength(resolved.events);
      expect(timeline).toContain('OOMKilled 3 times \\| raise');
      expect(text).toMatch(/## Plan[\s\S]*raise-memory-limit Deployment demo\/checkout → 384Mi/);
      // The diff holds a run of three backticks: its fence is longer, so the diff cannot close it.
      expect(text).toContain('````diff\n-  memory: 256Mi\n+  memory: 384Mi | ```not a fence```\n````');
      expect(text).toMatch(/## Verification\n\n\| Time \(UTC\) \| Phase \| Round \| Outcome \| Checks \|/);
      expect(text).toContain('| verification | 2 | success | rollout=1 success |');
    });
  });

  describe('audit queries and verify', () => {
    it('queries the audit trail by incident and kinds, by pages', async () => {
      const first = await request<{ records: { kind: string; sequence: number }[]; nextAfterSequence?: number }>(
        base(),
        `/v1/audit?incidentId=${resolved.incident.id}&kinds=verification.measured,action.applied&limit=2`,
      );
      expect(first.status).toBe(200);
      expect(first.body.records.map((r) => r.kind)).toEqual(['action.applied', 'verification.measured']);
      expect(first.body.nextAfterSequence).toBeDefined();
      const second = await request<{ records: { kind: string }[]; nextAfterSequence?: number }>(
        base(),
        `/v1/audit?incidentId=${resolved.incident.id}&kinds=verification.measured,action.applied&limit=2&afterSequence=${first.body.nextAfterSequence}`,
      );
      expect(second.body.records.map((r) => r.kind)).toEqual(['verification.measured']);
      expect(second.body.nextAfterSequence).toBeUndefined();
      const byActor = await request<{ records: { actor: string; incidentId: string }[] }>(base(), '/v1/audit?actor=alice%40example.com');
      expect(byActor.body.records.map((r) => r.incidentId)).toEqual([resolved.incident.id, other.incident.id]);
    });

    it.each([
      ['kinds=workflow.exploded', 'querystring.kinds'],
      ['kinds=', 'querystring.kinds'],
      ['afterSequence=-1', 'querystring.afterSequence'],
      ['limit=5000', 'querystring.limit'],
      ['incidentId=UPPER', 'querystring.incidentId'],
      ['from=2026-11-22T00:00:00Z&to=2026-11-21T00:00:00Z', 'querystring.to'],
    ])('refuses a malformed audit query %s with 400', async (query, field) => {
      const { status, body } = await request<ErrorBody>(base(), `/v1/audit?${query}`);
      expect(status).toBe(400);
      expect(body.issues?.some((i) => i.field.startsWith(field))).toBe(true);
    });
  });

  describe('aggregated /debug/healthz', () => {
    it('reports every configured service and server: the approvals service and the API server (TLS) up, a dead one down with its reason, the api still 200', async () => {
      const health = await sut.api.waitForHealth(
        (status, body) => status === 200 && body.dependencies.approvals?.status === 'up' && body.dependencies['kube-apiserver']?.status === 'up' && body.dependencies.gone?.status === 'down',
      );
      expect(Object.keys(health.dependencies).sort()).toEqual(['approvals', 'gone', 'kube-apiserver', 'nats', 'postgres', 'temporal']);
      expect(health.dependencies.gone?.lastError).toMatch(/ECONNREFUSED/);
    });
  });

  describe('OpenAPI document', () => {
    it('is generated from the route schemas: every route, its parameters and the bearer scheme', async () => {
      const { status, body } = await request<{ openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; security?: unknown }>>; components: { securitySchemes: Record<string, unknown> } }>(
        base(),
        '/openapi.json',
        { token: null },
      );
      expect(status).toBe(200);
      expect(body.openapi).toMatch(/^3\./);
      expect(Object.keys(body.paths).sort()).toEqual([
        '/v1/audit',
        '/v1/audit/verify',
        '/v1/incidents',
        '/v1/incidents/{incidentId}',
        '/v1/incidents/{incidentId}/approve',
        '/v1/incidents/{incidentId}/cancel',
        '/v1/incidents/{incidentId}/reject',
        '/v1/incidents/{incidentId}/request',
        '/v1/incidents/{incidentId}/review',
        '/v1/incidents/{incidentId}/review.md',
      ]);
      const listParams = body.paths['/v1/incidents']?.get?.parameters?.map((p) => p.name) ?? [];
      expect(listParams).toEqual(expect.arrayContaining(['status', 'state', 'namespace', 'target', 'kind', 'from', 'to', 'limit', 'cursor']));
      expect(body.paths['/v1/incidents']?.get?.security).toEqual([{ bearer: [] }]);
      expect(body.components.securitySchemes).toHaveProperty('bearer');
    });
  });

  describe('manual actions go through the approvals service with the caller’s own credential', () => {
    it.each(['approve', 'reject', 'cancel'])('%s: no credential and a wrong credential are refused by the approvals service (401), as it records', async (action) => {
      const body = action === 'cancel' ? { reason: 'handled by hand' } : {};
      const missing = await request<ErrorBody>(base(), `/v1/incidents/${pending.incident.id}/${action}`, { method: 'POST', token: null, body });
      expect(missing.status).toBe(401);
      expect(missing.body.error).toBe('UNAUTHENTICATED');
      const wrong = await request<ErrorBody>(base(), `/v1/incidents/${pending.incident.id}/${action}`, { method: 'POST', token: 'cxa_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', body });
      expect(wrong.status).toBe(401);
      // The read token is not a decision credential either.
      const readToken = await request<ErrorBody>(base(), `/v1/incidents/${pending.incident.id}/${action}`, { method: 'POST', body });
      expect(readToken.status).toBe(401);
    });

    it.each(['approve', 'reject', 'cancel'])('%s with a valid personal token reaches the approvals service, whose answer comes back as it is (no workflow: 404)', async (action) => {
      const token = await sut.issueToken(`bob-${action}@example.com`);
      const body = action === 'cancel' ? { reason: 'handled by hand' } : { comment: 'ok' };
      const { status, body: answer } = await request<ErrorBody>(base(), `/v1/incidents/${pending.incident.id}/${action}`, { method: 'POST', token, body });
      expect(status).toBe(404);
      expect(answer.error).toBe('INCIDENT_NOT_FOUND');
      const viaCli = await cli([action, pending.incident.id, '--api-url', base(), '--output', 'json', ...(action === 'cancel' ? ['--reason', 'by hand'] : [])], { CORTEXOPS_APPROVER_TOKEN: token });
      expect(viaCli.code).toBe(1);
      expect(JSON.parse(viaCli.out)).toMatchObject({ error: 'INCIDENT_NOT_FOUND', status: 404 });
    });

    it('approve through the api with a personal token: the waiting workflow takes the decision as that person and resolves', async () => {
      const planHash = 'e'.repeat(64);
      const waiting = await sut.startWaiting(pending.incident.id, planHash);
      const token = await sut.issueToken('dana@example.com');
      // A pinned plan other than the one waiting is refused by the api before anything is sent.
      const mismatch = await request<ErrorBody>(base(), `/v1/incidents/${pending.incident.id}/approve`, { method: 'POST', token, body: { planHash: 'f'.repeat(12) } });
      expect(mismatch.status).toBe(409);
      expect(mismatch.body.error).toBe('PLAN_MISMATCH');
      const approved = await cli(['approve', pending.incident.id, '--api-url', base(), '--plan-hash', planHash.slice(0, 12), '--comment', 'reviewed', '--output', 'json'], { CORTEXOPS_APPROVER_TOKEN: token });
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.out)).toMatchObject({ accepted: true, decision: 'approve' });
      expect(await waiting.result()).toBe('RESOLVED');
      // Decided: a second decision is refused by the workflow through the same path (the workflow has ended).
      const again = await request<ErrorBody>(base(), `/v1/incidents/${pending.incident.id}/reject`, { method: 'POST', token, body: {} });
      expect(again.status).toBeGreaterThanOrEqual(400);
    });

    it('the approvals service kept each refused attempt in the audit trail', async () => {
      const client = new pg.Client({ connectionString: sut.db.url });
      await client.connect();
      try {
        const rows = await client.query<{ n: string }>("SELECT count(*)::text AS n FROM audit_events WHERE kind = 'approval.refused' AND incident_id = $1", [pending.incident.id]);
        expect(Number(rows.rows[0]?.n)).toBeGreaterThanOrEqual(3);
      } finally {
        await client.end();
      }
    });

    it.each([
      ['approve', { planHash: 'XYZ' }, 'body.planHash'],
      ['approve', { approver: 'mallory' }, 'body'],
      ['reject', { comment: 'x'.repeat(2001) }, 'body.comment'],
      ['cancel', {}, 'body.reason'],
      ['cancel', { reason: '' }, 'body.reason'],
      ['cancel', { reason: 'ok', actor: 'mallory' }, 'body'],
    ])('%s refuses a bad body %j with 400 before anything is forwarded', async (action, body, field) => {
      const { status, body: answer } = await request<ErrorBody>(base(), `/v1/incidents/${pending.incident.id}/${action}`, { method: 'POST', body, token: 'cxa_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
      expect(status).toBe(400);
      expect(answer.issues?.some((i) => i.field.startsWith(field))).toBe(true);
    });

    it('refuses malformed JSON and a malformed incident id with 400', async () => {
      const json = await request<ErrorBody>(base(), `/v1/incidents/${pending.incident.id}/approve`, { method: 'POST', rawBody: '{"comment":' });
      expect(json.status).toBe(400);
      const id = await request<ErrorBody>(base(), '/v1/incidents/BAD!/approve', { method: 'POST', body: {} });
      expect(id.status).toBe(400);
    });

    it('answers 502 naming the approvals service when it cannot be reached', async () => {
      const forwarder = new ApprovalsForwarder(`http://127.0.0.1:${await freePort()}`);
      const failure = await forwarder.cancel(pending.incident.id, 'Bearer x', { reason: 'r', channel: 'http' }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ApiError);
      expect((failure as ApiError).code).toBe('UPSTREAM_FAILED');
    });
  });

  describe('CLI', () => {
    const env = () => ({ CORTEXOPS_API_TOKEN: READ_TOKEN });
    const url = () => ['--api-url', base()];

    it('incidents: a table by default, JSON with --output json, filters passed through', async () => {
      const text = await cli(['incidents', ...url(), '--state', 'APPROVAL_PENDING'], env());
      expect(text.code).toBe(0);
      expect(text.out.split('\n')[0]).toMatch(/^ID\s+STATE\s+STATUS\s+SEVERITY\s+TARGET\s+UPDATED$/);
      expect(text.out).toContain(pending.incident.id);
      expect(text.out).not.toContain(resolved.incident.id);
      const json = await cli(['incidents', ...url(), '--output', 'json', '--namespace', 'payments'], env());
      expect(json.code).toBe(0);
      expect((JSON.parse(json.out) as IncidentList).incidents.map((i) => i.id)).toEqual([other.incident.id]);
    });

    it('incident and review: text and JSON; review prints the Markdown', async () => {
      const detail = await cli(['incident', resolved.incident.id, ...url()], env());
      expect(detail.code).toBe(0);
      expect(detail.out).toContain('outcome    RESOLVED');
      expect(detail.out).toContain('decision   approve by alice@example.com');
      expect(detail.out).toContain(`similar    ${resolved.incident.id}-past (score 0.92, raise-memory-limit, resolved)`);
      const review = await cli(['review', resolved.incident.id, ...url()], env());
      expect(review.code).toBe(0);
      expect(review.out).toContain('## Timeline');
      const json = await cli(['review', resolved.incident.id, ...url(), '--output', 'json'], env());
      expect((JSON.parse(json.out) as IncidentReview).timeline).toHaveLength(resolved.events);
    });

    it('exit codes: 1 for an unknown incident and a wrong token, 2 for bad arguments or no token, 3 when the api cannot be reached', async () => {
      const unknown = await cli(['incident', 'no-such-incident', ...url(), '--output', 'json'], env());
      expect(unknown.code).toBe(1);
      expect(JSON.parse(unknown.out)).toMatchObject({ error: 'INCIDENT_NOT_FOUND', status: 404 });
      expect((await cli(['incidents', ...url()], { CORTEXOPS_API_TOKEN: 'wrong-token-0123456789abcdef0123456789' })).code).toBe(1);
      expect((await cli(['incidents', ...url(), '--limit', '0'], env())).code).toBe(2);
      expect((await cli(['incidents', ...url(), '--state', 'WAITING'], env())).code).toBe(2);
      expect((await cli(['incidents', ...url(), '--from', 'yesterday'], env())).code).toBe(2);
      expect((await cli(['incident', 'Bad_Id!', ...url()], env())).code).toBe(2);
      expect((await cli(['incidents', ...url()], {})).code).toBe(2);
      expect((await cli(['approve', pending.incident.id, ...url()], env())).code).toBe(2);
      expect((await cli(['cancel', pending.incident.id, ...url(), '--token', 'x'], env())).code).toBe(2);
      expect((await cli(['frobnicate'], env())).code).toBe(2);
      expect((await cli(['incidents', '--api-url', `http://127.0.0.1:${await freePort()}`], env())).code).toBe(3);
    });

    it('approve with a wrong credential: refused by the approvals service, exit 1', async () => {
      const result = await cli(['approve', pending.incident.id, ...url(), '--token', 'cxa_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '--output', 'json'], env());
      expect(result.code).toBe(1);
      expect(JSON.parse(result.out)).toMatchObject({ error: 'UNAUTHENTICATED', status: 401 });
    });

    it('--help prints every command and exits 0', async () => {
      const help = await cli(['--help'], env());
      expect(help.code).toBe(0);
      for (const command of ['incidents', 'incident', 'review', 'verify', 'approve', 'reject', 'cancel']) expect(help.out).toContain(command);
    });
  });

  // Last: it breaks the chain of this test's own database on purpose.
  describe('verify', () => {
    it('with a signed checkpoint: checks the chain against it, and says when the checkpoint cannot be trusted or does not match', async () => {
      const key = `checkpoint-key-${'k'.repeat(32)}`;
      const dir = mkdtempSync(join(tmpdir(), 'api-checkpoint-'));
      const file = join(dir, 'checkpoint.json');
      const head = (await request<AuditVerifyReport>(base(), '/v1/audit/verify')).body;
      if (!head.ok) throw new Error('the chain should be intact here');
      writeFileSync(file, JSON.stringify(signCheckpoint({ sequence: head.headSequence, hash: head.headHash }, { current: key })));
      const api = await spawnService('api', {
        ...natsEnv(sharedStack().ctx, 'api'),
        CORTEXOPS_DATABASE_URL: sut.db.url,
        CORTEXOPS_API_TOKEN: READ_TOKEN,
        CORTEXOPS_API_HEALTH_TARGETS: 'none',
        CORTEXOPS_AUDIT_CHECKPOINT_FILE: file,
        CORTEXOPS_AUDIT_CHECKPOINT_KEY: key,
      });
      try {
        await api.waitForHealth((status) => status === 200);
        const checked = await request<AuditVerifyReport>(api.baseUrl, '/v1/audit/verify');
        expect(checked.body).toMatchObject({ ok: true, checkpointSequence: head.headSequence });
        // Signed with another key: not trusted.
        writeFileSync(file, JSON.stringify(signCheckpoint({ sequence: head.headSequence, hash: head.headHash }, { current: `another-key-${'z'.repeat(32)}` })));
        expect((await request<AuditVerifyReport>(api.baseUrl, '/v1/audit/verify')).body).toMatchObject({ ok: false, reason: 'checkpoint-invalid' });
        // Correctly signed, but the row it names has another hash: the chain up to it was rewritten.
        writeFileSync(file, JSON.stringify(signCheckpoint({ sequence: head.headSequence, hash: 'f'.repeat(64) }, { current: key })));
        expect((await request<AuditVerifyReport>(api.baseUrl, '/v1/audit/verify')).body).toMatchObject({ ok: false, reason: 'checkpoint-mismatch' });
      } finally {
        await api.terminate();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('walks the intact chain, then names the first changed row; the CLI exits 0, then 1', async () => {
      const client = new pg.Client({ connectionString: sut.db.url });
      await client.connect();
      try {
        // The seeded trails and the refusals the approvals service recorded above.
        const { rows } = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_events');
        const intact = await request<AuditVerifyReport>(base(), '/v1/audit/verify');
        expect(intact.status).toBe(200);
        expect(intact.body).toMatchObject({ ok: true, rows: Number(rows[0]?.n) });
        expect((await cli(['verify', '--api-url', base()], { CORTEXOPS_API_TOKEN: READ_TOKEN })).code).toBe(0);

        // Someone with the owner's rights rewrites a row (the append-only trigger switched off for it).
        await client.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete');
        await client.query(`UPDATE audit_events SET actor = 'mallory' WHERE kind = 'approval.decided'`);
        await client.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete');
      } finally {
        await client.end();
      }
      const broken = await request<AuditVerifyReport>(base(), '/v1/audit/verify');
      expect(broken.body).toMatchObject({ ok: false, reason: 'hash-mismatch' });
      const result = await cli(['verify', '--api-url', base()], { CORTEXOPS_API_TOKEN: READ_TOKEN });
      expect(result.code).toBe(1);
      expect(result.out).toContain('audit chain BROKEN');
    });
  });
});
