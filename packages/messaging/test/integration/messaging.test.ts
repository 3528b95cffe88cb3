import { setTimeout as sleep } from 'node:timers/promises';
import { ensureServers, uniqueName, natsConnectOptions } from '@cortexops/testkit';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeDeadLetter,
  DeadLetterPublisher,
  ensureDurableConsumer,
  ensureJetStreamLayout,
  InvalidMessagingOptionError,
  PermanentMessageError,
  PublishError,
  publishPipelined,
  publishWithId,
  resolveJetStreamLayout,
  runPullConsumer,
  type JetStreamLayout,
  type JetStreamSettings,
  type MessageHandler,
} from '../../src/index.js';

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const layouts: JetStreamLayout[] = [];

beforeAll(async () => {
  const ctx = await ensureServers(['nats']);
  nc = await connect(natsConnectOptions(ctx));
  js = nc.jetstream();
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  for (const layout of layouts) for (const name of Object.values(layout.streams)) await jsm.streams.delete(name).catch(() => false);
  await nc?.close();
});

async function isolatedLayout(settings: Partial<JetStreamSettings> = {}) {
  const tag = uniqueName('msg').replace(/[^a-z0-9]/g, '');
  const layout = await ensureJetStreamLayout(jsm, {
    streams: { telemetry: `${tag}_T`, signals: `${tag}_S`, deadLetter: `${tag}_D` },
    subjectPrefixes: { telemetry: `${tag}.t`, signals: `${tag}.s`, deadLetter: `${tag}.d` },
    settings,
  });
  layouts.push(layout);
  return layout;
}

async function consume(layout: JetStreamLayout, handler: MessageHandler, opts: { concurrency?: number; maxDeliver?: number } = {}) {
  const durable = 'work';
  await ensureDurableConsumer(jsm, { stream: layout.streams.telemetry, durable, ackWaitMs: 5000, maxDeliver: opts.maxDeliver ?? 3, maxAckPending: 100 });
  return runPullConsumer(js, {
    stream: layout.streams.telemetry,
    durable,
    batchSize: 10,
    concurrency: opts.concurrency ?? 4,
    nakDelayMs: 50,
    maxDeliver: opts.maxDeliver ?? 3,
    deadLetter: new DeadLetterPublisher(js, layout, 'ingestion'),
    handler,
  });
}

