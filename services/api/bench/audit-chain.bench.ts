/**
 * What the api's audit chain gauge costs (`src/chain-watch.ts`) at 10,000 audit records, on a fresh database of the
 * local PostgreSQL, in one run: a full walk of the chain (what `GET /v1/audit/verify` and the hourly check do), the
 * incremental check with nothing new, and with 100 new rows (what the 30-second check does). Prints p50/p95/max.
 *
 *   pnpm --filter @cortexops/api bench:chain [--records 10000 --rounds 20]
 */
import { AuditStore } from '@cortexops/audit';
import { incidentWorkflowId } from '@cortexops/contracts';
import { createLogger } from '@cortexops/observability';
import { createTestDatabase, ensureServers } from '@cortexops/testkit';
import { Command } from 'commander';
import { Registry } from 'prom-client';
import { AuditChainWatch } from '../src/chain-watch.js';

const program = new Command('audit-chain-bench')
  .option('--records <n>', 'audit records in the chain', (v) => Number.parseInt(v, 10), 10_000)
  .option('--rounds <n>', 'timed checks per case', (v) => Number.parseInt(v, 10), 20)
  .parse();
const options = program.opts<{ records: number; rounds: number }>();

let written = 0;
/** `n` records as the worker writes them: one workflow.state per record, ten per incident. */
async function append(store: AuditStore, n: number): Promise<void> {
  for (let done = 0; done < n; ) {
    const batch = Array.from({ length: Math.min(5000, n - done) }, () => {
      written += 1;
      const incidentId = `bench-${Math.floor(written / 10)}`;
      return {
        idempotencyKey: `${incidentWorkflowId(incidentId)}/state/${written}`,
        incidentId,
        workflowId: incidentWorkflowId(incidentId),
        kind: 'workflow.state' as const,
        actor: 'worker',
        occurredAt: new Date(Date.UTC(2026, 10, 1) + written * 1000).toISOString(),
        payload: { sequence: written, to: 'DIAGNOSING', detail: 'x'.repeat(200) },
      };
    });
    await store.appendMany(batch);
    done += batch.length;
  }
}

const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
  return [at(0.5), at(0.95), sorted.at(-1) ?? Number.NaN].map((v) => v.toFixed(1));
};

const ctx = await ensureServers(['postgres']);
const db = await createTestDatabase(ctx, 'chain_bench');
const store = await AuditStore.create({ databaseUrl: db.url });
try {
  await append(store, options.records);
  const logger = createLogger({ service: 'bench', level: 'warn' });
  // Full every time, and never (incremental after the first).
  const full = new AuditChainWatch({ intervalMs: 1000, fullIntervalMs: 0 }, { chain: store, registry: new Registry(), logger });
  const incremental = new AuditChainWatch({ intervalMs: 1000, fullIntervalMs: Number.MAX_SAFE_INTEGER }, { chain: store, registry: new Registry(), logger });
  await incremental.check();
  const time = async (run: () => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < options.rounds; i++) {
      const started = performance.now();
      await run();
      samples.push(performance.now() - started);
    }
    return samples;
  };
  const rows = [
    ['full walk', String(options.records), ...stats(await time(() => full.check()))],
    ['incremental, nothing new', '0', ...stats(await time(() => incremental.check()))],
  ];
  // 100 rows appended before each check (not timed).
  const alone: number[] = [];
  for (let i = 0; i < options.rounds; i++) {
    await append(store, 100);
    const started = performance.now();
    const result = await incremental.check();
    alone.push(performance.now() - started);
    if (!result.ok || result.kind !== 'incremental') throw new Error(`expected an intact incremental check, got ${JSON.stringify(result)}`);
  }
  rows.push(['incremental, 100 new rows', '100', ...stats(alone)]);
  const header = ['check', 'rows walked', 'p50 ms', 'p95 ms', 'max ms'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => (i >= 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  process.stdout.write(`\n${options.records} audit records in the chain, ${options.rounds} checks per case\n`);
  process.stdout.write(`${[line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')}\n`);
} finally {
  await store.close();
  await db.drop();
}
