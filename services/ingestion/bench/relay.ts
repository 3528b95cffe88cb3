/**
 * Ingestion throughput against baselines measured in the same run, on a private loopback NATS:
 *   - bare relay: nats.js consume → publish → ack, no validation, same batch and concurrency;
 *   - ingestion: the service's TELEMETRY handler (validate, normalise, dedup, publish to SIGNALS, ack), over 1 KiB
 *     custom envelopes, and over Alertmanager alerts as the webhook publishes them (kube-prometheus label sets, 30 %
 *     repeats of earlier alerts that the fingerprint window drops), each with the bench process's peak RSS;
 *   - nats bench: the Go natscli consumer reading the same kind of stream (consume + ack only);
 *   - the webhook against Alertmanager's own API v2 (bench/webhook.ts), batches of 100 alerts naming the local
 *     cluster's pods, the same client, and the service's peak RSS for one 10,000-alert body.
 * Bounded counts. The package script runs it with the ingestion Deployment's V8 flags
 * (deploy/k8s/ingestion.yaml NODE_OPTIONS); both paths share the process, so both get them. Usage: pnpm --filter @cortexops/ingestion bench [messages] [rounds]
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamSpec, loadConfig } from '@cortexops/config';
import { DeadLetterPublisher, ensureDurableConsumer, ensureJetStreamLayout, runPullConsumer, type JetStreamLayout } from '@cortexops/messaging';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ensureServers, installGoModule, kubeconfigPaths, natsCaFile, natsConnectOptions, natsEnv, natsSecured, natsSeedFile, natsUrl, privateStack, uniqueName, VERSIONS } from '@cortexops/testkit';
import { connect, type JetStreamClient, type JetStreamManager, type JsMsg, type PubAck } from 'nats';
import { createTelemetryHandler, FingerprintWindow } from '../src/pipeline.js';
import { alertmanagerGroupMessages, kubePrometheusAlerts, type PodName } from './alerts.js';
import { webhookVsAlertmanager } from './webhook.js';

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
const customBodies = Array.from({ length: MESSAGES }, (_, i) => envelope(i));
/** Alertmanager alerts that repeat an earlier alert (a re-sent group), dropped by the fingerprint window: 3 of every 10. */
const REPEATS = 0.3;
const isRepeat = (i: number) => i % 10 === 3 || i % 10 === 6 || i % 10 === 9;
const UNIQUE_ALERTS = Array.from({ length: MESSAGES }, (_, i) => i).filter((i) => !isRepeat(i)).length;

/** Every pod of the local cluster (the alerts name them, so the webhook's informer knows their owners). */
async function clusterPods(kubeconfig: string): Promise<PodName[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const pods = (await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items.flatMap((p) => (p.metadata?.name && p.metadata.namespace ? [{ namespace: p.metadata.namespace, name: p.metadata.name }] : []));
  if (pods.length === 0) throw new Error('the local cluster has no pods to name');
  return pods;
}

function alertBodies(pods: readonly PodName[]): Buffer[] {
  const unique = kubePrometheusAlerts(UNIQUE_ALERTS, pods, 'consume');
  let next = 0;
  // A repeat is the alert of about ten alerts earlier (as a re-sent group carries it again).
  const alerts = Array.from({ length: MESSAGES }, (_, i) => (isRepeat(i) ? unique[Math.max(0, next - 10)] : unique[next++]) as (typeof unique)[number]);
  // Groups of 100 alerts, stored as the webhook stores them.
  return Array.from({ length: Math.ceil(MESSAGES / 100) }, (_, g) => alertmanagerGroupMessages(alerts.slice(g * 100, (g + 1) * 100), `ns-${g % 50}`)).flat();
}

/** Peak resident memory of this process while `run` runs (sampled every 10 ms), in MiB. */
async function withPeakRss<T>(run: () => Promise<T>): Promise<{ value: T; peakMiB: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const value = await run();
    return { value, peakMiB: Math.max(peak, process.memoryUsage.rss()) / 1024 / 1024 };
  } finally {
    clearInterval(timer);
  }
}

async function isolated(jsm: JetStreamManager, name: string): Promise<JetStreamLayout> {
  const tag = uniqueName(name).replace(/[^a-z0-9]/g, '');
  return ensureJetStreamLayout(jsm, {
    streams: { telemetry: `${tag}_T`, signals: `${tag}_S`, deadLetter: `${tag}_D` },
    subjectPrefixes: { telemetry: `${tag}.telemetry`, signals: `${tag}.signals`, deadLetter: `${tag}.deadletter` },
  });
}

