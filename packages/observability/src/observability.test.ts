import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createHttpServer, createLogger, createMetricsRegistry, HealthMonitor, runService, type DependencyCheck } from './index.js';

function switchable(name: string, required: boolean) {
  let failure: Error | undefined;
  const check: DependencyCheck = {
    name,
    required,
    check: async () => {
      if (failure) throw failure;
    },
  };
  return { check, fail: (message: string) => (failure = new Error(message)), recover: () => (failure = undefined) };
}

function setup() {
  const lines: string[] = [];
  const destination = new PassThrough();
  destination.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
  const logger = createLogger({ service: 'test', level: 'info', destination });
  const { registry, metrics } = createMetricsRegistry('test');
  // Every report live: these tests switch a dependency and look at once (the default cache is tested on its own).
  const health = new HealthMonitor('test', { timeoutMs: 100, metrics, cacheMs: 0 });
  const http = createHttpServer({ logger, registry, health });
  return { logger, lines, registry, health, http };
}

describe('observability — /debug/healthz', () => {
  it('answers 200 with every dependency up, and 503 with the reason when a required one is down', async () => {
    const { health, http } = setup();
    const db = switchable('postgres', true);
    health.add(db.check);
    const up = await http.inject({ method: 'GET', url: '/debug/healthz' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toMatchObject({ status: 'up', dependencies: { postgres: { status: 'up', required: true } } });

    db.fail('connection refused');
    const down = await http.inject({ method: 'GET', url: '/debug/healthz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'down', dependencies: { postgres: { status: 'down', lastError: 'connection refused' } } });

    db.recover();
    const again = await http.inject({ method: 'GET', url: '/debug/healthz' });
    expect(again.statusCode).toBe(200);
    // The last error stays visible after recovery.
    expect(again.json()).toMatchObject({ dependencies: { postgres: { status: 'up', lastError: 'connection refused' } } });
  });

  it('stays 200 when only an optional dependency is down', async () => {
    const { health, http } = setup();
    const qdrant = switchable('qdrant', false);
    qdrant.fail('no route');
    health.add(qdrant.check);
    const response = await http.inject({ method: 'GET', url: '/debug/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'up', dependencies: { qdrant: { status: 'down', lastError: 'no route' } } });
  });

  it('reports a check that hangs as down after the timeout', async () => {
    const { health } = setup();
    health.add({ name: 'nats', required: true, check: () => new Promise(() => {}) });
    const report = await health.report();
    expect(report.dependencies.nats).toMatchObject({ status: 'down', lastError: 'nats did not answer within 100 ms' });
  });
});

describe('observability — /metrics', () => {
  it('exports process metrics and the standard cortexops_ metrics with the service label', async () => {
    const { health, http } = setup();
    health.add(switchable('nats', true).check);
    await health.report();
    const response = await http.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/plain/);
    expect(response.body).toContain('cortexops_process_cpu_seconds_total');
    expect(response.body).toContain('cortexops_dependency_up{dependency="nats",service="test"} 1');
    expect(response.body).toContain('# TYPE cortexops_correlation_latency_seconds histogram');
    // Help texts say what is measured: workflows that ended (the worker), decisions (the correlator), the latency's interval.
    expect(response.body).toMatch(/# HELP cortexops_workflows_total Remediation workflows that ended, by outcome/);
    expect(response.body).toMatch(/# HELP cortexops_correlator_decisions_total Correlator decisions, by decision/);
    expect(response.body).toMatch(/# HELP cortexops_correlation_latency_seconds Correlator: seconds from a decide slot taking a signal to its decision stored/);
  });
});

describe('observability — logger', () => {
  it('writes JSON lines with the service name and redacts secrets', () => {
    const { logger, lines } = setup();
    logger.info({ token: 'xoxb-secret', config: { databaseUrl: 'postgres://u:pw@h/db' }, req: { headers: { authorization: 'Bearer abc' } } }, 'hello');
    logger.flush();
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        const line = lines.join('\n');
        expect(line).not.toContain('xoxb-secret');
        expect(line).not.toContain('pw@h');
        expect(line).not.toContain('Bearer abc');
        const parsed = JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>;
        expect(parsed).toMatchObject({ service: 'test', level: 'info', msg: 'hello', token: '[redacted]' });
        resolve();
      }),
    );
  });
});

describe('observability — service lifecycle', () => {
  const config = { logLevel: 'info', httpHost: '127.0.0.1', port: 0, shutdownTimeoutMs: 5000 } as const;

  it('shuts the service down when a required part ends by itself, and logs why', async () => {
    const destination = new PassThrough();
    let output = '';
    destination.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let failCore!: (error: Error) => void;
    let stopped = 0;
    await runService(
      'lifecycle-test',
      config,
      async () => ({ checks: [], stop: async () => void stopped++, ended: new Promise((_, reject) => (failCore = reject)) }),
      { installSignalHandlers: false, logDestination: destination },
    );
    expect(stopped).toBe(0);
    failCore(new Error('poller crashed'));
    await expect.poll(() => stopped).toBe(1);
    expect(output).toContain('a required part stopped by itself');
    expect(output).toContain('poller crashed');
  });

  it('a part that ends during a requested shutdown is not a failure', async () => {
    const destination = new PassThrough();
    let output = '';
    destination.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let endCore!: () => void;
    let stopped = 0;
    const handle = await runService(
      'lifecycle-test',
      config,
      async () => ({ checks: [], stop: async () => { stopped++; endCore(); }, ended: new Promise<void>((resolve) => (endCore = resolve)) }),
      { installSignalHandlers: false, logDestination: destination },
    );
    await handle.shutdown('test');
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(1);
    expect(output).toContain('lifecycle-test stopped');
    expect(output).not.toContain('stopped by itself');
  });
});
