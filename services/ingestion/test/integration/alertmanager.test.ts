import { LOCAL_HOST } from '@cortexops/config';
import { freePort, natsUrl, privateStack, stackPorts, type PrivateStack } from '@cortexops/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedNames, signals, startInProcess, waitFor, type InProcessIngestion } from './support.js';

/**
 * The real Alertmanager of a private stack posts its webhook (payload version 4) to this ingestion, which
 * listens on the CORTEXOPS_INGESTION_PORT the stack's Alertmanager configuration was rendered with.
 */
let stack: PrivateStack;
let ingestion: InProcessIngestion;
let nc: NatsConnection;
const names = isolatedNames('am');
let alertmanagerUrl: string;

beforeAll(async () => {
  // privateStack copies process.env: give its Alertmanager a webhook port nobody else uses.
  process.env.CORTEXOPS_INGESTION_PORT = String(await freePort());
  stack = await privateStack('am');
  await stack.launcher.up(['nats', 'alertmanager']);
  const ingestionPort = stack.ctx.env.CORTEXOPS_INGESTION_PORT;
  if (!ingestionPort) throw new Error('private stack has no CORTEXOPS_INGESTION_PORT');
  alertmanagerUrl = `http://${LOCAL_HOST}:${stackPorts(stack.ctx).alertmanagerPort}`;
  ingestion = await startInProcess({ CORTEXOPS_NATS_URL: natsUrl(stack.ctx), CORTEXOPS_INGESTION_PORT: ingestionPort }, { layout: names, durable: names.durable });
  nc = await connect({ servers: natsUrl(stack.ctx) });
});

afterAll(async () => {
  await ingestion?.handle.shutdown('test done');
  await nc?.close();
  await stack?.dispose();
});

async function postAlerts(alerts: unknown[]): Promise<void> {
  const response = await fetch(`${alertmanagerUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  expect(response.status).toBe(200);
}

describe('ingestion — Alertmanager webhook', () => {
  it('ingestion — a firing alert posted to Alertmanager arrives on SIGNALS with its groupKey, then its resolution', async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const labels = { alertname: 'CheckoutHighErrorRate', namespace: 'demo', deployment: 'checkout', severity: 'critical', pod: 'checkout-7d9f-abcde' };
    await postAlerts([{ labels, annotations: { summary: 'checkout 5xx above 5%' }, startsAt, generatorURL: 'http://prometheus/graph' }]);
    const firing = await waitFor(
      'firing signal',
      async () => (await signals(nc, names.streams.signals)).find((s) => s.status === 'firing' && s.reason === 'CheckoutHighErrorRate'),
      60_000,
    );
    expect(firing).toMatchObject({
      source: 'alertmanager',
      namespace: 'demo',
      object: { kind: 'Pod', name: 'checkout-7d9f-abcde' },
      severity: 'critical',
      title: 'checkout 5xx above 5%',
      labels: { alertname: 'CheckoutHighErrorRate', deployment: 'checkout' },
    });
    expect(firing.groupKey).toContain('CheckoutHighErrorRate');
    expect(firing.endsAt).toBeUndefined();

    await postAlerts([{ labels, annotations: { summary: 'checkout 5xx above 5%' }, startsAt, endsAt: new Date().toISOString() }]);
    const resolved = await waitFor(
      'resolved signal',
      async () => (await signals(nc, names.streams.signals)).find((s) => s.status === 'resolved' && s.reason === 'CheckoutHighErrorRate'),
      60_000,
    );
    expect(resolved.fingerprint).toBe(firing.fingerprint);
    expect(resolved.groupKey).toBe(firing.groupKey);
    expect(resolved.endsAt).toBeDefined();
  });
});
