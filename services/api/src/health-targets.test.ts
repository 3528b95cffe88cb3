import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthTargetCheck } from './health-targets.js';

describe('api health targets — one component of the aggregated /debug/healthz', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/ok') return void response.writeHead(200).end('ok');
      if (request.url === '/service-down') {
        return void response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'down', dependencies: { temporal: { status: 'down', lastError: 'connection refused' }, nats: { status: 'up' } } }));
      }
      response.writeHead(500).end('  boom  ');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const run = (url: string, caFile?: string) => healthTargetCheck({ name: 'x', url }, caFile).check(AbortSignal.timeout(2000));

  it('is up on 2xx and never required', async () => {
    await expect(run(`${base}/ok`)).resolves.toBeUndefined();
    expect(healthTargetCheck({ name: 'x', url: `${base}/ok` }).required).toBe(false);
  });

  it("names a CortexOps service's own dependencies that are down", async () => {
    await expect(run(`${base}/service-down`)).rejects.toThrow(/answered 503: temporal down \(connection refused\)$/);
  });

  it('names the status and the start of any other body', async () => {
    await expect(run(`${base}/other`)).rejects.toThrow(/answered 500: boom$/);
  });

  it('is down with the reason when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(run(`http://127.0.0.1:${port}/ok`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('an https target with an unreadable CA file says so, naming the variable', async () => {
    await expect(run('https://127.0.0.1:9/readyz', '/nonexistent/ca.crt')).rejects.toThrow(/CORTEXOPS_API_HEALTH_CA_FILE/);
  });
});
