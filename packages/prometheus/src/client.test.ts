import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyValue, PrometheusClient } from './client.js';
import type { PrometheusClientOptions } from './options.js';
import { InvalidPrometheusOptionError } from './errors.js';
import { tempFiles } from '../test/temp-files.js';

type Reply = { status: number; body: unknown } | Error;

/** A fetch that answers from a script and records each request. */
function scripted(replies: Reply[]) {
  const requests: { url: string; method: string; headers: Record<string, string>; body: URLSearchParams }[] = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    requests.push({
      url: url instanceof Request ? url.url : url.toString(),
      method: init?.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: new URLSearchParams(init?.body as URLSearchParams),
    });
    const reply = replies[Math.min(requests.length - 1, replies.length - 1)]!;
    if (reply instanceof Error) throw reply;
    return new Response(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body), { status: reply.status });
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

function client(replies: Reply[], options: Partial<PrometheusClientOptions> = {}) {
  const s = scripted(replies);
  const c = PrometheusClient.create({ baseUrl: 'http://prom.test:9090/', timeoutMs: 1000, retries: 2, minBackoffMs: 0, maxBackoffMs: 0, fetch: s.fetch, ...options });
  return { c, requests: s.requests };
}

const vector = (...values: string[]) => ({
  status: 'success',
  data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1700000000.5, v] })) },
});
const scalar = (v: string) => ({ status: 'success', data: { resultType: 'scalar', result: [1700000000.5, v] } });

describe('PrometheusClient — classification', () => {
  it.each([
    ['one series with a value', vector('0.75'), { kind: 'value', value: 0.75 }],
    ['a scalar', scalar('3'), { kind: 'value', value: 3 }],
    ['an empty vector', vector(), { kind: 'empty' }],
    ['NaN', vector('NaN'), { kind: 'not-a-number', raw: 'NaN' }],
    ['+Inf', scalar('+Inf'), { kind: 'not-a-number', raw: '+Inf' }],
    ['-Inf', vector('-Inf'), { kind: 'not-a-number', raw: '-Inf' }],
    ['several series', vector('1', '1', '0'), { kind: 'multiple', count: 3 }],
  ])('%s', async (_, body, expected) => {
    expect(await client([{ status: 200, body }]).c.instant('q')).toEqual(expected);
  });

  it('a range vector is an error, not retried', async () => {
    const { c, requests } = client([{ status: 200, body: { status: 'success', data: { resultType: 'matrix', result: [] } } }]);
    expect(await c.instant('up[5m]')).toEqual({ kind: 'error', message: expect.stringMatching(/gives a matrix/) as string, attempts: 1, reason: 'answer' });
    expect(requests).toHaveLength(1);
  });

  it('classifyValue reads decimals and exponent forms, refuses what is not finite', () => {
    expect(classifyValue('1e-3')).toEqual({ kind: 'value', value: 0.001 });
    expect(classifyValue('-0')).toEqual({ kind: 'value', value: -0 });
    expect(classifyValue('')).toEqual({ kind: 'not-a-number', raw: '' });
    expect(classifyValue('Infinity')).toEqual({ kind: 'not-a-number', raw: 'Infinity' });
  });
});

describe('PrometheusClient — requests', () => {
  it('POSTs the query, its evaluation time and a server-side timeout to /api/v1/query', async () => {
    const { c, requests } = client([{ status: 200, body: vector('1') }]);
    await c.instant('up{job="a"}', new Date('2026-01-01T00:00:00.250Z'));
    expect(requests[0]!.url).toBe('http://prom.test:9090/api/v1/query');
    expect(Object.fromEntries(requests[0]!.body)).toEqual({ query: 'up{job="a"}', time: '1767225600.250', timeout: '1000ms' });
  });
});

