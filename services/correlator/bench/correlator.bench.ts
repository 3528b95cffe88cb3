/**
 * Correlator benchmarks against baselines measured in the same run, on a private loopback NATS and a private
 * Temporal dev server (nothing shared is loaded or left behind):
 *
 * 1. Correlation latency at an offered load (default 5,000 signals/s of 1 KiB for 10 s), the interval that
 *    `cortexops_correlation_latency_seconds` measures (handler start → decision stored), and publish → decided:
 *      - ack only: the same pull consumer (batch, concurrency) parsing and validating the signal, then acking;
 *      - engine in memory: the same consumer with the pure engine over an in-process Map (no KV);
 *      - correlator: the service itself (KV compare-and-set, signal-with-start on Temporal).
 * 2. Signal published → workflow started (Temporal's own start time), critical signals each opening an incident at
 *    a modest rate, against signal-with-start called directly by this process.
 *
 * Usage: pnpm --filter @cortexops/correlator bench [rate] [seconds] [starts] [deployments] [resolved fraction]
 */
import { Writable } from 'node:stream';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamSpec, loadConfig, loadServiceConfig } from '@cortexops/config';
import { incidentSignal, incidentWorkflowId, type Incident, type Signal, TASK_QUEUES, WORKFLOW_TYPES } from '@cortexops/contracts';
import { cortexopsKvBuckets, DeadLetterPublisher, ensureDurableConsumer, ensureJetStreamLayout, ensureKvBucket, type JetStreamLayout, runPullConsumer } from '@cortexops/messaging';
import { runService } from '@cortexops/observability';
import { createTestNamespace, freePort, natsConnectOptions, natsEnv, privateStack, temporalAddress, uniqueName } from '@cortexops/testkit';
import { Client, Connection } from '@temporalio/client';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { parseSignal, startCorrelator } from '../src/correlator.js';
import { correlate, DEFAULT_MAX_SIGNAL_IDS, type GroupState, groupingOf, isOpen, nodeGroupKey, nodeOf, stateTtlMs } from '../src/engine.js';
import { GroupStore, openGroupBuckets } from '../src/store.js';
import { alertStorm, incidentOpeners, percentile, SIGNAL_BYTES, type Workload } from './workload.js';

const RATE = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 10);
const STARTS = Number(process.argv[4] ?? 200);
const START_RATE = 20;
const GROUPS = Number(process.argv[5] ?? 100);
const RESOLVED = Number(process.argv[6] ?? 0.002);
const COUNT = RATE * SECONDS;
const settings = loadConfig(jetstreamSpec, process.env);
const RULES = { windowMs: 300_000, minSignals: 3, flapWindowMs: 600_000, cooldownMs: 900_000, recurrenceWindowMs: 86_400_000, maxSignalIds: DEFAULT_MAX_SIGNAL_IDS, reopenAfterMs: 600_000, eventQuietMs: 900_000, stateTtlMs: 48 * 3_600_000 };
const T0 = Date.parse('2026-06-01T00:00:00Z');

function indexOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

interface Names {
  readonly tag: string;
  readonly layout: { streams: Record<'telemetry' | 'signals' | 'deadLetter', string>; subjectPrefixes: Record<'telemetry' | 'signals' | 'deadLetter', string> };
}

function namesOf(prefix: string): Names {
  const tag = uniqueName(prefix).replace(/[^a-z0-9]/g, '');
  return {
    tag,
    layout: {
      streams: { telemetry: `${tag}_T`, signals: `${tag}_S`, deadLetter: `${tag}_D` },
      subjectPrefixes: { telemetry: `${tag}.telemetry`, signals: `${tag}.signals`, deadLetter: `${tag}.deadletter` },
    },
  };
}

