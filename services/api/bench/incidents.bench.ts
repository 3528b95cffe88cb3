/**
 * The api's incident list at 10,000 incidents against a plain `SELECT` of the same rows, in the same run, on a fresh
 * database of the local PostgreSQL: the api runs as its own process (as `make up` starts it) and is asked over HTTP
 * with its bearer token, page after page; its own SQL (`IncidentQueries.list`) is timed alone too; the baseline is `SELECT record FROM incidents ... LIMIT n` with the same
 * filter and order through one pg connection from this process. Every case runs without, then with the index
 * `incidents (updated_at DESC, id)` (dropped, then created again). Prints p50/p95/p99 per case.
 *
 *   pnpm --filter @cortexops/api bench [--incidents 10000 --requests 300]
 */
import { randomBytes } from 'node:crypto';
import { AuditStore } from '@cortexops/audit';
import { type AuditEvent, type Incident, incidentWorkflowId, WORKFLOW_STATES } from '@cortexops/contracts';
import { createTestDatabase, ensureServers, spawnService, natsEnv } from '@cortexops/testkit';
import { Command } from 'commander';
import pg from 'pg';
import { IncidentQueries, incidentFilter } from '../src/incident-queries.js';

const program = new Command('api-bench')
  .option('--incidents <n>', 'incidents in the store', (v) => Number.parseInt(v, 10), 10_000)
  .option('--requests <n>', 'timed requests per case (after 30 warm-up ones)', (v) => Number.parseInt(v, 10), 300)
  .parse();
const options = program.opts<{ incidents: number; requests: number }>();

const NAMESPACES = ['demo', 'payments', 'search', 'checkout', 'ledger'];
const STATES_PER_INCIDENT = 3;
const token = randomBytes(24).toString('hex');

function incident(i: number): Incident {
  const at = new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString();
  const id = `bench-${i.toString().padStart(6, '0')}`;
  return {
    id,
    cluster: 'local',
    title: `checkout-${i % 97} OOMKilled`,
    severity: i % 10 === 0 ? 'critical' : 'warning',
    status: i % 3 === 0 ? 'resolved' : 'open',
    target: { kind: 'Deployment', namespace: NAMESPACES[i % NAMESPACES.length] ?? 'demo', name: `checkout-${i % 97}` },
    fingerprints: ['0123456789abcdef'],
    signalIds: [`sig-${i}`],
    flapCount: 0,
    openedAt: at,
    updatedAt: at,
  };
}

/** Three state transitions per incident: what the list's latest-state look-up walks. */
function transitions(inc: Incident, i: number): AuditEvent[] {
  const workflowId = incidentWorkflowId(inc.id);
  return Array.from({ length: STATES_PER_INCIDENT }, (_, n) => ({
    idempotencyKey: `${workflowId}/state/${n + 1}`,
    incidentId: inc.id,
    workflowId,
    kind: 'workflow.state' as const,
    actor: 'worker',
    occurredAt: new Date(Date.parse(inc.openedAt) + n * 1000).toISOString(),
    payload: { sequence: n + 1, to: WORKFLOW_STATES[(i + n) % WORKFLOW_STATES.length] },
  }));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function time(requests: number, run: () => Promise<number>): Promise<{ p50: number; p95: number; p99: number; rows: number }> {
  for (let i = 0; i < 30; i++) await run();
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    rows = await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99), rows };
}

