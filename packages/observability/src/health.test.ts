import { describe, expect, it } from 'vitest';
import { HEALTH_CACHE_MS, HealthMonitor } from './health.js';

describe('observability — health report cache', () => {
  it('live checks run at most once per interval: concurrent and repeated reports share one, the next interval checks again', async () => {
    let now = 0;
    let checks = 0;
    let up = true;
    const health = new HealthMonitor('test', { timeoutMs: 100, now: () => now });
    health.add({
      name: 'postgres',
      required: true,
      check: async () => {
        checks += 1;
        if (!up) throw new Error('down');
      },
    });
    const reports = await Promise.all(Array.from({ length: 1000 }, () => health.report()));
    expect(checks).toBe(1);
    expect(new Set(reports).size).toBe(1);
    up = false;
    now = HEALTH_CACHE_MS - 1;
    expect((await health.report()).status).toBe('up');
    expect(checks).toBe(1);
    now = HEALTH_CACHE_MS;
    expect((await health.report()).status).toBe('down');
    expect(checks).toBe(2);
  });

  it('cacheMs 0 checks on every report; a check added later is in the next report at once', async () => {
    let checks = 0;
    const health = new HealthMonitor('test', { timeoutMs: 100, cacheMs: 0 });
    health.add({ name: 'nats', required: true, check: async () => void (checks += 1) });
    await health.report();
    await health.report();
    expect(checks).toBe(2);
    const cached = new HealthMonitor('test', { timeoutMs: 100 });
    await cached.report();
    cached.add({ name: 'nats', required: true, check: async () => {} });
    expect(Object.keys((await cached.report()).dependencies)).toEqual(['nats']);
  });
});