/** Publishes the workload paced at `rate`/s (core publish into the stream's subjects, like a steady producer). */
async function offer(nc: NatsConnection, subjectPrefix: string, workload: Workload, rate: number, publishedAt: Float64Array, wallAt?: Float64Array): Promise<void> {
  const start = performance.now();
  let next = 0;
  while (next < workload.bodies.length) {
    const due = Math.min(workload.bodies.length, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; next < due; next++) {
      publishedAt[next] = performance.now();
      if (wallAt) wallAt[next] = Date.now();
      nc.publish(`${subjectPrefix}.${workload.subjects[next]}`, workload.bodies[next]);
    }
    await sleep(2);
  }
  await nc.flush();
}

/** Records the first decision of each signal. */
class Recorder {
  readonly handlerMs: number[] = [];
  readonly endToEndMs: number[] = [];
  readonly seen: Uint8Array;
  decided = 0;
  last = 0;
  readonly kinds = new Map<string, number>();
  constructor(
    readonly publishedAt: Float64Array,
    readonly total: number,
  ) {
    this.seen = new Uint8Array(total);
  }
  record(id: string, kind: string, handlerSeconds: number): void {
    const i = indexOf(id);
    if (this.seen[i]) return;
    this.seen[i] = 1;
    const now = performance.now();
    this.decided += 1;
    this.last = now;
    this.handlerMs.push(handlerSeconds * 1000);
    this.endToEndMs.push(now - this.publishedAt[i]!);
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
  }
  async untilDone(what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.decided < this.total) {
      if (Date.now() > deadline) throw new Error(`${what}: only ${this.decided} of ${this.total} signals decided within ${timeoutMs / 1000} s`);
      await sleep(50);
    }
  }
}

interface LatencyRow {
  readonly name: string;
  readonly handler: { p50: number; p99: number; max: number };
  readonly endToEnd: { p50: number; p99: number };
  readonly rate: number;
  readonly cpuUs: number;
  readonly kinds: string;
}

