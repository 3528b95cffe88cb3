/**
 * The webhook against Alertmanager's own API v2, in the same run with the same client: batches of alerts naming pods
 * posted to a second Alertmanager (started here, its receiver drops everything) and to the ingestion service in its own
 * process, owner chains from its informers: a webhook-only replica, and one whose TELEMETRY consumer turns the same
 * alerts into signals meanwhile. Each answers once it stored the batch. Also the service's peak RSS for one 10,000-alert
 * body.
 */
import { readFileSync } from 'node:fs';
import { HTTP_PATHS } from '@cortexops/contracts';
import { spawnService, startAlertmanager, type ServiceProcess } from '@cortexops/testkit';
import { alertmanagerApiBody, kubePrometheusAlerts, webhookBody, type PodName } from './alerts.js';

export interface WebhookBenchOptions {
  /** How the service reaches the bench's NATS (testkit `natsEnv`: URL, and credentials and CA when it has accounts). */
  readonly natsEnv: Record<string, string>;
  readonly kubeconfig: string;
  readonly pods: readonly PodName[];
  readonly alerts: number;
  readonly batch: number;
  readonly concurrency: number;
  readonly rounds: number;
  /** Resolves once the service's consumer has turned `count` more telemetry messages into signals (idle again). */
  readonly settled: (count: number) => Promise<void>;
}

export interface WebhookBenchResult {
  /** A webhook-only replica (CORTEXOPS_INGESTION_CONSUME=false): only what Alertmanager waits for. */
  readonly webhookOnlyAlertsPerSecond: number;
  /** A replica that also consumes TELEMETRY (its consumer turning the same alerts into signals meanwhile). */
  readonly webhookAlertsPerSecond: number;
  readonly alertmanagerAlertsPerSecond: number;
  /** Webhook-only ÷ Alertmanager of each round (the two measured back to back), for a loaded machine whose load moves. */
  readonly roundRatios: readonly number[];
  /** Peak RSS (VmHWM) of the service process after start-up and after one 10,000-alert body, in MiB. */
  readonly rssMiB: { readonly started: number; readonly afterLargeBody: number };
  readonly largeBodyBytes: number;
  readonly largeBodyMs: number;
}

function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

/** The one client both targets get: `concurrency` requests in flight, each body posted once; alerts per second. */
async function drive(url: string, bodies: readonly string[], alertsPerBody: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await response.text();
      if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return (bodies.length * alertsPerBody) / ((performance.now() - started) / 1000);
}

function batches<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

function startService(options: WebhookBenchOptions, consume: boolean): Promise<ServiceProcess> {
  return spawnService('ingestion', {
    ...options.natsEnv,
    CORTEXOPS_KUBECONFIG: options.kubeconfig,
    CORTEXOPS_INGESTION_WATCH_EVENTS: 'false',
    CORTEXOPS_INGESTION_CONSUME: String(consume),
    NODE_OPTIONS: '--max-old-space-size=320 --max-semi-space-size=32',
  });
}

export async function webhookVsAlertmanager(options: WebhookBenchOptions): Promise<WebhookBenchResult> {
  const alertmanager = await startAlertmanager();
  const services: ServiceProcess[] = [];
  try {
    const url = (service: ServiceProcess) => `${service.baseUrl}${HTTP_PATHS.alertmanagerWebhook}`;
    const bodies = (tag: string, round: number) => {
      const groups = batches(kubePrometheusAlerts(options.alerts, options.pods, `${tag}${round}`), options.batch);
      return { webhook: groups.map((g, i) => webhookBody(g, `${tag}${round}-${i}`)), api: groups.map(alertmanagerApiBody) };
    };
    const best = { webhookOnly: 0, webhook: 0, api: 0 };
    const roundRatios: number[] = [];
    // First nothing consumes: Alertmanager and the webhook-only replica alone on the machine, in turns.
    const webhookOnly = await startService(options, false);
    services.push(webhookOnly);
    await webhookOnly.waitForHealth((status) => status === 200);
    for (let round = 1; round <= options.rounds; round++) {
      // Back to back, in alternating order, so that a change of the machine's load favours neither.
      const runA = () => drive(`${alertmanager.url}/api/v2/alerts`, bodies('a', round).api, options.batch, options.concurrency);
      const runO = () => drive(url(webhookOnly), bodies('o', round).webhook, options.batch, options.concurrency);
      const [a, o] = round % 2 === 1 ? [await runA(), await runO()] : await (async () => {
        const first = await runO();
        return [await runA(), first];
      })();
      process.stderr.write(`round ${round}: Alertmanager API v2 ${a.toFixed(0)}, webhook-only replica ${o.toFixed(0)} alerts/s\n`);
      best.api = Math.max(best.api, a);
      best.webhookOnly = Math.max(best.webhookOnly, o);
      roundRatios.push(o / a);
    }
    // Then a replica that consumes too: it first works off what the webhook-only replica stored.
    const consuming = await startService(options, true);
    services.push(consuming);
    await consuming.waitForHealth((status) => status === 200);
    await options.settled(options.alerts * options.rounds);
    const pid = consuming.child.pid ?? 0;
    // One group of 10,000 alerts in one body, exactly as Alertmanager sends it with max_alerts: 0.
    const started = peakRssMiB(pid);
    const large = webhookBody(kubePrometheusAlerts(10_000, options.pods, 'large'), 'outage');
    const t0 = performance.now();
    await drive(url(consuming), [large], 10_000, 1);
    const largeBodyMs = performance.now() - t0;
    const afterLargeBody = peakRssMiB(pid);
    await options.settled(10_000);
    for (let round = 1; round <= options.rounds; round++) {
      const w = await drive(url(consuming), bodies('w', round).webhook, options.batch, options.concurrency);
      await options.settled(options.alerts);
      process.stderr.write(`round ${round}: consuming replica ${w.toFixed(0)} alerts/s\n`);
      best.webhook = Math.max(best.webhook, w);
    }
    return {
      webhookOnlyAlertsPerSecond: best.webhookOnly,
      webhookAlertsPerSecond: best.webhook,
      alertmanagerAlertsPerSecond: best.api,
      roundRatios,
      rssMiB: { started, afterLargeBody },
      largeBodyBytes: Buffer.byteLength(large),
      largeBodyMs,
    };
  } finally {
    for (const service of services) await service.terminate();
    await alertmanager.stop();
  }
}
