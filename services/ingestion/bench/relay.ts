/**
 * Ingestion throughput against baselines measured in the same run, on a private loopback NATS:
 *   - bare relay: nats.js consume → publish → ack, no validation, same batch and concurrency;
 *   - ingestion: the service's TELEMETRY handler (validate, normalise, dedup, publish to SIGNALS, ack);
 *   - nats bench: the Go natscli consumer reading the same kind of stream (consume + ack only).
 * 1 KiB telemetry messages, bounded count. The package script runs it with the ingestion Deployment's V8 flags
 * (deploy/k8s/ingestion.yaml NODE_OPTIONS); both paths share the process, so both get them. Usage: pnpm --filter @cortexops/ingestion bench [messages] [rounds]
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamSpec, loadConfig } from '@cortexops/config';
import { DeadLetterPublisher, ensureDurableConsumer, ensureJetStreamLayout, runPullConsumer, type JetStreamLayout } from '@cortexops/messaging';
import { installGoModule, natsUrl, privateStack, uniqueName } from '@cortexops/testkit';
import { connect, type JetStreamClient, type JetStreamManager, type JsMsg, type PubAck } from 'nats';
import { createTelemetryHandler, FingerprintWindow } from '../src/pipeline.js';

const MESSAGES = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 2);
const NATSCLI_VERSION = 'v0.5.1';
const SIZE = 1024;
const settings = loadConfig(jetstreamSpec, process.env);
const run = promisify(execFile);

function envelope(i: number): Buffer {
  const base = { source: 'custom', payload: { title: `bench event ${i}`, severity: 'warning', namespace: 'demo', object: { kind: 'Deployment', name: 'checkout' }, key: `bench-${i}`, annotations: { pad: '' } } };
  const pad = SIZE - Buffer.byteLength(JSON.stringify(base));
  base.payload.annotations.pad = 'x'.repeat(Math.max(0, pad));
  return Buffer.from(JSON.stringify(base));
}
const bodies = Array.from({ length: MESSAGES }, (_, i) => envelope(i));

async function isolated(jsm: JetStreamManager, name: string): Promise<JetStreamLayout> {
  const tag = uniqueName(name).replace(/[^a-z0-9]/g, '');
  return ensureJetStreamLayout(jsm, {
    streams: { telemetry: `${tag}_T`, signals: `${tag}_S`, deadLetter: `${tag}_D` },
    subjectPrefixes: { telemetry: `${tag}.telemetry`, signals: `${tag}.signals`, deadLetter: `${tag}.deadletter` },
  });
}

async function fill(js: JetStreamClient, layout: JetStreamLayout): Promise<void> {
  const subject = layout.telemetrySubject('custom');
  let pending: Promise<PubAck>[] = [];
  for (const body of bodies) {
    pending.push(js.publish(subject, body));
    if (pending.length >= 512) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
}

async function signalsStored(jsm: JetStreamManager, layout: JetStreamLayout): Promise<number> {
  return (await jsm.streams.info(layout.streams.signals)).state.messages;
}

async function untilStored(jsm: JetStreamManager, layout: JetStreamLayout): Promise<void> {
  const deadline = Date.now() + 300_000;
  while ((await signalsStored(jsm, layout)) < MESSAGES) {
    if (Date.now() > deadline) throw new Error('bench did not finish within 5 minutes');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Bare relay: consume, publish the bytes as they are, ack after the publish is stored. */
async function bareRelay(js: JetStreamClient, jsm: JetStreamManager, layout: JetStreamLayout): Promise<number> {
  await ensureDurableConsumer(jsm, { stream: layout.streams.telemetry, durable: 'relay', ackWaitMs: settings.ackWaitMs, maxDeliver: 5, maxAckPending: settings.batchSize * 4 });
  const started = performance.now();
  const consumer = await js.consumers.get(layout.streams.telemetry, 'relay');
  const out = layout.signalSubject('bench', 'demo');
  // Same shape as runPullConsumer (callback mode, bounded concurrency), minus validation and the dead letter.
  const waiting: JsMsg[] = [];
  let active = 0;
  const pump = (): void => {
    while (active < settings.consumerConcurrency && waiting.length > 0) {
      const msg = waiting.shift() as JsMsg;
      active += 1;
      js.publish(out, msg.data, { msgID: `${msg.info.streamSequence}` })
        .then(
          () => msg.ack(),
          () => msg.nak(),
        )
        .finally(() => {
          active -= 1;
          pump();
        });
    }
  };
  const messages = await consumer.consume({
    max_messages: settings.batchSize,
    callback: (msg) => {
      waiting.push(msg);
      pump();
    },
  });
  await untilStored(jsm, layout);
  const seconds = (performance.now() - started) / 1000;
  messages.stop();
  return seconds;
}

