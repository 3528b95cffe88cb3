import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_HOST, loadConfig, servicePortVar } from '@cortexops/config';
import { HTTP_PATHS, SERVICE_NAMES } from '@cortexops/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardQueries, metricFamily, ruleQueries, selectors, withGrafanaVariables, type NamedQuery } from '../../src/grafana/queries.js';
import type { PrometheusClient, Series } from '@cortexops/prometheus';
import { installDebianPackage, REPO_ROOT, runDemo, sharedStack, stackPrometheus, VERSIONS, webhookTokenFile, type StackContext } from '../../src/index.js';

const DASHBOARDS_DIR = join(REPO_ROOT, 'deploy', 'grafana', 'dashboards');
const RULES_DIR = join(REPO_ROOT, 'deploy', 'prometheus', 'rules');
const RULE_TESTS_DIR = join(REPO_ROOT, 'deploy', 'prometheus', 'tests');
const files = (dir: string, ext: RegExp): string[] => readdirSync(dir).filter((f) => ext.test(f)).sort();

const panelQueries: NamedQuery[] = files(DASHBOARDS_DIR, /\.json$/).flatMap((f) => dashboardQueries(JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')), f));
const ruleFiles = files(RULES_DIR, /\.ya?ml$/);
const alertQueries: NamedQuery[] = ruleFiles.flatMap((f) => ruleQueries(readFileSync(join(RULES_DIR, f), 'utf8'), f));

/**
 * Every read goes through the client the worker verifies with (packages/prometheus), with the settings of the
 * environment (CORTEXOPS_PROMETHEUS_*): the stack's Prometheus, or a Mimir/Thanos/Cortex with its tenant and credentials.
 */
let prometheus: PrometheusClient;
/** Metric families some scraped target declares (HELP/TYPE), samples or not. */
let declared = new Set<string>();

const query = (expr: string): Promise<Series[]> => prometheus.vector(expr);

/** Each selector of the expression names a metric some scraped target declares, and returns series. */
async function checkSelectors(expr: string): Promise<void> {
  for (const s of selectors(expr)) {
    const series = await query(s.text);
    const known = series.length > 0 || declared.has(metricFamily(s.metric)) || (await query(s.metric)).length > 0;
    expect(known, `${s.metric} is not declared by any scraped target`).toBe(true);
    expect(series.length, `${s.text} returns no series after the demo`).toBeGreaterThan(0);
  }
}

async function promtool(ctx: StackContext, args: string[]): Promise<string> {
  const dir = await installDebianPackage(ctx, VERSIONS.prometheus.package, VERSIONS.prometheus.version);
  const { stdout, stderr } = await promisify(execFile)(join(dir, 'usr', 'bin', 'promtool'), args, { cwd: REPO_ROOT });
  return `${stdout}${stderr}`;
}

let ctx: StackContext;
/** The services this file started (none where `make up` already runs them); stopped afterwards. */
let startedHere: string[] = [];

// A short run of the demo on the shared stack (what `make demo` does: its Deployment and node replace the previous
// demo's), one malformed Alertmanager body (a dead letter), then one scrape of every service after both.
beforeAll(async () => {
  const stack = sharedStack();
  const up = await stack.up(['prometheus', 'kube-state-metrics', ...SERVICE_NAMES]);
  startedHere = up.filter((r) => r.action === 'started' && (SERVICE_NAMES as readonly string[]).includes(r.name)).map((r) => r.name);
  ctx = stack.ctx;
  prometheus = stackPrometheus(ctx);
  // Fails unless the incident ends RESOLVED (the automatic path through every service: a verification, a resolved outcome).
  await runDemo(ctx, { timeoutMs: 180_000, log: () => undefined });
  const { port } = loadConfig({ port: servicePortVar('ingestion') }, ctx.env);
  // With the stack's webhook token (what its Alertmanager sends): a bad body, not a refused caller, makes the dead letter.
  const authorization = `Bearer ${readFileSync(webhookTokenFile(ctx), 'utf8').trim()}`;
  const bad = await fetch(`http://${LOCAL_HOST}:${port}${HTTP_PATHS.alertmanagerWebhook}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: '{"alerts":"not a list"}' });
  expect(bad.status).toBe(400);
  const after = Date.now() / 1000;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const scraped = await query('min(timestamp(up{job="cortexops"}))');
    if (Number(scraped[0]?.value[1]) > after) break;
    if (Date.now() > deadline) throw new Error('Prometheus did not scrape the services within 60 s of the demo');
    await new Promise((r) => setTimeout(r, 1000));
  }
  declared = new Set(Object.keys((await prometheus.get('metadata')) as Record<string, unknown>));
}, 300_000);

afterAll(async () => {
  await prometheus?.close();
  if (startedHere.length > 0) await sharedStack().down(startedHere);
});

describe('dashboards — every panel query draws data from the real Prometheus after a demo run', () => {
  it.each(panelQueries.map((q) => [q.source, q.expr] as const))('%s', async (_source, expr) => {
    const promql = withGrafanaVariables(expr);
    await checkSelectors(promql);
    expect((await query(promql)).length, `${promql} returns nothing although every selector has series`).toBeGreaterThan(0);
  });
});

describe('alert rules — every expression evaluates over metrics that exist', () => {
  it.each(alertQueries.map((q) => [q.source, q.expr] as const))('%s', async (_source, expr) => {
    await query(expr);
    await checkSelectors(expr);
  });

  it('alert rules — the local Prometheus loaded every rule and evaluates each without error', async () => {
    type Rules = { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    const deadline = Date.now() + 30_000;
    const alertRules = async () => ((await prometheus.get('rules', { type: 'alert' })) as Rules).groups.flatMap((g) => g.rules);
    let rules = await alertRules();
    while (rules.some((r) => r.health === 'unknown') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      rules = await alertRules();
    }
    const expected = alertQueries.map((q) => q.source.split(' › ').at(-1)).sort();
    expect(rules.map((r) => r.name).sort()).toEqual(expected);
    for (const r of rules) expect(`${r.name}: ${r.health} ${r.lastError ?? ''}`.trim()).toBe(`${r.name}: ok`);
  });

  it('alert rules — promtool check rules accepts every rule file', async () => {
    const output = await promtool(ctx, ['check', 'rules', ...ruleFiles.map((f) => join(RULES_DIR, f))]);
    expect(output).toContain(`SUCCESS: ${alertQueries.length} rules found`);
  });

  it('alert rules — promtool test rules passes, with a unit test for every alert', async () => {
    const tests = files(RULE_TESTS_DIR, /\.ya?ml$/);
    const output = await promtool(ctx, ['test', 'rules', ...tests.map((f) => join(RULE_TESTS_DIR, f))]);
    expect(output).toContain('SUCCESS');
    const tested = new Set(tests.flatMap((f) => [...readFileSync(join(RULE_TESTS_DIR, f), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1])));
    for (const q of alertQueries) expect(tested, `no promtool test for ${q.source}`).toContain(q.source.split(' › ').at(-1));
  });
});