describe('PrometheusClient — retries', () => {
  it('retries 5xx and a network error, then answers', async () => {
    const { c, requests } = client([{ status: 503, body: 'busy' }, new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }), { status: 200, body: vector('1') }]);
    expect(await c.instant('q')).toEqual({ kind: 'value', value: 1 });
    expect(requests).toHaveLength(3);
  });

  it('gives up after retries + 1 attempts with the last reason', async () => {
    const { c, requests } = client([new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })], { retries: 3 });
    expect(await c.instant('q')).toEqual({ kind: 'error', message: 'cannot reach http://prom.test:9090/: ECONNREFUSED', attempts: 4, reason: 'network' });
    expect(requests).toHaveLength(4);
  });

  it('a timeout is retried', async () => {
    const { c, requests } = client([new DOMException('timed out', 'TimeoutError')], { retries: 1 });
    expect(await c.instant('q')).toEqual({ kind: 'error', message: 'no answer from http://prom.test:9090/ within 1000 ms', attempts: 2, reason: 'timeout' });
    expect(requests).toHaveLength(2);
  });

  it('a Prometheus timeout (503 errorType timeout) is retried', async () => {
    const { c, requests } = client([{ status: 503, body: { status: 'error', errorType: 'timeout', error: 'query timed out' } }, { status: 200, body: vector('2') }]);
    expect(await c.instant('q')).toEqual({ kind: 'value', value: 2 });
    expect(requests).toHaveLength(2);
  });

  it.each([
    ['a syntax error (400 bad_data)', { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error' } }, 'bad_data: parse error'],
    ['an execution error (422)', { status: 422, body: { status: 'error', errorType: 'execution', error: 'many-to-many' } }, 'execution: many-to-many'],
    ['a 200 that is not the API envelope', { status: 200, body: { hello: 'world' } }, /not a Prometheus API answer/],
    ['a 404 HTML page', { status: 404, body: '<html>not found</html>' }, /^HTTP 404 from http:\/\/prom\.test:9090\/: <html>not found<\/html>$/],
    ['a 200 that is not JSON', { status: 200, body: 'hello' }, /^HTTP 200 from .*: not JSON \(hello\)$/],
  ] as [string, Reply, string | RegExp][])('%s is not retried', async (_, reply, message) => {
    const { c, requests } = client([reply]);
    const sample = await c.instant('q');
    expect(sample).toMatchObject({ kind: 'error', attempts: 1 });
    expect(sample.kind === 'error' && sample.message).toMatch(message);
    expect(requests).toHaveLength(1);
  });

  it('logs each retry and the final failure', async () => {
    const lines: { level: string; obj: object; msg: string }[] = [];
    const logger = { warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj, msg }) } as unknown as PrometheusClientOptions['logger'];
    const { c } = client([{ status: 500, body: 'boom' }], { retries: 1, logger });
    await c.instant('q');
    expect(lines.map((l) => l.msg)).toEqual(['prometheus query failed; retrying', 'prometheus query failed']);
  });
});

describe('PrometheusClient.create — options', () => {
  const base = { baseUrl: 'http://127.0.0.1:9090', timeoutMs: 1000, retries: 2 };
  it.each([
    [{ baseUrl: '' }, 'baseUrl'],
    [{ baseUrl: 'ftp://x' }, 'baseUrl'],
    [{ baseUrl: 'not a url' }, 'baseUrl'],
    [{ baseUrl: 'http://x/?a=1' }, 'baseUrl'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: 1.5 }, 'timeoutMs'],
    [{ retries: -1 }, 'retries'],
    [{ retries: 11 }, 'retries'],
    [{ minBackoffMs: 500, maxBackoffMs: 100 }, 'maxBackoffMs'],
  ] as [Partial<PrometheusClientOptions>, string][])('%o is refused, naming %s', (bad, option) => {
    let error: unknown;
    try {
      PrometheusClient.create({ ...base, ...bad });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidPrometheusOptionError);
    expect(error).toMatchObject({ code: 'PROMETHEUS_INVALID_OPTION', option });
  });

  it('accepts a base URL with a route prefix', async () => {
    const s = scripted([{ status: 200, body: vector('1') }]);
    await PrometheusClient.create({ ...base, baseUrl: 'https://prom.example/prometheus/', fetch: s.fetch }).instant('q');
    expect(s.requests[0]!.url).toBe('https://prom.example/prometheus/api/v1/query');
  });
});

