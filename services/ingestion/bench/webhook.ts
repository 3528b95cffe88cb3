/**
 * The webhook against Alertmanager's own API v2, in the same run with the same client: batches of alerts naming pods
 * posted to a second Alertmanager (started here, its receiver drops everything) and to the ingestion service (its own
 * process, as deployed: TELEMETRY consumer running, owner chains from its informers). Both answer once they stored the
 * batch. Also the service's peak RSS for one 10,000-alert body.
 */
import { readFileSync } from 'node:fs';
import { HTTP_PATHS } from '@cortexops/contracts';
import { spawnService, startAlertmanager, type ServiceProcess } from '@cortexops/testkit';
import { alertmanagerApiBody, kubePrometheusAlerts, webhookBody, type PodName } from './alerts.js';

export interface WebhookBenchOptions {
  readonly natsUrl: string;
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
  readonly webhookAlertsPerSecond: number;
  readonly alertmanagerAlertsPerSecond: number;
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

export async function webhookVsAlertmanager(options: WebhookBenchOptions): Promise<WebhookBenchResult> {
  const alertmanager = await startAlertmanager();
  let service: ServiceProcess | undefined;
  try {
    service = await spawnService('ingestion', {
      CORTEXOPS_NATS_URL: options.natsUrl,
      CORTEXOPS_KUBECONFIG: options.kubeconfig,
      CORTEXOPS_INGESTION_WATCH_EVENTS: 'false',
      CORTEXOPS_LOG_LEVEL: 'warn',
      NODE_OPTIONS: '--max-old-space-size=320 --max-semi-space-size=32',
    });
    await service.waitForHealth((status) => status === 200);
    const pid = service.child.pid ?? 0;
    const webhookUrl = `${service.baseUrl}${HTTP_PATHS.alertmanagerWebhook}`;

    // One group of 10,000 alerts in one body, exactly as Alertmanager sends it with max_alerts: 0.
    const started = peakRssMiB(pid);
    const large = webhookBody(kubePrometheusAlerts(10_000, options.pods, 'large'), 'outage');
    const t0 = performance.now();
    await drive(webhookUrl, [large], 10_000, 1);
    const largeBodyMs = performance.now() - t0;
    const afterLargeBody = peakRssMiB(pid);
    await options.settled(10_000);

    let webhook = 0;
    let api = 0;
    for (let round = 1; round <= options.rounds; round++) {
      const alerts = kubePrometheusAlerts(options.alerts, options.pods, `r${round}`);
      const groups = batches(alerts, options.batch);
      const w = await drive(webhookUrl, groups.map((g, i) => webhookBody(g, `g${round}-${i}`)), options.batch, options.concurrency);
      await options.settled(options.alerts);
      const a = await drive(`${alertmanager.url}/api/v2/alerts`, groups.map(alertmanagerApiBody), options.batch, options.concurrency);
      process.stderr.write(`round ${round}: webhook ${w.toFixed(0)} alerts/s, Alertmanager API v2 ${a.toFixed(0)} alerts/s\n`);
      webhook = Math.max(webhook, w);
      api = Math.max(api, a);
    }
    return { webhookAlertsPerSecond: webhook, alertmanagerAlertsPerSecond: api, rssMiB: { started, afterLargeBody }, largeBodyBytes: Buffer.byteLength(large), largeBodyMs };
  } finally {
    await service?.terminate();
    await alertmanager.stop();
  }
}
