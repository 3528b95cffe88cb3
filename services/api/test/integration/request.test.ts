import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiUnderTest, cli, request, startApiUnderTest } from './harness.js';

/** A person's request for a new run of a remediation, forwarded with the caller's own token to the approvals service. */
describe('api — requesting a remediation (forwarded to the approvals service)', () => {
  let sut: ApiUnderTest;
  let token: string;
  const base = () => sut.api.baseUrl;
  const path = (id: string) => `/v1/incidents/${id}/request`;

  beforeAll(async () => {
    sut = await startApiUnderTest();
    token = await sut.issueToken('requester@example.com');
  }, 120_000);

  afterAll(async () => {
    await sut?.stop();
  });

  it("forwards the caller's token and passes the approvals service's answer back; the requester can never be named in the body", async () => {
    // No incident recorded under this id: the approvals service says so (404), through the api.
    const unknown = await request<{ error: string }>(base(), path('inc-never-recorded'), { method: 'POST', token, body: { reason: 'still failing' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('INCIDENT_NOT_FOUND');
    for (const bad of [{ reason: 'again', requestedBy: 'someone-else@example.com' }, { reason: '' }, {}, { reason: 'again', channel: 'slack' }]) {
      const answer = await request<{ error: string }>(base(), path('inc-never-recorded'), { method: 'POST', token, body: bad });
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(answer.body.error).toBe('INVALID_INPUT');
    }
    expect((await request(base(), path('inc-never-recorded'), { method: 'POST', token: null, body: { reason: 'again' } })).status).toBe(401);
    expect((await request(base(), path('Not An Id'), { method: 'POST', token, body: { reason: 'again' } })).status).toBe(400);
  });

  it('cortexops request: the refusal is exit 1, a missing reason is usage (2)', async () => {
    const refused = await cli(['request', 'inc-never-recorded', '--api-url', base(), '--token', token, '--reason', 'still failing']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('INCIDENT_NOT_FOUND');
    expect((await cli(['request', 'inc-never-recorded', '--api-url', base(), '--token', token])).code).toBe(2);
  });
});
