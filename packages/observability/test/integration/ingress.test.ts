import { PassThrough } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { chunkedUpload } from '@cortexops/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runService, type ServiceHandle } from '../../src/index.js';

/**
 * A load generator on its own thread (its own event loop, so it does not slow the server down by sharing one): an open
 * loop of `rate` GET requests per second for `seconds`, over keep-alive sockets; answers counted by status.
 */
const FLOOD = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, rate, seconds } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const byStatus = {};
let sent = 0, answered = 0, errors = 0;
const started = Date.now();
const one = () => {
  sent++;
  const req = http.get(url, { agent }, (res) => {
    res.resume();
    res.on('end', () => { answered++; byStatus[res.statusCode] = (byStatus[res.statusCode] || 0) + 1; });
  });
  req.on('error', () => { errors++; });
};
const tick = setInterval(() => {
  const due = Math.floor(((Date.now() - started) / 1000) * rate);
  while (sent < due && sent < rate * seconds) one();
  if (Date.now() - started >= seconds * 1000) {
    clearInterval(tick);
    const deadline = Date.now() + 10000;
    const wait = setInterval(() => {
      if (answered + errors >= sent || Date.now() > deadline) {
        clearInterval(wait);
        agent.destroy();
        parentPort.postMessage({ sent, answered, errors, byStatus, seconds: (Date.now() - started) / 1000 });
      }
    }, 20);
  }
}, 5);
`;

interface FloodResult {
  readonly sent: number;
  readonly answered: number;
  readonly errors: number;
  readonly byStatus: Record<string, number>;
  readonly seconds: number;
}

function flood(url: string, rate: number, seconds: number): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(FLOOD, { eval: true, workerData: { url, rate, seconds } });
    worker.once('message', (result: FloodResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

describe('observability — bounded ingress on the shared HTTP server', () => {
  let service: ServiceHandle;
  let liveChecks = 0;

  beforeAll(async () => {
    service = await runService(
      'ingress-test',
      { port: 0, httpHost: '127.0.0.1', logLevel: 'warn', shutdownTimeoutMs: 5000 },
      async (context) => {
        context.http.post('/echo', async (request) => ({ bytes: JSON.stringify(request.body).length }));
        return {
          // A dependency whose check costs 20 ms, like a database round trip.
          checks: [{ name: 'postgres', required: true, check: async () => void (liveChecks++, await new Promise((r) => setTimeout(r, 20))) }],
          stop: async () => {},
        };
      },
      { installSignalHandlers: false, logDestination: new PassThrough() },
    );
  });
  afterAll(async () => {
    await service?.shutdown('test over');
  });

  it('a 10,000 req/s flood of /debug/healthz for 3 s keeps readiness up (every answer 200) and runs the live check only a few times', async () => {
    liveChecks = 0;
    const result = await flood(`${service.address}/debug/healthz`, 10_000, 3);
    console.log(
      `health flood: offered 10,000 req/s for 3 s, sent ${result.sent}, answered ${result.answered} in ${result.seconds.toFixed(1)} s (${Math.round(result.answered / result.seconds)} req/s), statuses ${JSON.stringify(result.byStatus)}, errors ${result.errors}, live checks ${liveChecks}`,
    );
    expect(result.errors).toBe(0);
    expect(result.answered).toBe(result.sent);
    expect(Object.keys(result.byStatus)).toEqual(['200']);
    // At most one live check per 2 s interval while requests keep coming (the offered 3 s, plus however long the server
    // took to answer them all on a loaded machine), whatever the rate: tens of thousands of requests, a handful of checks.
    expect(liveChecks).toBeGreaterThanOrEqual(1);
    expect(liveChecks).toBeLessThanOrEqual(Math.ceil(result.seconds / 2) + 1);
  });

  it('a chunked 100 MB body to a JSON route is refused (413) once it passes the 1 MiB limit, the connection closed, the heap not grown by it', async () => {
    const outcome = await chunkedUpload(`${service.address}/echo`, { totalBytes: 100 * 1024 * 1024, headers: { 'content-type': 'application/json' } });
    console.log(`chunked 100 MB JSON body: answered ${outcome.status} after ${(outcome.sentBytes / 1024 / 1024).toFixed(1)} MB sent; heap+buffers grew at most ${(outcome.peakGrowthBytes / 1024 / 1024).toFixed(1)} MB`);
    expect(outcome).toMatchObject({ status: 413, connection: 'close' });
    expect(outcome.sentBytes).toBeLessThan(100 * 1024 * 1024);
    expect(outcome.peakGrowthBytes).toBeLessThan(32 * 1024 * 1024);
    expect((await fetch(`${service.address}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ok":true}' })).status).toBe(200);
  });
});