function summarise(name: string, rec: Recorder, started: number, cpu: NodeJS.CpuUsage): LatencyRow {
  const h = [...rec.handlerMs].sort((a, b) => a - b);
  const e = [...rec.endToEndMs].sort((a, b) => a - b);
  const kinds = [...rec.kinds.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  return {
    name,
    handler: { p50: percentile(h, 50), p99: percentile(h, 99), max: h.at(-1) ?? Number.NaN },
    endToEnd: { p50: percentile(e, 50), p99: percentile(e, 99) },
    rate: rec.decided / ((rec.last - started) / 1000),
    cpuUs: (cpu.user + cpu.system) / rec.decided,
    kinds,
  };
}

/** A baseline consumer: the service's pull consumer (same tuning) with `decide` as the handler body. */
async function baseline(nc: NatsConnection, jsm: JetStreamManager, name: string, workload: Workload, decide: (signal: Signal) => string | Promise<string>): Promise<LatencyRow> {
  const names = namesOf(`cb${name.replace(/[^a-z]/g, '')}`);
  const js = nc.jetstream();
  const layout: JetStreamLayout = await ensureJetStreamLayout(jsm, { ...names.layout, settings });
  await ensureDurableConsumer(jsm, { stream: layout.streams.signals, durable: 'bench', ackWaitMs: settings.ackWaitMs, maxDeliver: settings.maxDeliver, maxAckPending: Math.max(settings.batchSize, settings.consumerConcurrency) * 4 });
  const publishedAt = new Float64Array(workload.bodies.length);
  const rec = new Recorder(publishedAt, workload.bodies.length);
  const consumer = await runPullConsumer(js, {
    stream: layout.streams.signals,
    durable: 'bench',
    batchSize: settings.batchSize,
    concurrency: settings.consumerConcurrency,
    nakDelayMs: settings.nakDelayMs,
    maxDeliver: settings.maxDeliver,
    deadLetter: new DeadLetterPublisher(js, layout, 'correlator'),
    handler: async (msg) => {
      const received = performance.now();
      const signal = parseSignal(msg.data);
      const kind = await decide(signal);
      rec.record(signal.id, kind, (performance.now() - received) / 1000);
    },
  });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await offer(nc, names.layout.subjectPrefixes.signals, workload, RATE, publishedAt);
  await rec.untilDone(name, 180_000);
  const cpu = process.cpuUsage(cpuBefore);
  await consumer.stop();
  for (const stream of Object.values(layout.streams)) await jsm.streams.delete(stream);
  return summarise(name, rec, started, cpu);
}

/** The pure engine over an in-process Map: what correlation costs without the KV round trips. */
function inMemoryEngine(): (signal: Signal) => string {
  const groups = new Map<string, GroupState>();
  return (signal) => {
    const nodeOpen = signal.node !== undefined && nodeOf(signal) === undefined && isOpen(groups.get(nodeGroupKey(signal.cluster, signal.node)));
    const grouping = groupingOf(signal, nodeOpen);
    const result = correlate(groups.get(grouping.key), grouping, signal, Date.parse(signal.receivedAt), RULES);
    if (result.state) groups.set(grouping.key, result.state);
    return result.decision.kind;
  };
}

function correlatorEnv(nats: Record<string, string>, temporal: string, namespace: string, port: number): Record<string, string> {
  return {
    ...nats,
    CORTEXOPS_TEMPORAL_ADDRESS: temporal,
    CORTEXOPS_TEMPORAL_NAMESPACE: namespace,
    CORTEXOPS_CORRELATOR_PORT: String(port),
    CORTEXOPS_CORRELATOR_WINDOW_MS: String(RULES.windowMs),
    CORTEXOPS_CORRELATOR_MIN_SIGNALS: String(RULES.minSignals),
    CORTEXOPS_LOG_LEVEL: 'warn',
  };
}

interface CorrelatorRun {
  readonly names: Names;
  readonly rec: Recorder;
  readonly warnings: () => number;
  stop(): Promise<void>;
}

/** The correlator service itself, in this process (the same start-up as main.ts), on its own streams and bucket. */
async function runCorrelator(env: Record<string, string>, prefix: string, total: number, publishedAt: Float64Array): Promise<CorrelatorRun> {
  const names = namesOf(prefix);
  const config = loadServiceConfig('correlator', { ...process.env, ...env });
  let warnings = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      warnings += chunk.toString().split('\n').filter((l) => l.length > 0).length;
      done();
    },
  });
  const rec = new Recorder(publishedAt, total);
  const handle = await runService(
    'correlator',
    config,
    (context) =>
      startCorrelator(config, context, {
        layout: names.layout,
        durable: `${names.tag}_correlator`,
        kvBucket: `${names.tag}_correlator`,
        onDecision: (signal, decision, latency) => rec.record(signal.id, decision.kind, latency),
      }),
    { installSignalHandlers: false, logDestination: sink },
  );
  return { names, rec, warnings: () => warnings, stop: () => handle.shutdown('bench over') };
}

async function correlatorLatency(nc: NatsConnection, jsm: JetStreamManager, env: Record<string, string>, workload: Workload): Promise<LatencyRow & { warnings: number }> {
  const publishedAt = new Float64Array(workload.bodies.length);
  const run = await runCorrelator(env, 'cbcorr', workload.bodies.length, publishedAt);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await offer(nc, run.names.layout.subjectPrefixes.signals, workload, RATE, publishedAt);
  await run.rec.untilDone('correlator', 300_000);
  const cpu = process.cpuUsage(cpuBefore);
  await run.stop();
  for (const stream of Object.values(run.names.layout.streams)) await jsm.streams.delete(stream);
  await jsm.streams.delete(`KV_${run.names.tag}_correlator`);
  await jsm.streams.delete(`KV_${run.names.tag}_correlator_fingerprints`);
  return { ...summarise('correlator (KV compare-and-set + signal-with-start)', run.rec, started, cpu), warnings: run.warnings() };
}

