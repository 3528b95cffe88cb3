import { describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '@cortexops/contracts';
import { ensureServers, spawnService } from '@cortexops/testkit';

describe('services — start against the local stack and stop cleanly', () => {
  it.each(SERVICE_NAMES)('%s reports healthy, serves metrics, and exits 0 on SIGTERM', async (name) => {
    const ctx = await ensureServers(['nats', 'postgres', 'temporal']);
    const service = await spawnService(name, ctx.env);
    try {
      const health = await service.waitForHealth((status) => status === 200, 120_000);
      expect(health.status).toBe('up');
      expect(Object.values(health.dependencies).every((d) => d.status === 'up')).toBe(true);
      const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
      expect(metrics).toContain(`cortexops_process_start_time_seconds{service="${name}"}`);
    } finally {
      const code = await service.terminate();
      expect(code, service.output()).toBe(0);
      expect(service.output()).toContain(`"msg":"${name} stopped"`);
    }
  });
});