const ctx = await ensureServers(['nats', 'temporal', 'postgres']);
const db = await createTestDatabase(ctx, 'api_bench');
const store = await AuditStore.create({ databaseUrl: db.url });
const client = new pg.Client({ connectionString: db.url });
await client.connect();
const api = await spawnService('api', {
  ...Object.fromEntries(['CORTEXOPS_NATS_PORT', 'CORTEXOPS_TEMPORAL_PORT', 'CORTEXOPS_POSTGRES_PORT'].map((v) => [v, ctx.env[v]])),
  ...natsEnv(ctx, 'api'),
  CORTEXOPS_DATABASE_URL: db.url,
  CORTEXOPS_API_TOKEN: token,
  CORTEXOPS_API_HEALTH_TARGETS: 'none',
  CORTEXOPS_LOG_LEVEL: 'warn',
});
try {
  const seeded = performance.now();
  const all = Array.from({ length: options.incidents }, (_, i) => incident(i));
  for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((inc) => store.upsertIncident(inc)));
  const events = all.flatMap(transitions);
  for (let i = 0; i < events.length; i += 5000) await store.appendMany(events.slice(i, i + 5000));
  await client.query('ANALYZE');
  process.stdout.write(`seeded ${all.length} incidents and ${events.length} audit events in ${((performance.now() - seeded) / 1000).toFixed(1)} s\n`);
  await api.waitForHealth((status) => status === 200);

  const cases: { name: string; query: string; where: string; values: unknown[]; limit: number }[] = [
    { name: 'first page (100)', query: 'limit=100', where: '', values: [], limit: 100 },
    { name: 'largest page (1000)', query: 'limit=1000', where: '', values: [], limit: 1000 },
    { name: 'namespace=payments (100)', query: 'namespace=payments&limit=100', where: "WHERE record->'target'->>'namespace' = $1", values: ['payments'], limit: 100 },
    { name: 'status=resolved (100)', query: 'status=resolved&limit=100', where: 'WHERE status = $1', values: ['resolved'], limit: 100 },
  ];
  const rows: string[][] = [];
  // Every case without, then with the index on the list's order (audit migration incidents-updated-at-index), in this one run.
  for (const [index, c] of (['without', 'with'] as const).flatMap((i) => cases.map((k) => [i, k] as const))) {
    if (c === cases[0]) {
      await client.query(index === 'without' ? 'DROP INDEX IF EXISTS incidents_updated_at_idx' : 'CREATE INDEX IF NOT EXISTS incidents_updated_at_idx ON incidents (updated_at DESC, id)');
      await client.query('ANALYZE incidents');
    }
    const url = `${api.baseUrl}/v1/incidents?${c.query}`;
    const viaApi = await time(options.requests, async () => {
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      const body = (await response.json()) as { incidents: unknown[] };
      if (response.status !== 200) throw new Error(`api answered ${response.status}`);
      return body.incidents.length;
    });
    const queries = new IncidentQueries(client);
    const filter = incidentFilter(Object.fromEntries(new URLSearchParams(c.query)));
    const sqlOnly = await time(options.requests, async () => (await queries.list(filter)).incidents.length);
    const plain = await time(options.requests, async () => {
      const result = await client.query(`SELECT record FROM incidents ${c.where} ORDER BY updated_at DESC, id LIMIT ${c.limit}`, c.values);
      return result.rows.length;
    });
    const ms = (v: number) => v.toFixed(2);
    rows.push([index, c.name, 'api GET /v1/incidents', String(viaApi.rows), ms(viaApi.p50), ms(viaApi.p95), ms(viaApi.p99)]);
    rows.push([index, c.name, "the api's SQL alone", String(sqlOnly.rows), ms(sqlOnly.p50), ms(sqlOnly.p95), ms(sqlOnly.p99)]);
    rows.push([index, c.name, 'plain SELECT', String(plain.rows), ms(plain.p50), ms(plain.p95), ms(plain.p99)]);
  }
  // The state filter needs every incident's latest state: the expensive case.
  const stateUrl = `${api.baseUrl}/v1/incidents?state=RESOLVED&limit=100`;
  const byState = await time(Math.max(30, Math.floor(options.requests / 5)), async () => {
    const response = await fetch(stateUrl, { headers: { authorization: `Bearer ${token}` } });
    return ((await response.json()) as { incidents: unknown[] }).incidents.length;
  });
  rows.push(['with', 'state=RESOLVED (100)', 'api GET /v1/incidents', String(byState.rows), byState.p50.toFixed(2), byState.p95.toFixed(2), byState.p99.toFixed(2)]);

  const header = ['updated_at index', 'case', 'path', 'rows', 'p50 ms', 'p95 ms', 'p99 ms'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => (i >= 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  process.stdout.write(`\n${options.incidents} incidents, ${options.requests} timed requests per case (sequential, after 30 warm-up)\n`);
  process.stdout.write(`${[line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')}\n`);
} finally {
  await api.terminate();
  await client.end();
  await store.close();
  await db.drop();
}
