import { STREAMS } from '@cortexops/contracts';
import { ensureJetStreamLayout } from '@cortexops/messaging';
import { privateStack, spawnService, type PrivateStack, type ServiceProcess, natsConnectOptions, natsEnv } from '@cortexops/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signals, waitFor } from './support.js';

/** Its own NATS, so the real service (default stream names) can be killed mid-stream without touching anyone else. */
let stack: PrivateStack;
let nc: NatsConnection;
const running: ServiceProcess[] = [];
const TOTAL = 3000;

beforeAll(async () => {
  stack = await privateStack('ingkill');
  await stack.launcher.up(['nats']);
  nc = await connect(natsConnectOptions(stack.ctx));
});

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await nc?.close();
  await stack?.dispose();
});

describe('ingestion — crash safety', () => {
  it('ingestion — killed with SIGKILL mid-stream and restarted, it loses nothing and publishes nothing twice', async () => {
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    await ensureJetStreamLayout(jsm);
    for (let i = 0; i < TOTAL; i++) {
      const envelope = { source: 'custom', payload: { title: `event ${i}`, severity: 'warning', namespace: 'demo', key: `kill-${i}` } };
      await js.publish('telemetry.custom', Buffer.from(JSON.stringify(envelope)));
    }
    const env = { ...natsEnv(stack.ctx), CORTEXOPS_JS_ACK_WAIT_MS: '2000', CORTEXOPS_JS_BATCH_SIZE: '64' };
    const first = await spawnService('ingestion', env);
    running.push(first);
    await first.waitForHealth((status) => status === 200);
    await waitFor('some signals before the kill', async () => {
      const n = (await jsm.streams.info(STREAMS.signals)).state.messages;
      return n >= 200 ? n : undefined;
    });
    first.child.kill('SIGKILL');
    const killedAt = (await jsm.streams.info(STREAMS.signals)).state.messages;
    expect(killedAt).toBeLessThan(TOTAL);

    const second = await spawnService('ingestion', env);
    running.push(second);
    await second.waitForHealth((status) => status === 200);
    await waitFor(
      'every signal after the restart',
      async () => {
        const ci = await jsm.consumers.info(STREAMS.telemetry, 'ingestion');
        return ci.num_pending === 0 && ci.num_ack_pending === 0 ? ci : undefined;
      },
      90_000,
    );
    const all = await signals(nc, STREAMS.signals);
    expect(all).toHaveLength(TOTAL);
    expect(new Set(all.map((s) => s.title)).size).toBe(TOTAL);
    expect((await jsm.streams.info(STREAMS.deadLetter)).state.messages).toBe(0);
    expect(await second.terminate()).toBe(0);
  });
});
