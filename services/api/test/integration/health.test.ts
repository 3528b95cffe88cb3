import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServers, privateStack, spawnService, type PrivateStack, type ServiceProcess, natsEnv } from '@cortexops/testkit';

describe('api — /debug/healthz follows its dependencies', () => {
  let nats: PrivateStack;
  let api: ServiceProcess;

  beforeAll(async () => {
    const shared = await ensureServers(['temporal', 'postgres']);
    // NATS of its own, so that stopping it disturbs no other test.
    nats = await privateStack('health-nats');
    await nats.launcher.up(['nats']);
    api = await spawnService('api', {
      ...Object.fromEntries(['CORTEXOPS_TEMPORAL_PORT', 'CORTEXOPS_POSTGRES_PORT'].map((v) => [v, shared.env[v]])),
      ...natsEnv(nats.ctx),
    });
  });
  afterAll(async () => {
    await api?.terminate();
    await nats?.dispose();
  });

  it('reports a stopped dependency down with its reason (503), then up again after restart', async () => {
    await api.waitForHealth((status) => status === 200);

    await nats.launcher.down(['nats']);
    const down = await api.waitForHealth((status, body) => status === 503 && body.dependencies.nats?.status === 'down');
    expect(down.status).toBe('down');
    expect(down.dependencies.nats?.lastError).toBeTruthy();
    expect(down.dependencies.temporal?.status).toBe('up');
    expect(down.dependencies.postgres?.status).toBe('up');

    await nats.launcher.up(['nats']);
    const up = await api.waitForHealth((status, body) => status === 200 && body.dependencies.nats?.status === 'up');
    expect(up.status).toBe('up');
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const code = await api.terminate();
    expect(code).toBe(0);
    expect(api.output()).toContain('"msg":"api stopped"');
  });
});