interface StartRow {
  readonly name: string;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function startRow(name: string, delays: number[]): StartRow {
  const sorted = [...delays].sort((a, b) => a - b);
  return { name, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

/** Temporal's start time of each incident's workflow minus the wall-clock time its first step was taken. */
async function startDelays(client: Client, incidentIds: readonly string[], wallAt: Float64Array): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < incidentIds.length; i++) {
    const description = await client.workflow.getHandle(incidentWorkflowId(incidentIds[i]!)).describe();
    delays.push(description.startTime.getTime() - wallAt[i]!);
  }
  return delays;
}

/** Baseline: this process calls signal-with-start itself (no NATS, no correlator), at the same pace. */
async function directStarts(client: Client, workload: Workload): Promise<StartRow> {
  const wallAt = new Float64Array(workload.bodies.length);
  const ids: string[] = [];
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < workload.bodies.length; i++) {
    const due = started + (i * 1000) / START_RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const signal = parseSignal(workload.bodies[i]!);
    const grouping = groupingOf(signal);
    const result = correlate(undefined, grouping, signal, Date.parse(signal.receivedAt), RULES);
    const incident = (result.decision as { incident: Incident }).incident;
    ids.push(incident.id);
    wallAt[i] = Date.now();
    pending.push(
      client.workflow.signalWithStart(WORKFLOW_TYPES.remediation, {
        workflowId: incidentWorkflowId(incident.id),
        taskQueue: TASK_QUEUES.remediation,
        args: [{ incident }],
        signal: incidentSignal,
        signalArgs: [signal],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    );
  }
  await Promise.all(pending);
  return startRow('signal-with-start called directly (no NATS, no correlator)', await startDelays(client, ids, wallAt));
}

async function correlatorStarts(nc: NatsConnection, jsm: JetStreamManager, client: Client, env: Record<string, string>, workload: Workload): Promise<StartRow> {
  const publishedAt = new Float64Array(workload.bodies.length);
  const wallAt = new Float64Array(workload.bodies.length);
  const run = await runCorrelator(env, 'cbstart', workload.bodies.length, publishedAt);
  const incidents: string[] = [];
  await offer(nc, run.names.layout.subjectPrefixes.signals, workload, START_RATE, publishedAt, wallAt);
  await run.rec.untilDone('workflow starts', 120_000);
  for (const body of workload.bodies) {
    const signal = parseSignal(body);
    incidents.push((correlate(undefined, groupingOf(signal), signal, Date.parse(signal.receivedAt), RULES).decision as { incident: Incident }).incident.id);
  }
  const row = startRow('signal published to SIGNALS → workflow started (correlator)', await startDelays(client, incidents, wallAt));
  await run.stop();
  for (const stream of Object.values(run.names.layout.streams)) await jsm.streams.delete(stream);
  return row;
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

const load = loadavg()[0]!.toFixed(2);
const stack = await privateStack('corbench');
try {
  await stack.launcher.up(['nats', 'temporal']);
  // The correlator as its own NATS user; the bench's own connection as admin (it creates its baselines' streams).
  const nats = natsEnv(stack.ctx, 'correlator');
  const temporal = temporalAddress(stack.ctx);
  const namespace = await createTestNamespace(stack.ctx, 'corbench');
  const nc = await connect(natsConnectOptions(stack.ctx));
  const jsm = await nc.jetstreamManager();
  const connection = await Connection.connect({ address: temporal });
  const client = new Client({ connection, namespace });
  const env = correlatorEnv(nats, temporal, namespace, await freePort());

  process.stderr.write(`generating ${COUNT} signals of ${SIGNAL_BYTES} B ...\n`);
  const storm = alertStorm('storm', COUNT, RATE, GROUPS, RESOLVED, T0);
  const rows: LatencyRow[] = [];
  process.stderr.write('phase: ack only\n');
  rows.push(await baseline(nc, jsm, 'ack only (parse + validate, same consumer)', storm, () => 'acked'));
  process.stderr.write('phase: engine in memory\n');
  rows.push(await baseline(nc, jsm, 'engine in memory (no KV, no Temporal)', storm, inMemoryEngine()));
  // As the correlator opens them (TTL, the fingerprint index beside the groups), and without the index (as before
  // issue 9): what routing by fingerprint costs, in the same run.
  for (const indexed of [false, true]) {
    process.stderr.write(`phase: engine + KV store${indexed ? '' : ', no fingerprint index'}\n`);
    const bucket = `${uniqueName('cbkv').replace(/[^a-z0-9]/g, '')}`;
    const ttlMs = stateTtlMs(RULES);
    for (const spec of cortexopsKvBuckets({ names: { correlator: bucket }, correlatorTtlMs: ttlMs, only: ['correlator'] })) await ensureKvBucket(jsm, nc.jetstream(), spec);
    const buckets = await openGroupBuckets(nc.jetstream(), jsm, bucket, ttlMs);
    const store = await GroupStore.create(buckets.groups, { follow: true, ...(indexed ? { fingerprints: { kv: buckets.fingerprints, refreshMs: ttlMs / 2 } } : {}) });
    const name = indexed ? 'engine + KV store (no Temporal)' : 'engine + KV store, no fingerprint index';
    rows.push(await baseline(nc, jsm, name, storm, async (signal) => (await store.apply(signal, Date.parse(signal.receivedAt), RULES)).decision.kind));
    store.close();
    await jsm.streams.delete(`KV_${bucket}`);
    await jsm.streams.delete(`KV_${bucket}_fingerprints`);
  }
  process.stderr.write('phase: correlator\n');
  const service = await correlatorLatency(nc, jsm, env, storm);
  rows.push(service);

  process.stderr.write(`phase: ${STARTS} workflow starts at ${START_RATE}/s, direct\n`);
  const direct = await directStarts(client, incidentOpeners('direct', STARTS, T0));
  process.stderr.write(`phase: ${STARTS} workflow starts at ${START_RATE}/s, through the correlator\n`);
  const viaCorrelator = await correlatorStarts(nc, jsm, client, env, incidentOpeners('viacorr', STARTS, T0));

  await connection.close();
  await nc.close();

  console.log(`\nCorrelation latency: ${COUNT} × ${SIGNAL_BYTES} B signals offered at ${RATE}/s for ${SECONDS} s (${GROUPS} Deployments × 4 problems, 50 nodes, one NotReady, ${(RESOLVED * 100).toFixed(1)}% resolved),`);
  console.log(`batch ${settings.batchSize}, concurrency ${settings.consumerConcurrency}, private loopback NATS (file storage) and Temporal dev server; load average at start ${load}\n`);
  console.log('| run | handler p50 ms | handler p99 ms | handler max ms | publish→done p50 ms | publish→done p99 ms | signals/s | Node CPU per signal |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.handler.p50)} | ${fmt(r.handler.p99)} | ${fmt(r.handler.max)} | ${fmt(r.endToEnd.p50)} | ${fmt(r.endToEnd.p99)} | ${r.rate.toFixed(0)} | ${r.cpuUs.toFixed(0)} µs |`);
  console.log('\nhandler: the interval of cortexops_correlation_latency_seconds (decide slot taken → decision stored); publish→done: published → handled');
  console.log('(for the correlator including the workflow call of the decisions that make one; signals/s: handled per second of the run)');
  console.log(`correlator decisions: ${service.kinds}; log lines at warn or above: ${service.warnings}`);
  const handlerGoal = service.handler.p99 <= 50;
  const e2eGoal = service.endToEnd.p99 <= 50;
  console.log(`goal: p99 ≤ 50 ms — ${cortexopsMetric(handlerGoal)}; publish→done p99 ${e2eGoal ? 'also ≤ 50 ms' : 'above 50 ms'} (${fmt(service.endToEnd.p99)} ms)`);

  console.log(`\nSignal published → workflow started: ${STARTS} critical signals, each its own incident, at ${START_RATE}/s (Temporal's start time − publish wall-clock time)\n`);
  console.log('| run | p50 ms | p99 ms | max ms |');
  console.log('|---|---:|---:|---:|');
  for (const r of [viaCorrelator, direct]) console.log(`| ${r.name} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.max.toFixed(0)} |`);
  console.log(`\ngoal: p99 ≤ 500 ms — ${viaCorrelator.p99 <= 500 ? 'met' : 'NOT met'}`);
} finally {
  await stack.dispose();
}

function cortexopsMetric(met: boolean): string {
  return `${met ? 'met' : 'NOT met'} for cortexops_correlation_latency_seconds`;
}
