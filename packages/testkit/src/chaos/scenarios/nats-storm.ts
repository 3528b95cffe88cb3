import { setTimeout as sleep } from 'node:timers/promises';
import { CONSUMERS, STREAMS } from '@cortexops/contracts';
import { ChaosEnvironment, podAlert, type WebhookAlert } from '../environment.js';
import { pollUntil } from '../poll.js';
import type { Scenario } from '../runner.js';

const WORKLOADS = 6;
/** Alerts per workload's pod (distinct containers: distinct problems of one Deployment). */
const ALERTS_PER_POD = 20;
/** Alerts per webhook notification, as Alertmanager batches a group. */
const BATCH = 10;
/** The kill lands after this many notifications were taken. */
const KILL_AFTER = 3;
const DOWN_MS = 3_000;

/**
 * NATS killed (SIGKILL) in the middle of an alert storm and started again: the webhook answers 503 while it is down
 * and the notifications are sent again (as Alertmanager does); afterwards every workload has exactly one incident
 * (none lost, none duplicated, one workflow run each) and SIGNALS holds each alert once. No worker runs: the
 * incidents are counted, not remediated.
 */
export const natsKilledDuringStorm: Scenario = {
  name: 'nats-killed-storm',
  title: 'NATS killed during an alert storm and restarted: no incident lost, none duplicated',
  timeoutMs: 240_000,
  async run(ctx) {
    const env = await ChaosEnvironment.start(ctx, 'storm', { ingestion: true, noWorker: true });
    const workloads = Array.from({ length: WORKLOADS }, (_, i) => `shop-${i}`);
    const alerts: WebhookAlert[] = [];
    for (const name of workloads) {
      const { pods } = await env.deploy(name, '256Mi');
      for (let c = 0; c < ALERTS_PER_POD; c++) alerts.push(podAlert(env.namespace, pods[0]!, 'KubePodNotReady', `c${c}`));
    }
    // Interleaved, so that every notification carries several workloads (a storm, not one group at a time).
    const order = alerts.map((_, i) => alerts[(i % WORKLOADS) * ALERTS_PER_POD + Math.floor(i / WORKLOADS)]!);
    const batches = Array.from({ length: Math.ceil(order.length / BATCH) }, (_, i) => order.slice(i * BATCH, (i + 1) * BATCH));
    ctx.step(`storm: ${alerts.length} alerts about ${WORKLOADS} Deployments in ${batches.length} notifications`);

    let retried = 0;
    let restart: Promise<void> | undefined;
    for (const [i, batch] of batches.entries()) {
      if (i === KILL_AFTER) {
        const pid = env.killServer('nats');
        ctx.step(`NATS (pid ${pid}) killed with SIGKILL after ${KILL_AFTER} notifications; back in ${DOWN_MS / 1000} s`);
        restart = sleep(DOWN_MS, undefined, { signal: ctx.signal }).then(async () => {
          await env.startServer('nats');
          ctx.step('NATS started again');
        });
      }
      retried += (await env.notify(`{}:{storm="${i}"}`, batch)) - 1;
    }
    await restart;
    ctx.check('notifications refused while NATS was down, then taken', retried > 0, `${retried} retries`);

    const jsm = await env.nc.jetstreamManager();
    await pollUntil(ctx, 'ingestion and the correlator caught up (nothing pending, nothing unacknowledged)', async () => {
      const consumers = await Promise.all([jsm.consumers.info(STREAMS.telemetry, CONSUMERS.ingestion), jsm.consumers.info(STREAMS.signals, CONSUMERS.correlator)]);
      return consumers.every((c) => c.num_pending === 0 && c.num_ack_pending === 0) ? true : undefined;
    });
    const signals = (await jsm.streams.info(STREAMS.signals)).state.messages;
    ctx.check('SIGNALS holds each alert once', signals === alerts.length, `${signals} signals for ${alerts.length} alerts`);
    const incidents = await pollUntil(ctx, `${WORKLOADS} incidents visible`, async () => {
      const found = await env.incidents();
      return found.length >= WORKLOADS ? found : undefined;
    });
    const targets = incidents.map((i) => i.target).sort();
    const expected = workloads.map((w) => `Deployment ${env.namespace}/${w}`).sort();
    ctx.check('no incident lost: one per Deployment', JSON.stringify(targets) === JSON.stringify(expected), targets.map((t) => t.split('/')[1]).join(', '));
    ctx.check('none duplicated: one workflow run each', incidents.length === WORKLOADS && incidents.every((i) => i.runs === 1), `${incidents.length} incidents, runs ${incidents.map((i) => i.runs).join(',')}`);
    ctx.conclude(`${alerts.length} alerts in ${batches.length} notifications, NATS SIGKILLed after ${KILL_AFTER} and back after ${DOWN_MS / 1000} s (${retried} notifications retried); SIGNALS ${signals}/${alerts.length}; ${incidents.length} incidents for ${WORKLOADS} Deployments, one run each`);
  },
};
