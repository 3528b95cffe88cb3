import { setTimeout as sleep } from 'node:timers/promises';
import { ensureServers, natsConnectOptions, uniqueName } from '@cortexops/testkit';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeadLetterDropCount, DeadLetterDropWatch, DeadLetterPublisher, ensureJetStreamLayout, type JetStreamLayout, type JetStreamSettings } from '../../src/index.js';

let nc: NatsConnection;
let jsm: JetStreamManager;
const layouts: JetStreamLayout[] = [];

beforeAll(async () => {
  const ctx = await ensureServers(['nats']);
  nc = await connect(natsConnectOptions(ctx));
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  for (const layout of layouts) for (const name of Object.values(layout.streams)) await jsm.streams.delete(name).catch(() => false);
  await nc?.close();
});

async function tinyLayout(settings: Partial<JetStreamSettings>): Promise<JetStreamLayout> {
  const tag = uniqueName('dld').replace(/[^a-z0-9]/g, '');
  const layout = await ensureJetStreamLayout(jsm, {
    streams: { telemetry: `${tag}_T`, signals: `${tag}_S`, deadLetter: `${tag}_D` },
    subjectPrefixes: { telemetry: `${tag}.t`, signals: `${tag}.s`, deadLetter: `${tag}.d` },
    settings,
  });
  layouts.push(layout);
  return layout;
}

/** A watch that is only read by hand (`look()`), with what it reported. */
async function watchOf(layout: JetStreamLayout): Promise<{ watch: DeadLetterDropWatch; drops: DeadLetterDropCount[] }> {
  const drops: DeadLetterDropCount[] = [];
  const watch = await DeadLetterDropWatch.start({ jsm, stream: layout.streams.deadLetter, intervalMs: 3_600_000, dropped: (drop) => drops.push(drop) });
  return { watch, drops };
}

const letter = (layout: JetStreamLayout, i: number) => ({ subject: layout.telemetrySubject('flood'), original: Buffer.alloc(4096, i), reason: `bad input ${i}`, field: '(root)' });

describe('dead-letter drops — counted from the stream state', () => {
  it('a flood into a 64 KiB dead-letter stream: the letters its byte limit discarded are counted as bytes, exactly, from zero', async () => {
    const layout = await tinyLayout({ deadLetterMaxBytes: 64 * 1024 });
    const letters = new DeadLetterPublisher(nc.jetstream(), layout, 'ingestion');
    // Discarded before the watch started: not counted (a counter from zero).
    for (let i = 0; i < 20; i++) await letters.publish(letter(layout, i));
    const before = (await jsm.streams.info(layout.streams.deadLetter)).state.first_seq;
    expect(before).toBeGreaterThan(1);
    const { watch, drops } = await watchOf(layout);
    await watch.look();
    expect(drops).toEqual([]);
    for (let i = 20; i < 60; i++) await letters.publish(letter(layout, i));
    await watch.look();
    const state = (await jsm.streams.info(layout.streams.deadLetter)).state;
    expect(state.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(drops).toEqual([{ limit: 'bytes', count: state.first_seq - before }]);
    expect(drops[0]!.count).toBeGreaterThanOrEqual(35);
    await watch.stop();
  });

  it('letters that reach the age limit are counted as age, not as the byte limit', async () => {
    // JetStream refuses a duplicate window longer than the age limit.
    const layout = await tinyLayout({ deadLetterMaxAgeMs: 1000, duplicateWindowMs: 500 });
    const letters = new DeadLetterPublisher(nc.jetstream(), layout, 'ingestion');
    const { watch, drops } = await watchOf(layout);
    for (let i = 0; i < 3; i++) await letters.publish(letter(layout, i));
    await watch.look();
    for (let waited = 0; (await jsm.streams.info(layout.streams.deadLetter)).state.messages > 0; waited += 100) {
      if (waited > 10_000) throw new Error('the letters never expired');
      await sleep(100);
    }
    await watch.look();
    expect(drops).toEqual([{ limit: 'age', count: 3 }]);
    await watch.stop();
  });

  it('a stream that does not exist fails the start (the service reports it), and a stopped watch reads no more', async () => {
    await expect(DeadLetterDropWatch.start({ jsm, stream: 'NO_SUCH_STREAM_FOR_DROPS', intervalMs: 10, dropped: () => {} })).rejects.toThrow(/stream not found/);
    const layout = await tinyLayout({});
    const failures: unknown[] = [];
    const watch = await DeadLetterDropWatch.start({ jsm, stream: layout.streams.deadLetter, intervalMs: 20, dropped: () => {}, failed: (e) => failures.push(e) });
    await sleep(100);
    await watch.stop();
    await jsm.streams.delete(layout.streams.deadLetter);
    await sleep(100);
    expect(failures).toEqual([]);
  });
});