async function until(probe: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('messaging — JetStream layout', () => {
  it('messaging — ensureJetStreamLayout is idempotent and updates limits in place', async () => {
    const layout = await isolatedLayout({ telemetryMaxMessages: 100 });
    await publishWithId(js, layout.telemetrySubject('custom'), Buffer.from('{}'), 'one');
    const again = await ensureJetStreamLayout(jsm, { streams: layout.streams, subjectPrefixes: layout.subjectPrefixes, settings: { telemetryMaxMessages: 50 } });
    const info = await jsm.streams.info(again.streams.telemetry);
    expect(info.config.max_msgs).toBe(50);
    expect(info.config.discard).toBe('old');
    expect(info.state.messages).toBe(1);
  });

  it('messaging — bad options fail fast and name the option', () => {
    expect(() => resolveJetStreamLayout({ streams: { telemetry: 'has space' } })).toThrow(InvalidMessagingOptionError);
    expect(() => resolveJetStreamLayout({ streams: { telemetry: 'has space' } })).toThrow(/streams\.telemetry/);
    expect(() => resolveJetStreamLayout({ subjectPrefixes: { signals: 'a.*' } })).toThrow(/subjectPrefixes\.signals/);
    expect(() => resolveJetStreamLayout({ subjectPrefixes: { signals: 'x', telemetry: 'x' } })).toThrow(/distinct/);
  });

  it('messaging — subject tokens built from data cannot widen a subject', () => {
    const layout = resolveJetStreamLayout();
    expect(layout.signalSubject('prod.>', '*')).toBe('signals.prod__._');
    expect(layout.telemetrySubject('a b')).toBe('telemetry.a_b');
  });

  it('messaging — publishWithId stores a message id once inside the duplicate window', async () => {
    const layout = await isolatedLayout();
    const a = await publishWithId(js, layout.signalSubject('c', 'n'), Buffer.from('x'), 'same');
    const b = await publishWithId(js, layout.signalSubject('c', 'n'), Buffer.from('x'), 'same');
    expect(b.duplicate).toBe(true);
    expect(b.seq).toBe(a.seq);
  });
});

describe('messaging — pipelined publish', () => {
  it('messaging — publishPipelined stores every message once, with its id, whatever the window', async () => {
    const layout = await isolatedLayout();
    const subject = layout.telemetrySubject('custom');
    const messages = Array.from({ length: 1000 }, (_, i) => ({ subject, data: Buffer.from(`m${i}`), msgId: `pipe-${i % 900}` }));
    await publishPipelined(js, messages, { window: 64 });
    // 100 ids repeat: stored once each.
    expect((await jsm.streams.info(layout.streams.telemetry)).state.messages).toBe(900);
    await publishPipelined(js, messages.slice(0, 10), { window: 1 });
    expect((await jsm.streams.info(layout.streams.telemetry)).state.messages).toBe(900);
    await publishPipelined(js, []);
  });

  it('messaging — publishPipelined refuses a bad window and fails with PublishError when no stream takes a subject', async () => {
    const layout = await isolatedLayout();
    for (const window of [0, -1, 1.5, Number.NaN]) {
      await expect(publishPipelined(js, [], { window })).rejects.toBeInstanceOf(InvalidMessagingOptionError);
    }
    const nowhere = `${uniqueName('nowhere').replace(/[^a-z0-9]/g, '')}.x`;
    const messages = [layout.telemetrySubject('custom'), nowhere, layout.telemetrySubject('custom')].map((subject, i) => ({ subject, data: Buffer.from('x'), msgId: `mixed-${i}` }));
    await expect(publishPipelined(js, messages, { window: 1 })).rejects.toBeInstanceOf(PublishError);
    // Window 1: the failure stopped it before the third message.
    expect((await jsm.streams.info(layout.streams.telemetry)).state.messages).toBe(1);
  });
});

describe('messaging — pull consumer', () => {
  it('messaging — a transient failure is nak-ed and redelivered, then acked on success', async () => {
    const layout = await isolatedLayout();
    const attempts = new Map<string, number>();
    const running = await consume(layout, async (msg) => {
      const n = (attempts.get(msg.subject) ?? 0) + 1;
      attempts.set(msg.subject, n);
      if (n < 2) throw new Error('database briefly unavailable');
    });
    await js.publish(layout.telemetrySubject('a'), Buffer.from('1'));
    await until(async () => (await jsm.consumers.info(layout.streams.telemetry, 'work')).num_ack_pending === 0 && attempts.get(layout.telemetrySubject('a')) === 2);
    await running.stop();
    expect((await jsm.streams.info(layout.streams.deadLetter)).state.messages).toBe(0);
  });

  it('messaging — the dead-letter stream is bounded in bytes: a flood of bad input keeps the newest letters within the limit', async () => {
    const limit = 64 * 1024;
    const layout = await isolatedLayout({ deadLetterMaxBytes: limit });
    expect((await jsm.streams.info(layout.streams.deadLetter)).config.max_bytes).toBe(limit);
    const letters = new DeadLetterPublisher(js, layout, 'ingestion');
    for (let i = 0; i < 40; i++) await letters.publish({ subject: layout.telemetrySubject('flood'), original: Buffer.alloc(4096, i), reason: `bad input ${i}`, field: '(root)' });
    const state = (await jsm.streams.info(layout.streams.deadLetter)).state;
    expect(state.bytes).toBeLessThanOrEqual(limit);
    expect(state.messages).toBeLessThan(40);
    const newest = decodeDeadLetter((await jsm.streams.getMessage(layout.streams.deadLetter, { seq: state.last_seq })).data);
    expect(newest?.reason).toBe('bad input 39');
  });

  it('messaging — a permanent failure and an exhausted retry budget dead-letter the original bytes with the reason', async () => {
    const layout = await isolatedLayout();
    const running = await consume(layout, (msg) => {
      if (msg.subject.endsWith('.bad')) throw new PermanentMessageError('payload.severity: must be one of info, warning, critical', 'payload.severity');
      throw new Error('always down');
    });
    await js.publish(layout.telemetrySubject('bad'), Uint8Array.from([0, 1, 2, 255]));
    await js.publish(layout.telemetrySubject('flaky'), Buffer.from('never works'));
    await until(async () => (await jsm.streams.info(layout.streams.deadLetter)).state.messages === 2);
    await running.stop();
    const letters = [1, 2].map(async (seq) => decodeDeadLetter((await jsm.streams.getMessage(layout.streams.deadLetter, { seq })).data));
    const [bad, flaky] = await Promise.all(letters);
    expect(bad).toMatchObject({ stage: 'ingestion', field: 'payload.severity', subject: layout.telemetrySubject('bad') });
    expect([...(bad?.original ?? [])]).toEqual([0, 1, 2, 255]);
    expect(flaky?.reason).toMatch(/gave up after 3 deliveries: always down/);
    expect(flaky?.original.toString()).toBe('never works');
    const ci = await jsm.consumers.info(layout.streams.telemetry, 'work');
    expect(ci.num_ack_pending).toBe(0);
  });

  // The nats client is patched (patches/nats@2.29.3.patch) on its request completion path: these are the
  // outcomes that path decides, each still ending in the right PublishError or PubAck.
  it('publish — stored, duplicate, no stream (no responders) and a silent responder (timeout) each end as they should', async () => {
    const layout = await isolatedLayout();
    const subject = layout.telemetrySubject('x');
    const first = await Promise.all(Array.from({ length: 200 }, (_, i) => publishWithId(js, subject, Buffer.from(String(i)), `id-${i % 100}`)));
    expect(first.filter((a) => a.duplicate)).toHaveLength(100);
    expect((await jsm.streams.info(layout.streams.telemetry)).state.messages).toBe(100);
    const nowhere = `${uniqueName('nostream')}.x`;
    await expect(publishWithId(js, nowhere, Buffer.from('x'), 'a')).rejects.toMatchObject({ name: 'PublishError', subject: nowhere, message: /no responders|503/i });
    const silent = `${uniqueName('silent')}.x`;
    const sub = nc.subscribe(silent);
    try {
      await expect(publishWithId(js, silent, Buffer.from('x'), 'b', { timeoutMs: 200 })).rejects.toMatchObject({ name: 'PublishError', message: /timeout/i });
    } finally {
      sub.unsubscribe();
    }
  });

  it('messaging — concurrency is bounded and stop() lets in-flight handlers finish and ack', async () => {
    const layout = await isolatedLayout();
    let active = 0;
    let peak = 0;
    let done = 0;
    const running = await consume(
      layout,
      async () => {
        active += 1;
        peak = Math.max(peak, active);
        await sleep(100);
        active -= 1;
        done += 1;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 12; i++) await js.publish(layout.telemetrySubject('x'), Buffer.from(String(i)));
    await until(() => done >= 2);
    await running.stop();
    const finished = done;
    expect(active).toBe(0);
    expect(peak).toBe(3);
    // Every finished handler sent its ack before stop() resolved; the server applies acks asynchronously,
    // so the floor is awaited rather than read once. Nothing beyond the finished ones may be acked.
    await until(async () => (await jsm.consumers.info(layout.streams.telemetry, 'work')).ack_floor.stream_seq >= finished);
    const ci = await jsm.consumers.info(layout.streams.telemetry, 'work');
    expect(ci.ack_floor.stream_seq).toBe(finished);
    expect(ci.num_ack_pending + ci.num_pending + finished).toBeGreaterThanOrEqual(12);
  });
});
