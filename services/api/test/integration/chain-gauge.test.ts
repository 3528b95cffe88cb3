import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore, signCheckpoint } from '@cortexops/audit';
import { createTestDatabase, ensureServers, natsEnv, spawnService, type ServiceProcess, type StackContext, type TestDatabase } from '@cortexops/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const WAIT = { timeout: 30_000, interval: 250 };
const KEY = `chain-gauge-key-${'k'.repeat(32)}`;

let ctx: StackContext;
let db: TestDatabase;
let store: AuditStore;
let dir: string;
const started: ServiceProcess[] = [];
let appended = 0;

/** Appends `n` audit records of one incident of this test (as the worker writes them). */
async function append(n: number): Promise<number> {
  let head = 0;
  for (let i = 0; i < n; i++) {
    appended += 1;
    const record = await store.append({
      idempotencyKey: `incident-chain/state/${appended}`,
      incidentId: 'chain',
      workflowId: 'incident-chain',
      kind: 'workflow.state',
      actor: 'worker',
      occurredAt: new Date(Date.UTC(2026, 10, 30) + appended * 1000).toISOString(),
      payload: { sequence: appended, to: 'DIAGNOSING' },
    });
    head = record.sequence;
  }
  return head;
}

/** The api's gauges from its /metrics (name without the prefix → value; `kind`-labelled ones keyed by kind). */
async function gauges(api: ServiceProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
  const found: Record<string, number> = {};
  for (const m of text.matchAll(/^cortexops_audit_chain_(\w+?)(?:\{([^}]*)\})? (\S+)$/gm)) {
    const kind = /kind="(\w+)"/.exec(m[2] ?? '')?.[1];
    found[kind ? `${m[1]}:${kind}` : (m[1] ?? '')] = Number(m[3]);
  }
  return found;
}

async function startApi(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const api = await spawnService('api', {
    ...natsEnv(ctx, 'api'),
    CORTEXOPS_DATABASE_URL: db.url,
    CORTEXOPS_API_HEALTH_TARGETS: 'none',
    CORTEXOPS_AUDIT_CHAIN_CHECK_INTERVAL_MS: '1000',
    ...env,
  });
  started.push(api);
  await api.waitForHealth((status) => status === 200);
  return api;
}

/** What someone with the owner's rights can do: switch the append-only trigger off, change a row, switch it on. */
async function rewriteAsOwner(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete');
    await client.query(sql);
    await client.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete');
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  ctx = await ensureServers(['nats', 'temporal', 'postgres']);
  db = await createTestDatabase(ctx, 'chain_gauge');
  store = await AuditStore.create({ databaseUrl: db.url });
  dir = mkdtempSync(join(tmpdir(), 'chain-gauge-'));
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((api) => api.terminate()));
  await store?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('api — cortexops_audit_chain_valid', () => {
  it('is 1 over an intact chain (a full walk first), then follows appends with incremental checks', async () => {
    const head = await append(5);
    const api = await startApi({ CORTEXOPS_AUDIT_CHAIN_FULL_CHECK_INTERVAL_MS: '3600000' });
    await expect.poll(() => gauges(api), WAIT).toMatchObject({ valid: 1, verified_sequence: head });
    expect((await gauges(api))['check_seconds:full']).toBeGreaterThan(0);
    const later = await append(3);
    // Only the rows since the last check are walked: the next check is incremental and reaches the new head.
    await expect.poll(() => gauges(api), WAIT).toMatchObject({ valid: 1, verified_sequence: later });
    expect((await gauges(api))['check_seconds:incremental']).toBeGreaterThan(0);
    const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
    expect(text).toContain('# TYPE cortexops_audit_chain_valid gauge');
  });

  it('turns 0 when a row the last full walk covered is rewritten by the owner role, and stays 0', async () => {
    const api = await startApi({ CORTEXOPS_AUDIT_CHAIN_FULL_CHECK_INTERVAL_MS: '2000' });
    await expect.poll(async () => (await gauges(api)).valid, WAIT).toBe(1);
    // Row 2, long before the last checked head: only a full walk sees it (hashes after it were not recomputed).
    await rewriteAsOwner(`UPDATE audit_events SET actor = 'mallory' WHERE sequence = 2`);
    await expect.poll(async () => (await gauges(api)).valid, WAIT).toBe(0);
    await append(1);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await gauges(api)).valid).toBe(0);
    expect(api.output()).toContain('audit chain broken');
    // Put back as it was: the next full walk passes again.
    await rewriteAsOwner(`UPDATE audit_events SET actor = 'worker' WHERE sequence = 2`);
    await expect.poll(async () => (await gauges(api)).valid, WAIT).toBe(1);
  });

  it('with a signed checkpoint: 0 when the chain does not match it or it cannot be trusted, 1 when it matches', async () => {
    const file = join(dir, 'checkpoint.json');
    const intact = await store.verify();
    if (!intact.ok) throw new Error(`the chain should be intact here: ${intact.detail}`);
    const head = { sequence: intact.headSequence, hash: intact.headHash };
    writeFileSync(file, JSON.stringify(signCheckpoint(head, { current: KEY })));
    const api = await startApi({ CORTEXOPS_AUDIT_CHECKPOINT_FILE: file, CORTEXOPS_AUDIT_CHECKPOINT_KEY: KEY, CORTEXOPS_AUDIT_CHAIN_FULL_CHECK_INTERVAL_MS: '3600000' });
    await expect.poll(async () => (await gauges(api)).valid, WAIT).toBe(1);
    // Correctly signed, another hash at its row: the chain up to it was rewritten (every hash recomputed, say).
    writeFileSync(file, JSON.stringify(signCheckpoint({ sequence: head.sequence, hash: 'f'.repeat(64) }, { current: KEY })));
    await expect.poll(async () => (await gauges(api)).valid, WAIT).toBe(0);
    writeFileSync(file, JSON.stringify(signCheckpoint(head, { current: KEY })));
    await expect.poll(async () => (await gauges(api)).valid, WAIT).toBe(1);
    // Signed with a key the api does not know, or not a checkpoint at all: not trusted.
    writeFileSync(file, JSON.stringify(signCheckpoint(head, { current: `another-key-${'z'.repeat(32)}` })));
    await expect.poll(async () => (await gauges(api)).valid, WAIT).toBe(0);
    writeFileSync(file, JSON.stringify(signCheckpoint(head, { current: KEY })));
    await expect.poll(async () => (await gauges(api)).valid, WAIT).toBe(1);
    writeFileSync(file, '{"v":1,"sequence":"not a number"}');
    await expect.poll(async () => (await gauges(api)).valid, WAIT).toBe(0);
  });

  it('refuses bad intervals at start, naming the variable', async () => {
    for (const [variable, value] of [
      ['CORTEXOPS_AUDIT_CHAIN_CHECK_INTERVAL_MS', '10'],
      ['CORTEXOPS_AUDIT_CHAIN_FULL_CHECK_INTERVAL_MS', 'hourly'],
    ] as const) {
      const api = await spawnService('api', { ...natsEnv(ctx, 'api'), CORTEXOPS_DATABASE_URL: db.url, CORTEXOPS_API_HEALTH_TARGETS: 'none', [variable]: value });
      started.push(api);
      await expect.poll(() => api.child.exitCode, WAIT).not.toBeNull();
      expect(api.output()).toContain(variable);
    }
  });
});