describe('PrometheusClient — tenant and credentials on every request', () => {
  const { file, remove } = tempFiles('prometheus-client');
  afterAll(remove);

  it('sends X-Scope-OrgID and no Authorization without credentials', async () => {
    const { c, requests } = client([{ status: 200, body: vector('1') }], { tenant: 'team-a|team-b' });
    await c.instant('up');
    expect(requests[0]!.headers).toMatchObject({ 'x-scope-orgid': 'team-a|team-b' });
    expect(requests[0]!.headers.authorization).toBeUndefined();
  });

  it('sends the bearer token of the file, and the new one once the file is rotated (no restart)', async () => {
    const token = file('token', 'first-token-0123456789\n');
    const { c, requests } = client([{ status: 200, body: vector('1') }], { bearerTokenFile: token });
    await c.instant('up');
    writeFileSync(token, 'second-token-0123456789-longer\n');
    await c.instant('up');
    expect(requests.map((r) => r.headers.authorization)).toEqual(['Bearer first-token-0123456789', 'Bearer second-token-0123456789-longer']);
  });

  it('sends basic auth from the user and the password file', async () => {
    const { c, requests } = client([{ status: 200, body: vector('1') }], { username: 'cortexops', passwordFile: file('password', 'pa:ss wörd\n') });
    await c.instant('up');
    expect(requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('cortexops:pa:ss wörd').toString('base64')}`);
  });

  it('401 is an auth error at once — not retried — naming how it authenticated, never the secret (even when the body echoes it)', async () => {
    const secret = 'echoed-secret-token-0123456789';
    const { c, requests } = client([{ status: 401, body: `invalid token ${secret}\n` }], { bearerTokenFile: file('echoed', secret), retries: 3 });
    const sample = await c.instant('up');
    expect(sample).toMatchObject({ kind: 'error', attempts: 1, reason: 'auth' });
    expect(requests).toHaveLength(1);
    const message = sample.kind === 'error' ? sample.message : '';
    expect(message).toMatch(/^HTTP 401 from http:\/\/prom\.test:9090\/: not authenticated \(sent bearer token from .*echoed\): invalid token \[redacted\]$/);
    expect(message).not.toContain(secret);
  });

  it('403 names the tenant it sent', async () => {
    const { c } = client([{ status: 403, body: 'forbidden' }], { tenant: 'team-a' });
    expect(await c.instant('up')).toMatchObject({ kind: 'error', reason: 'auth', message: expect.stringContaining('not authorised (sent no credentials, tenant team-a): forbidden') as string });
  });

  it('a token file that went away after start is a credentials error, not retried, naming the file', async () => {
    const token = file('vanishing', 'vanishing-token-0123456789');
    const { c, requests } = client([{ status: 200, body: vector('1') }], { bearerTokenFile: token, retries: 3 });
    rmSync(token);
    expect(await c.instant('up')).toMatchObject({ kind: 'error', attempts: 1, reason: 'credentials', message: expect.stringMatching(/vanishing does not exist$/) as string });
    expect(requests).toHaveLength(0);
  });

  it('a body telling of an HTTPS server says to use an https URL', async () => {
    const { c } = client([{ status: 400, body: 'Client sent an HTTP request to an HTTPS server.\n' }]);
    expect(await c.instant('up')).toMatchObject({ kind: 'error', reason: 'answer', message: expect.stringMatching(/use an https URL$/) as string });
  });
});

describe('PrometheusClient — vector() and get()', () => {
  it('vector() gives every series; a scalar is one series without labels', async () => {
    expect(await client([{ status: 200, body: vector('1', '2') }]).c.vector('up')).toEqual([
      { metric: { i: '0' }, value: [1700000000.5, '1'] },
      { metric: { i: '1' }, value: [1700000000.5, '2'] },
    ]);
    expect(await client([{ status: 200, body: scalar('3') }]).c.vector('3')).toEqual([{ metric: {}, value: [1700000000.5, '3'] }]);
  });

  it('vector() throws the failure with its reason', async () => {
    await expect(client([{ status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error' } }]).c.vector('up{')).rejects.toMatchObject({ reason: 'query', status: 400 });
  });

  it('get() reads another endpoint with GET and its parameters', async () => {
    const { c, requests } = client([{ status: 200, body: { status: 'success', data: { groups: [] } } }], { tenant: 't' });
    expect(await c.get('rules', { type: 'alert' })).toEqual({ groups: [] });
    expect(requests[0]).toMatchObject({ method: 'GET', url: 'http://prom.test:9090/api/v1/rules?type=alert', headers: { 'x-scope-orgid': 't' } });
  });

  it.each(['../admin', 'label/../../admin', 'rules?x=1', 'rules#x', '', '/rules', 'Rules', 'label/a b/values'])('get(%j) is refused without a request', async (endpoint) => {
    const { c, requests } = client([{ status: 200, body: vector() }]);
    await expect(c.get(endpoint)).rejects.toMatchObject({ reason: 'query' });
    expect(requests).toHaveLength(0);
  });
});

describe('PrometheusClient.ping — one attempt, for health checks', () => {
  it('resolves when vector(1) answers 1', async () => {
    const { c, requests } = client([{ status: 200, body: scalar('1') }]);
    await c.ping();
    expect(Object.fromEntries(requests[0]!.body)).toMatchObject({ query: 'vector(1)' });
  });

  it('throws the failure at the first attempt, even a retryable one', async () => {
    const { c, requests } = client([{ status: 503, body: 'busy' }], { retries: 3 });
    await expect(c.ping()).rejects.toMatchObject({ reason: 'server', status: 503 });
    expect(requests).toHaveLength(1);
  });

  it('throws on an answer other than 1', async () => {
    await expect(client([{ status: 200, body: vector() }]).c.ping()).rejects.toMatchObject({ reason: 'answer' });
  });
});
