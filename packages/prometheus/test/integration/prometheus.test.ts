import { LOCAL_HOST } from '@cortexops/config';
import { PROMQL_TEMPLATES, type TargetRef } from '@cortexops/contracts';
import { ensureServers, freePort, stackPorts } from '@cortexops/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { escapeLabelValue, escapeRegex, measureCheck, PrometheusClient, renderPromql, selector, series, type PrometheusClientOptions } from '../../src/index.js';
import { HOSTILE_VALUES as HOSTILE } from '../hostile-values.js';

let baseUrl: string;

beforeAll(async () => {
  const ctx = await ensureServers(['prometheus']);
  baseUrl = `http://${LOCAL_HOST}:${stackPorts(ctx).prometheusPort}`;
});

/** A client over the real fetch that counts its HTTP requests. */
function counted(options: Partial<PrometheusClientOptions> = {}) {
  let requests = 0;
  const fetch: typeof globalThis.fetch = (input, init) => {
    requests += 1;
    return globalThis.fetch(input, init);
  };
  const client = PrometheusClient.create({ baseUrl, timeoutMs: 5000, retries: 2, minBackoffMs: 10, maxBackoffMs: 50, fetch, ...options });
  return { client, requests: () => requests };
}

/** The raw HTTP API (to read labels back and to format queries), independent of the client under test. */
async function api(path: 'query' | 'format_query', query: string): Promise<{ status: string; data?: unknown; error?: string }> {
  const response = await fetch(`${baseUrl}/api/v1/${path}`, { method: 'POST', body: new URLSearchParams({ query }) });
  return (await response.json()) as { status: string; data?: unknown; error?: string };
}

/** label_replace's replacement expands `$1`/`$name`: a literal `$` is written `$$` there (this is not PromQL string escaping). */
function replacement(value: string): string {
  return escapeLabelValue(value.replace(/\$/g, () => '$$'));
}

async function vectorLabels(query: string): Promise<Record<string, string>[]> {
  const answer = await api('query', query);
  expect(answer, `query ${query}`).toMatchObject({ status: 'success' });
  const data = answer.data as { resultType: string; result: { metric: Record<string, string> }[] };
  expect(data.resultType).toBe('vector');
  return data.result.map((r) => r.metric);
}

describe('PrometheusClient — against the real Prometheus', () => {
  it('a series with a value', async () => {
    const { client, requests } = counted();
    expect(await client.instant('up{job="prometheus"}')).toEqual({ kind: 'value', value: 1 });
    expect(requests()).toBe(1);
  });

  it('an empty result', async () => {
    expect(await counted().client.instant('up{job="cortexops-no-such-job"}')).toEqual({ kind: 'empty' });
  });

  it('NaN, +Inf and -Inf are not numbers', async () => {
    const { client } = counted();
    expect(await client.instant('0/0')).toEqual({ kind: 'not-a-number', raw: 'NaN' });
    expect(await client.instant('1/0')).toEqual({ kind: 'not-a-number', raw: '+Inf' });
    expect(await client.instant('-1/0')).toEqual({ kind: 'not-a-number', raw: '-Inf' });
    expect(await client.instant('vector(0) / vector(0)')).toEqual({ kind: 'not-a-number', raw: 'NaN' });
  });

  it('several series', async () => {
    expect(await counted().client.instant('vector(1) or label_replace(vector(2), "x", "y", "", "")')).toEqual({ kind: 'multiple', count: 2 });
  });

  it('an evaluation time in the past is honoured', async () => {
    expect(await counted().client.instant('time()', new Date('2026-01-01T00:00:00Z'))).toEqual({ kind: 'value', value: 1767225600 });
  });

  it('a syntax error is an error at once: one request, no retry (another attempt cannot cure it)', async () => {
    const { client, requests } = counted({ retries: 3 });
    const sample = await client.instant('up{');
    expect(sample).toMatchObject({ kind: 'error', attempts: 1, message: expect.stringMatching(/^bad_data: .*parse error/) as string });
    expect(requests()).toBe(1);
  });

  it('an unreachable Prometheus is an error after retries + 1 attempts', async () => {
    const port = await freePort();
    const { client, requests } = counted({ baseUrl: `http://${LOCAL_HOST}:${port}`, retries: 3 });
    const sample = await client.instant('up');
    expect(sample).toEqual({ kind: 'error', attempts: 4, message: `cannot reach http://${LOCAL_HOST}:${port}: ECONNREFUSED`, reason: 'network' });
    expect(requests()).toBe(4);
  });
});