/** The ingestion service's consumer path: runPullConsumer + the TELEMETRY handler, default tuning. */
async function ingestion(js: JetStreamClient, jsm: JetStreamManager, layout: JetStreamLayout): Promise<number> {
  await ensureDurableConsumer(jsm, { stream: layout.streams.telemetry, durable: 'ingestion', ackWaitMs: settings.ackWaitMs, maxDeliver: settings.maxDeliver, maxAckPending: Math.max(settings.batchSize, settings.consumerConcurrency) * 4 });
  const started = performance.now();
  const running = await runPullConsumer(js, {
    stream: layout.streams.telemetry,
    durable: 'ingestion',
    batchSize: settings.batchSize,
    concurrency: settings.consumerConcurrency,
    nakDelayMs: settings.nakDelayMs,
    maxDeliver: settings.maxDeliver,
    deadLetter: new DeadLetterPublisher(js, layout, 'ingestion'),
    handler: createTelemetryHandler({ js, layout, cluster: 'local', window: new FingerprintWindow(60_000), counters: { ingested: () => undefined, dropped: () => undefined } }),
  });
  await untilStored(jsm, layout);
  const seconds = (performance.now() - started) / 1000;
  await running.stop();
  return seconds;
}

/** natscli's Go consumer on a stream of the same messages (consume + ack, nothing published). */
async function natsBench(natsBin: string, server: string, layout: JetStreamLayout): Promise<number> {
  const { stdout, stderr } = await run(
    natsBin,
    ['bench', 'js', 'consume', '--server', server, '--stream', layout.streams.telemetry, '--msgs', String(MESSAGES), '--batch', String(settings.batchSize), '--no-progress'],
    { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const text = `${stdout}\n${stderr}`;
  const match = /([\d,]+)\s+msgs\/sec/.exec(text);
  if (!match?.[1]) throw new Error(`cannot read nats bench output:\n${text}`);
  return MESSAGES / Number(match[1].replace(/,/g, ''));
}

const stack = await privateStack('bench');
try {
  await stack.launcher.up(['nats']);
  const server = natsUrl(stack.ctx);
  const natsDir = await installGoModule(stack.ctx, 'natscli', 'github.com/nats-io/natscli/nats', NATSCLI_VERSION);
  const natsBin = join(natsDir, 'bin', 'nats');
  // As the service connects (no per-request stack capture); relay and ingestion share this connection.
  const nc = await connect({ servers: server, noAsyncTraces: true });
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const best = { relay: Infinity, ingestion: Infinity, go: Infinity };
  /** Node process CPU per event (user + system), less sensitive to other load on a shared machine. */
  const cpuPerEvent = { relay: 0, ingestion: 0, go: 0 };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, fn] of [
      ['relay', bareRelay],
      ['ingestion', ingestion],
      ['go', (_js: JetStreamClient, _jsm: JetStreamManager, layout: JetStreamLayout) => natsBench(natsBin, server, layout)],
    ] as const) {
      const layout = await isolated(jsm, `b${name}`);
      await fill(js, layout);
      const cpuBefore = process.cpuUsage();
      const seconds = await fn(js, jsm, layout);
      const cpu = process.cpuUsage(cpuBefore);
      if (seconds < best[name]) {
        best[name] = seconds;
        cpuPerEvent[name] = (cpu.user + cpu.system) / MESSAGES;
      }
      process.stderr.write(`round ${round} ${name}: ${(MESSAGES / seconds).toFixed(0)} events/s\n`);
      for (const stream of Object.values(layout.streams)) await jsm.streams.delete(stream);
    }
  }
  await nc.close();
  const rate = (s: number) => MESSAGES / s;
  const rows = [
    ['ingestion (validate, normalise, dedup, publish, ack)', rate(best.ingestion), `${cpuPerEvent.ingestion.toFixed(0)} µs`],
    ['bare nats.js relay (consume, publish, ack)', rate(best.relay), `${cpuPerEvent.relay.toFixed(0)} µs`],
    [`Go natscli ${NATSCLI_VERSION} bench js consume (consume, ack)`, rate(best.go), '(separate process)'],
  ] as const;
  console.log(`\n${MESSAGES} × ${SIZE} B telemetry, best of ${ROUNDS} rounds, batch ${settings.batchSize}, concurrency ${settings.consumerConcurrency}, loopback NATS (file storage), Node flags as deployed: ${process.execArgv.filter((a) => a.startsWith('--max')).join(' ') || 'none'}\n`);
  console.log('| run | events/s | ingestion ÷ run | Node CPU per event |');
  console.log('|---|---:|---:|---:|');
  for (const [name, r, cpu] of rows) console.log(`| ${name} | ${r.toFixed(0)} | ${(rate(best.ingestion) / r).toFixed(2)} | ${cpu} |`);
  console.log(`\ngoal: ingestion ≥ 20000 events/s (${rate(best.ingestion) >= 20_000 ? 'met' : 'NOT met'}) and ≥ 0.7 × bare relay (${rate(best.ingestion) / rate(best.relay) >= 0.7 ? 'met' : 'NOT met'})`);
} finally {
  await stack.dispose();
}
