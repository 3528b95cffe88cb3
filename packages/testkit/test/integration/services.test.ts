import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '@cortexops/contracts';
import { createTestNamespace, ensureServers, privateStack, spawnService, type PrivateStack, natsEnv } from '@cortexops/testkit';

/**
 * Each service started as a process of its own. Not on the stack's NATS and Temporal namespace: a second
 * correlator would share the stack's durable consumer (and take signals of `make demo`), a second worker would
 * poll the stack's task queue (and run the demo's activities without the stack's kubeconfig and policy data).
 */
describe('services — start against the local stack and stop cleanly', () => {
  let nats: PrivateStack;
  let env: Record<string, string>;

  beforeAll(async () => {
    // The worker's health checks Prometheus too (not required, but reported).
    const ctx = await ensureServers(['postgres', 'temporal', 'prometheus']);
    nats = await privateStack('services-nats');
    await nats.launcher.up(['nats']);
    env = {
      ...ctx.env,
      ...natsEnv(nats.ctx),
      CORTEXOPS_TEMPORAL_NAMESPACE: await createTestNamespace(ctx, 'services'),
      // The api's aggregated health defaults to the local stack's components, which other tests start and stop: only
      // its own connections here, so every dependency it reports is one this test provides.
      CORTEXOPS_API_HEALTH_TARGETS: 'none',
    };
  });

  afterAll(async () => {
    await nats?.dispose();
  });

  it.each(SERVICE_NAMES)('%s reports healthy, serves metrics, and exits 0 on SIGTERM', async (name) => {
    // Each service as its own NATS user (approvals has none: it does not use NATS).
    const service = await spawnService(name, name === 'approvals' ? env : { ...env, ...natsEnv(nats.ctx, name) });
    try {
      const health = await service.waitForHealth((status) => status === 200, 120_000);
      expect(health.status).toBe('up');
      const down = Object.entries(health.dependencies).filter(([, d]) => d.status !== 'up');
      expect(down, JSON.stringify(health)).toEqual([]);
      const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
      expect(metrics).toContain(`cortexops_process_start_time_seconds{service="${name}"}`);
    } finally {
      const code = await service.terminate();
      expect(code, service.output()).toBe(0);
      expect(service.output()).toContain(`"msg":"${name} stopped"`);
    }
  });
});
