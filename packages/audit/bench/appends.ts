/**
 * Appends per second with the hash chain: single-row appends (the baseline) against batched appends
 * (`appendMany`), measured in the same run on a fresh database of the local PostgreSQL; then the
 * speed of `verify` over everything written. Bounded: each scenario stops at its row count or its
 * time budget, whichever comes first.
 *
 *   pnpm --filter @cortexops/audit bench [--rows 20000 --seconds 15]
 */
import { createTestDatabase, ensureServers } from '@cortexops/testkit';
import { Command } from 'commander';
import { type AuditEventInput, AuditStore } from '../src/index.js';

const program = new Command('audit-bench')
  .option('--rows <n>', 'rows per batched scenario', (v) => Number.parseInt(v, 10), 20_000)
  .option('--single-rows <n>', 'rows of the single-row baseline', (v) => Number.parseInt(v, 10), 2_000)
  .option('--seconds <n>', 'time budget per scenario', (v) => Number.parseFloat(v), 15)
  .parse();
const options = program.opts<{ rows: number; singleRows: number; seconds: number }>();

const GOAL = 5_000;
let counter = 0;

function nextEvent(): AuditEventInput {
  counter++;
  return {
    idempotencyKey: `bench-wf-${Math.floor(counter / 10)}/step-${counter}`,
    incidentId: `inc-${counter % 50}`,
    workflowId: `remediation-inc-${counter % 50}`,
    kind: 'workflow.state',
    actor: 'worker',
    occurredAt: new Date().toISOString(),
    payload: { state: 'APPLYING', attempt: 1, action: { type: 'scale', namespace: 'shop', name: 'checkout', replicas: 4 } },
  };
}

interface Row {
  readonly scenario: string;
  readonly rows: number;
  readonly seconds: number;
}

async function measure(scenario: string, rows: number, batch: number, store: AuditStore): Promise<Row> {
  const deadline = performance.now() + options.seconds * 1000;
  const started = performance.now();
  let written = 0;
  while (written < rows && performance.now() < deadline) {
    const size = Math.min(batch, rows - written);
    if (size === 1) await store.append(nextEvent());
    else await store.appendMany(Array.from({ length: size }, nextEvent));
    written += size;
  }
  return { scenario, rows: written, seconds: (performance.now() - started) / 1000 };
}

const db = await createTestDatabase(await ensureServers(['postgres']), 'audit_bench');
const store = await AuditStore.create({ databaseUrl: db.url });
try {
  // Warm-up: connections, plans, JIT of the hashing path.
  await measure('warm-up', 500, 100, store);
  const results: Row[] = [await measure('single-row append', options.singleRows, 1, store)];
  // Eight callers appending one row each at a time (activities of several workflows): they queue on the chain head.
  const concurrent = await Promise.all(Array.from({ length: 8 }, () => measure('', options.singleRows / 8, 1, store)));
  results.push({ scenario: 'single-row, 8 concurrent', rows: concurrent.reduce((n, r) => n + r.rows, 0), seconds: Math.max(...concurrent.map((r) => r.seconds)) });
  for (const batch of [100, 500, 1000]) results.push(await measure(`appendMany, batch ${batch}`, options.rows, batch, store));

  const verifyStarted = performance.now();
  const verified = await store.verify();
  const verifySeconds = (performance.now() - verifyStarted) / 1000;
  if (!verified.ok) throw new Error(`verify failed after the bench: ${verified.detail}`);

  const baseline = results[0]!.rows / results[0]!.seconds;
  const line = (cells: string[]) => `${cells[0]!.padEnd(26)}${cells.slice(1).map((c) => c.padStart(12)).join('')}\n`;
  process.stdout.write(line(['scenario', 'rows', 'seconds', 'rows/s', 'x single']));
  for (const r of results) {
    const rate = r.rows / r.seconds;
    process.stdout.write(line([r.scenario, String(r.rows), r.seconds.toFixed(2), rate.toFixed(0), (rate / baseline).toFixed(1)]));
  }
  process.stdout.write(line(['verify (whole chain)', String(verified.rows), verifySeconds.toFixed(2), (verified.rows / verifySeconds).toFixed(0), '']));
  const best = Math.max(...results.filter((r) => r.scenario.startsWith('appendMany')).map((r) => r.rows / r.seconds));
  process.stdout.write(`goal: batched appends >= ${GOAL} rows/s — ${best >= GOAL ? 'met' : 'NOT met'} (best ${best.toFixed(0)} rows/s)\n`);
} finally {
  await store.close();
  await db.drop();
}