async function fill(js: JetStreamClient, layout: JetStreamLayout, source: 'custom' | 'alertmanager', bodies: readonly Buffer[]): Promise<void> {
  const subject = layout.telemetrySubject(source);
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

async function untilStored(jsm: JetStreamManager, layout: JetStreamLayout, expected = MESSAGES): Promise<void> {
  const deadline = Date.now() + 300_000;
  while ((await signalsStored(jsm, layout)) < expected) {
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
async function ingestion(js: JetStreamClient, jsm: JetStreamManager, layout: JetStreamLayout, expected = MESSAGES): Promise<number> {
  await ensureDurableConsumer(jsm, { stream: layout.streams.telemetry, durable: 'ingestion', ackWaitMs: settings.ackWaitMs, maxDeliver: settings.maxDeliver, maxAckPending: Math.max(settings.batchSize, settings.consumerConcurrency) * 4 });
  const deadLetter = new DeadLetterPublisher(js, layout, 'ingestion');
  const started = performance.now();
  const running = await runPullConsumer(js, {
    stream: layout.streams.telemetry,
    durable: 'ingestion',
    batchSize: settings.batchSize,
    concurrency: settings.consumerConcurrency,
    nakDelayMs: settings.nakDelayMs,
    maxDeliver: settings.maxDeliver,
    deadLetter,
    handler: createTelemetryHandler({ js, layout, cluster: 'local', window: new FingerprintWindow(60_000), deadLetter, counters: { ingested: () => undefined, dropped: () => undefined } }),
  });
  await untilStored(jsm, layout, expected);
  const seconds = (performance.now() - started) / 1000;
  await running.stop();
  return seconds;
}

/** natscli's Go consumer on a stream of the same messages (consume + ack, nothing published). */
async function natsBench(natsBin: string, server: string, credentials: readonly string[], layout: JetStreamLayout): Promise<number> {
  const { stdout, stderr } = await run(
    natsBin,
    ['bench', 'js', 'consume', '--server', server, ...credentials, '--stream', layout.streams.telemetry, '--msgs', String(MESSAGES), '--batch', String(settings.batchSize), '--no-progress'],
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
  // The stack's NATS has accounts and TLS: the admin user's nkey and the local CA (natscli's --nkey and --tlsca).
  const credentials = natsSecured(stack.ctx) ? ['--nkey', natsSeedFile(stack.ctx, 'admin'), '--tlsca', natsCaFile(stack.ctx)] : [];
  const natsDir = await installGoModule(stack.ctx, 'natscli', 'github.com/nats-io/natscli/nats', NATSCLI_VERSION);
  const natsBin = join(natsDir, 'bin', 'nats');
  // As the service connects (no per-request stack capture); relay and ingestion share this connection.
  const nc = await connect({ ...natsConnectOptions(stack.ctx), noAsyncTraces: true });
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const cluster = await ensureServers(['kwok']);
  const kubeconfig = kubeconfigPaths(cluster).admin;
  const pods = await clusterPods(kubeconfig);
  const alertmanagerBodies = alertBodies(pods);
  type Run = 'relay' | 'ingestion' | 'alertmanager' | 'go';
  const best: Record<Run, number> = { relay: Infinity, ingestion: Infinity, alertmanager: Infinity, go: Infinity };
  /** Node process CPU per event (user + system), less sensitive to other load on a shared machine. */
  const cpuPerEvent: Record<Run, number> = { relay: 0, ingestion: 0, alertmanager: 0, go: 0 };
  const peakRss: Record<Run, number> = { relay: 0, ingestion: 0, alertmanager: 0, go: 0 };
  const runs: readonly (readonly [Run, 'custom' | 'alertmanager', (layout: JetStreamLayout) => Promise<number>])[] = [
    ['relay', 'custom', (layout) => bareRelay(js, jsm, layout)],
    ['ingestion', 'custom', (layout) => ingestion(js, jsm, layout)],
    ['alertmanager', 'alertmanager', (layout) => ingestion(js, jsm, layout, UNIQUE_ALERTS)],
    ['go', 'custom', (layout) => natsBench(natsBin, server, credentials, layout)],
  ];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, source, fn] of runs) {
      const layout = await isolated(jsm, `b${name}`);
      await fill(js, layout, source, source === 'custom' ? customBodies : alertmanagerBodies);
      const cpuBefore = process.cpuUsage();
      const { value: seconds, peakMiB } = await withPeakRss(() => fn(layout));
      const cpu = process.cpuUsage(cpuBefore);
      if (seconds < best[name]) {
        best[name] = seconds;
        cpuPerEvent[name] = (cpu.user + cpu.system) / MESSAGES;
      }
      peakRss[name] = Math.max(peakRss[name], peakMiB);
      process.stderr.write(`round ${round} ${name}: ${(MESSAGES / seconds).toFixed(0)} events/s\n`);
      for (const stream of Object.values(layout.streams)) await jsm.streams.delete(stream);
    }
  }
  const signalsNow = async () => (await jsm.streams.info('SIGNALS').catch(() => undefined))?.state.messages ?? 0;
  let signalsSeen = 0;
  const web = await webhookVsAlertmanager({
    natsEnv: natsEnv(stack.ctx),
    kubeconfig,
    pods,
    alerts: MESSAGES,
    batch: 100,
    concurrency: 4,
    rounds: ROUNDS,
    settled: async (count) => {
      const deadline = Date.now() + 300_000;
      while ((await signalsNow()) < signalsSeen + count) {
        if (Date.now() > deadline) throw new Error('the service did not turn the webhook\'s telemetry into signals within 5 minutes');
        await new Promise((r) => setTimeout(r, 50));
      }
      signalsSeen = await signalsNow();
    },
  });
  await nc.close();
  const rate = (s: number) => MESSAGES / s;
  const mib = (n: number) => `${n.toFixed(0)} MiB`;
  const rows = [
    ['ingestion, custom envelopes (validate, normalise, dedup, publish, ack)', rate(best.ingestion), `${cpuPerEvent.ingestion.toFixed(0)} µs`, mib(peakRss.ingestion)],
    [`ingestion, Alertmanager alerts (kube-prometheus label sets, ${REPEATS * 100} % repeats; groups of 100 as the webhook stores them)`, rate(best.alertmanager), `${cpuPerEvent.alertmanager.toFixed(0)} µs`, mib(peakRss.alertmanager)],
    ['bare nats.js relay (consume, publish, ack)', rate(best.relay), `${cpuPerEvent.relay.toFixed(0)} µs`, mib(peakRss.relay)],
    [`Go natscli ${NATSCLI_VERSION} bench js consume (consume, ack)`, rate(best.go), '(separate process)', '—'],
  ] as const;
  console.log(`\n${MESSAGES} telemetry messages (custom: ${SIZE} B), best of ${ROUNDS} rounds, batch ${settings.batchSize}, concurrency ${settings.consumerConcurrency}, loopback NATS (file storage), Node flags as deployed: ${process.execArgv.filter((a) => a.startsWith('--max')).join(' ') || 'none'}; peak RSS is the bench process's (its input included)\n`);
  console.log('| run | events/s | custom-envelope ingestion ÷ run | Node CPU per event | peak RSS |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, r, cpu, rss] of rows) console.log(`| ${name} | ${r.toFixed(0)} | ${(rate(best.ingestion) / r).toFixed(2)} | ${cpu} | ${rss} |`);
  console.log(`\ngoal: ingestion ≥ 20000 events/s (${rate(best.ingestion) >= 20_000 ? 'met' : 'NOT met'}) and ≥ 0.7 × bare relay (${rate(best.ingestion) / rate(best.relay) >= 0.7 ? 'met' : 'NOT met'})`);
  const ratio = web.webhookOnlyAlertsPerSecond / web.alertmanagerAlertsPerSecond;
  console.log(`\n${MESSAGES} alerts naming the local cluster's ${pods.length} pods, batches of 100, 4 requests in flight, one client, best of ${ROUNDS} rounds\n`);
  console.log('| run | alerts/s | ÷ Alertmanager |');
  console.log('|---|---:|---:|');
  console.log(`| Alertmanager ${VERSIONS.alertmanager.version.split('-')[0]} API v2 (second Alertmanager, receiver drops everything) | ${web.alertmanagerAlertsPerSecond.toFixed(0)} | 1.00 |`);
  console.log(`| webhook → TELEMETRY, webhook-only replica (CORTEXOPS_INGESTION_CONSUME=false) | ${web.webhookOnlyAlertsPerSecond.toFixed(0)} | ${ratio.toFixed(2)} |`);
  console.log(`| webhook → TELEMETRY, replica also consuming TELEMETRY → SIGNALS meanwhile | ${web.webhookAlertsPerSecond.toFixed(0)} | ${(web.webhookAlertsPerSecond / web.alertmanagerAlertsPerSecond).toFixed(2)} |`);
  const sorted = [...web.roundRatios].sort((x, y) => x - y);
  console.log(`\nwebhook-only ÷ Alertmanager per round (back to back): ${web.roundRatios.map((r) => r.toFixed(2)).join(', ')}; median ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(2)}`);
  console.log(`\none 10,000-alert webhook body (${(web.largeBodyBytes / 1e6).toFixed(1)} MB): answered in ${web.largeBodyMs.toFixed(0)} ms; service peak RSS ${mib(web.rssMiB.started)} after start-up, ${mib(web.rssMiB.afterLargeBody)} after the body`);
  console.log(`goal: webhook ≥ 1.0 × Alertmanager (webhook-only replica: ${ratio >= 1 ? 'met' : 'NOT met'})`);
} finally {
  await stack.dispose();
}
