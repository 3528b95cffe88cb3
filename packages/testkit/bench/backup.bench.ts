/**
 * `make backup` and `make restore` timed and sized, in one run: (1) the shared local stack as it is (after `make demo`
 * and whatever the tests left: its Temporal store is most of it), backed up read-only and restored into fresh private
 * servers; (2) a private stack whose audit store holds 1,000 incidents (20 audit records each), backed up and restored
 * into fresh private servers. The same-run baseline of each is a bare pg_dump and pg_restore of the same database with
 * the same tools: what the rest (Temporal's store, NATS snapshots, checksums, checks, the chain's verification) adds.
 *
 *   scripts/pnpm exec tsx packages/testkit/bench/backup.bench.ts [--incidents 1000]
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditCheckpointer, AuditStore, FileCheckpointStore } from '@cortexops/audit';
import { type AuditEvent, type Incident, incidentWorkflowId, WORKFLOW_STATES } from '@cortexops/contracts';
import { Command } from 'commander';
import { dumpDatabase, restoreDatabase } from '../src/backup/postgres.js';
import { backupStack, restoreStack } from '../src/backup/stack.js';
import { pgTools } from '../src/backup/tools.js';
import { auditCheckpointFile, auditCheckpointKey } from '../src/stack/servers/audit-checkpointer.js';
import { POSTGRES_DATABASE, postgresUrl } from '../src/stack/servers/postgres.js';
import { privateStack, sharedStack, type PrivateStack } from '../src/testing.js';
import type { StackContext } from '../src/stack/types.js';

const options = new Command('backup-bench')
  .option('--incidents <n>', 'incidents in the seeded audit store', (v) => Number.parseInt(v, 10), 1000)
  .parse()
  .opts<{ incidents: number }>();
const RECORDS_PER_INCIDENT = 20;
const scratch = mkdtempSync(join(tmpdir(), 'cortexops-backup-bench-'));
const stacks: PrivateStack[] = [];
const seconds = (started: number) => (performance.now() - started) / 1000;

async function fresh(name: string, key: string): Promise<PrivateStack> {
  const stack = await privateStack(name);
  stacks.push(stack);
  await stack.launcher.up(['nats', 'postgres', 'temporal']);
  // The checkpoint key comes from where the operator keeps it.
  mkdirSync(join(stack.ctx.dataDir, 'audit'), { recursive: true, mode: 0o700 });
  writeFileSync(join(stack.ctx.dataDir, 'audit', 'checkpoint.key'), `${key}\n`, { mode: 0o600 });
  return stack;
}

async function seed(ctx: StackContext, incidents: number): Promise<void> {
  const store = await AuditStore.create({ databaseUrl: postgresUrl(ctx), migrate: false });
  try {
    for (let i = 0; i < incidents; i++) {
      const at = new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString();
      const incident: Incident = {
        id: `bench-${i.toString().padStart(6, '0')}`,
        cluster: 'local',
        title: `checkout-${i % 97} OOMKilled`,
        severity: 'warning',
        status: 'resolved',
        target: { kind: 'Deployment', namespace: 'shop', name: `checkout-${i % 97}` },
        fingerprints: ['0123456789abcdef'],
        signalIds: [`sig-${i}`],
        flapCount: 0,
        openedAt: at,
        updatedAt: at,
      };
      await store.upsertIncident(incident);
      const workflowId = incidentWorkflowId(incident.id);
      const events: AuditEvent[] = Array.from({ length: RECORDS_PER_INCIDENT }, (_, n) => ({
        idempotencyKey: `${workflowId}/state/${n + 1}`,
        incidentId: incident.id,
        workflowId,
        kind: 'workflow.state' as const,
        actor: 'worker',
        occurredAt: new Date(Date.parse(at) + n * 1000).toISOString(),
        payload: { sequence: n + 1, to: WORKFLOW_STATES[n % WORKFLOW_STATES.length], evidence: 'x'.repeat(400) },
      }));
      await store.appendMany(events);
    }
    const signed = await new AuditCheckpointer(store, new FileCheckpointStore(auditCheckpointFile(ctx)), { current: auditCheckpointKey(ctx) }).checkpoint();
    if (!signed.ok) throw new Error('the seeded chain does not verify');
  } finally {
    await store.close();
  }
}

interface Row {
  readonly case: string;
  readonly what: string;
  readonly backup: number;
  readonly restore: number;
  readonly mib: number;
}

async function measure(label: string, source: StackContext, target: (name: string) => Promise<PrivateStack>): Promise<Row[]> {
  const tools = await pgTools(source);
  // Baseline: pg_dump and pg_restore of the same database alone.
  const dumpFile = join(scratch, `${label}-baseline.dump`);
  let started = performance.now();
  await dumpDatabase(tools, postgresUrl(source), dumpFile);
  const dumpSeconds = seconds(started);
  const baselineTarget = await target(`${label}-baseline`);
  started = performance.now();
  await restoreDatabase(tools, postgresUrl(baselineTarget.ctx, 'postgres'), POSTGRES_DATABASE, dumpFile);
  const pgRestoreSeconds = seconds(started);
  const baselineMib = statSync(dumpFile).size / 1024 / 1024;

  started = performance.now();
  const backup = await backupStack(source, { into: join(scratch, label) });
  const backupSeconds = seconds(started);
  const restoreTarget = await target(`${label}-restore`);
  started = performance.now();
  const restored = await restoreStack(restoreTarget.launcher, backup.dir);
  const restoreSeconds = seconds(started);
  const parts = `${backup.manifest.files.length} files; Temporal ${((backup.manifest.files.find((f) => f.path.startsWith('temporal/'))?.bytes ?? 0) / 1024 / 1024).toFixed(1)} MiB, ${backup.manifest.temporalSqlite?.executions ?? 0} runs; audit ${restored.audit?.rows ?? 0} rows verified`;
  return [
    { case: label, what: 'pg_dump + pg_restore of the database alone (baseline)', backup: dumpSeconds, restore: pgRestoreSeconds, mib: baselineMib },
    { case: label, what: `make backup + make restore (${parts})`, backup: backupSeconds, restore: restoreSeconds, mib: backup.bytes / 1024 / 1024 },
  ];
}

const rows: Row[] = [];
try {
  const shared = sharedStack().ctx;
  const sharedKey = auditCheckpointKey(shared);
  rows.push(...(await measure('local stack after make demo', shared, (name) => fresh(name, sharedKey))));

  const seeded = await privateStack('backup-bench-seeded');
  stacks.push(seeded);
  await seeded.launcher.up(['nats', 'postgres', 'temporal']);
  const started = performance.now();
  await seed(seeded.ctx, options.incidents);
  process.stdout.write(`seeded ${options.incidents} incidents (${options.incidents * RECORDS_PER_INCIDENT} audit records) in ${seconds(started).toFixed(1)} s\n`);
  const seededKey = auditCheckpointKey(seeded.ctx);
  rows.push(...(await measure(`${options.incidents} incidents`, seeded.ctx, (name) => fresh(name, seededKey))));
} finally {
  for (const stack of stacks) await stack.dispose();
  rmSync(scratch, { recursive: true, force: true });
}

const header = ['case', 'what', 'backup s', 'restore s', 'size MiB'];
const lines = rows.map((r) => [r.case, r.what, r.backup.toFixed(2), r.restore.toFixed(2), r.mib.toFixed(2)]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
process.stdout.write(`${[line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n')}\n`);
