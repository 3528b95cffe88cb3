import { describe, expect, it } from 'vitest';
import { classifyValue, PrometheusClient, type PrometheusClientOptions } from './client.js';
import { InvalidPrometheusOptionError } from './errors.js';

type Reply = { status: number; body: unknown } | Error;

/** A fetch that answers from a script and records each request. */
function scripted(replies: Reply[]) {
  const requests: { url: string; body: URLSearchParams }[] = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    requests.push({ url: url instanceof Request ? url.url : url.toString(), body: new URLSearchParams(init?.body as URLSearchParams) });
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
    expect(await c.instant('up[5m]')).toEqual({ kind: 'error', message: expect.stringMatching(/gives a matrix/) as string, attempts: 1 });
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
    expect(await c.instant('q')).toEqual({ kind: 'error', message: 'cannot reach http://prom.test:9090/: ECONNREFUSED', attempts: 4 });
    expect(requests).toHaveLength(4);
  });

  it('a timeout is retried', async () => {
    const { c, requests } = client([new DOMException('timed out', 'TimeoutError')], { retries: 1 });
    expect(await c.instant('q')).toEqual({ kind: 'error', message: 'no answer from http://prom.test:9090/ within 1000 ms', attempts: 2 });
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
    ['a 404 HTML page', { status: 404, body: '<html>not found</html>' }, /HTTP 404 .*not JSON/],
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