describe('safe PromQL — the real parser reads a hostile value as one label value', () => {
  it.each(HOSTILE)('%j round-trips exactly as a label value', async (value) => {
    const labels = await vectorLabels(`label_replace(vector(1), "v", "${replacement(value)}", "", "")`);
    expect(labels).toEqual([{ v: value }]);
  });

  it.each(HOSTILE)('%j in a selector formats like the same value quoted by an independent escaper', async (value) => {
    const ours = await api('format_query', series('up', { job: value }));
    const reference = await api('format_query', `up{job=${JSON.stringify(value)}}`);
    expect(ours.status).toBe('success');
    expect(ours).toEqual(reference);
    // one selector with one matcher: everything between the quotes is the value
    expect(ours.data).toMatch(/^up\{job="(?:[^"\\\n]|\\.)*"\}$/);
  });

  it.each(HOSTILE)('%j cannot inject: the selector matches nothing instead of vector(1)', async (value) => {
    const { client } = counted();
    expect(await client.instant(series('up', { job: value }))).toEqual({ kind: 'empty' });
    expect(await client.instant(series('up', { job: { regex: escapeRegex(value) } }))).toEqual({ kind: 'empty' });
    expect(await client.instant(`sum(${series('up', { job: value })})`)).toEqual({ kind: 'empty' });
  });

  it('an escaped regex matches exactly its literal in RE2, and not what the unescaped pattern would', async () => {
    const literal = 'a.b*(c)|d';
    const cases = [
      { subject: literal, matches: true },
      { subject: 'axbbb(c)|d', matches: false },
      { subject: 'd', matches: false },
    ];
    for (const { subject, matches } of cases) {
      const query = `label_replace(label_replace(vector(1), "v", "${replacement(subject)}", "", ""), "m", "yes", "v", "${escapeLabelValue(escapeRegex(literal))}")`;
      const [labels] = await vectorLabels(query);
      expect(labels?.m, `${subject} against ${literal}`).toBe(matches ? 'yes' : undefined);
    }
    expect(await counted().client.instant(series('up', { instance: { regex: escapeRegex(`${LOCAL_HOST}:${new URL(baseUrl).port}`) }, job: 'prometheus' }))).toEqual({ kind: 'value', value: 1 });
  });

  it('a selector with several matchers keeps each value in its own matcher', async () => {
    const labels = await vectorLabels(`label_replace(label_replace(vector(1), "a", "${replacement('"} or vector(1) #')}", "", ""), "b", "${replacement('x\\')}", "", "")`);
    expect(labels).toEqual([{ a: '"} or vector(1) #', b: 'x\\' }]);
    expect((await api('format_query', `up${selector({ a: 'x"', b: { regex: escapeRegex('y\\') } })}`)).status).toBe('success');
  });
});

describe('renderPromql — every template parses in the real Prometheus', () => {
  const targets: Record<string, TargetRef[]> = {
    'workload-available-ratio': [
      { kind: 'Deployment', namespace: 'shop', name: 'web.v2' },
      { kind: 'StatefulSet', namespace: 'data', name: 'db' },
    ],
    'workload-container-restarts': [
      { kind: 'Deployment', namespace: 'shop', name: 'web.v2' },
      { kind: 'Deployment', namespace: 'shop', name: `${'a'.repeat(50)}.x` },
      { kind: 'StatefulSet', namespace: 'data', name: 'db' },
    ],
    'node-ready': [{ kind: 'Node', name: 'worker-1.example.com' }],
  };

  it.each(PROMQL_TEMPLATES.flatMap((template) => (targets[template] ?? []).map((target) => [template, target] as const)))('%s of %o', async (template, target) => {
    const query = renderPromql(template, target);
    expect(await api('format_query', query)).toMatchObject({ status: 'success' });
    const sample = await counted().client.instant(query);
    expect(['empty', 'value']).toContain(sample.kind);
  });
});

describe('measureCheck — against the real Prometheus', () => {
  it('a workload nobody scrapes is inconclusive (no data), never success', async () => {
    const target: TargetRef = { kind: 'Deployment', namespace: 'cortexops-no-such-namespace', name: 'web' };
    const result = await measureCheck(
      {
        type: 'promql',
        name: 'restarts',
        template: 'workload-container-restarts',
        query: renderPromql('workload-container-restarts', target),
        successCondition: { op: '<', threshold: 1 },
      },
      target,
      counted().client,
    );
    expect(result).toMatchObject({ name: 'restarts', outcome: 'inconclusive', value: null, detail: expect.stringMatching(/^no data/) as string });
  });

  it('an unreachable Prometheus is inconclusive with the attempts in the detail', async () => {
    const target: TargetRef = { kind: 'Node', name: 'worker-1' };
    const { client } = counted({ baseUrl: `http://${LOCAL_HOST}:${await freePort()}`, retries: 1 });
    const check = { type: 'promql', name: 'ready', template: 'node-ready', query: renderPromql('node-ready', target), successCondition: { op: '==', threshold: 1 } } as const;
    const result = await measureCheck(check, target, client);
    expect(result).toMatchObject({ outcome: 'inconclusive', value: null, detail: expect.stringMatching(/^query failed after 2 attempts: cannot reach .*ECONNREFUSED/) as string });
  });
});
