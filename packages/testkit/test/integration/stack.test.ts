import { Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { LOCAL_HOST, SERVICE_PORT_DEFAULTS } from '@cortexops/config';
import { HTTP_PATHS, SEARCH_ATTRIBUTES } from '@cortexops/contracts';
import { ensureServers, stackPorts, temporalAddress } from '@cortexops/testkit';

describe('local stack — servers carry the project configuration', () => {
  it('temporal has the workflows search attributes registered', async () => {
    const ctx = await ensureServers(['temporal']);
    const connection = await Connection.connect({ address: temporalAddress(ctx) });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)));
    } finally {
      await connection.close();
    }
  });

  it('prometheus scrapes every service and alerts through the local alertmanager', async () => {
    const ctx = await ensureServers(['prometheus']);
    const base = `http://${LOCAL_HOST}:${stackPorts(ctx).prometheusPort}`;
    const targets = (await (await fetch(`${base}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string; instance: string } }[] } };
    const cortexops = targets.data.activeTargets.filter((t) => t.labels.job === 'cortexops').map((t) => t.labels.instance);
    const expected = Object.keys(SERVICE_PORT_DEFAULTS).map((s) => `${LOCAL_HOST}:${ctx.env[`CORTEXOPS_${s.toUpperCase()}_PORT`] ?? SERVICE_PORT_DEFAULTS[s as keyof typeof SERVICE_PORT_DEFAULTS]}`);
    expect(cortexops.sort()).toEqual(expected.sort());
    const alertmanagers = (await (await fetch(`${base}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: { url: string }[] } };
    expect(alertmanagers.data.activeAlertmanagers.map((a) => a.url)).toEqual([`http://${LOCAL_HOST}:${stackPorts(ctx).alertmanagerPort}/api/v2/alerts`]);
  });

  it('alertmanager sends every alert, resolved ones too, to the ingestion webhook', async () => {
    const ctx = await ensureServers(['alertmanager']);
    const status = (await (await fetch(`http://${LOCAL_HOST}:${stackPorts(ctx).alertmanagerPort}/api/v2/status`)).json()) as { config: { original: string } };
    expect(status.config.original).toContain(`url: http://${LOCAL_HOST}:${ctx.env.CORTEXOPS_INGESTION_PORT ?? SERVICE_PORT_DEFAULTS.ingestion}${HTTP_PATHS.alertmanagerWebhook}`);
    expect(status.config.original).toContain('send_resolved: true');
  });

  it('nats has JetStream enabled with storage in the cache', async () => {
    const ctx = await ensureServers(['nats']);
    const jsz = (await (await fetch(`http://${LOCAL_HOST}:${stackPorts(ctx).natsMonitorPort}/jsz`)).json()) as { config: { store_dir: string } };
    expect(jsz.config.store_dir.startsWith(ctx.cacheDir)).toBe(true);
  });
});
