import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadServiceConfig, type ServiceConfig } from '@cortexops/config';
import { applyNatsLayoutAs, cortexopsKvBuckets, decodeDeadLetter } from '@cortexops/messaging';
import { runService, type ServiceHandle } from '@cortexops/observability';
import { freePort, uniqueName } from '@cortexops/testkit';
import type { JetStreamManager, NatsConnection } from 'nats';
import { startIngestion, type IngestionOverrides } from '../../src/ingestion.js';

/** Unique stream names and subject prefixes, so a test never sees another's messages. */
type StreamKey = 'telemetry' | 'signals' | 'deadLetter';
export interface IsolatedNames {
  readonly tag: string;
  readonly streams: Record<StreamKey, string>;
  readonly subjectPrefixes: Record<StreamKey, string>;
  readonly durable: string;
  readonly kvBucket: string;
}

export function isolatedNames(prefix = 'ing'): IsolatedNames {
  const tag = uniqueName(prefix).replace(/[^a-z0-9]/g, '');
  return {
    tag,
    streams: { telemetry: `${tag}_TELEMETRY`, signals: `${tag}_SIGNALS`, deadLetter: `${tag}_DEADLETTER` },
    subjectPrefixes: { telemetry: `${tag}.telemetry`, signals: `${tag}.signals`, deadLetter: `${tag}.deadletter` },
    durable: `${tag}_ingestion`,
    kvBucket: `${tag}_kube`,
  };
}

export interface InProcessIngestion {
  readonly handle: ServiceHandle;
  readonly config: ServiceConfig<'ingestion'>;
  readonly baseUrl: string;
  logs(): string;
}

/** KV buckets of drop accounting the tests' ingestions created (one per durable), deleted with their streams. */
const dropsBuckets = new Set<string>();
/** Their oversized-body object stores (one per durable), deleted the same way. */
const oversizedBuckets = new Set<string>();

/** Runs the ingestion service in this process (same lifecycle as main.ts, no signal handlers). */
export async function startInProcess(env: Record<string, string>, given: IngestionOverrides): Promise<InProcessIngestion> {
  const overrides = { ...given, dropsBucket: given.dropsBucket ?? `${given.durable ?? 'ingestion'}_drops`, oversizedBucket: given.oversizedBucket ?? `${given.durable ?? 'ingestion'}_oversized` };
  dropsBuckets.add(overrides.dropsBucket);
  oversizedBuckets.add(overrides.oversizedBucket);
  const config = loadServiceConfig('ingestion', { CORTEXOPS_INGESTION_PORT: String(await freePort()), ...env });
  // The admin step (ingestion only binds): the test's streams and its buckets (an unnamed one is the stack's own).
  await applyNatsLayoutAs(config, {
    layout: { ...overrides.layout, settings: config },
    buckets: cortexopsKvBuckets({
      names: { kubernetesWatch: overrides.kvBucket, podOwners: overrides.podOwnersBucket, ingestionDrops: overrides.dropsBucket },
      correlatorTtlMs: 0,
      only: ['kubernetesWatch', 'podOwners', 'ingestionDrops'],
    }),
  });
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  const handle = await runService('ingestion', config, (context) => startIngestion(config, context, overrides), { installSignalHandlers: false, logDestination: sink });
  return { handle, config, baseUrl: handle.address, logs: () => logs };
}

/** Reads every message of a stream from the start with an ephemeral ordered view (nothing is acked away). */
export async function readStream(nc: NatsConnection, stream: string): Promise<{ subject: string; data: Uint8Array; seq: number }[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const out: { subject: string; data: Uint8Array; seq: number }[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    try {
      const m = await jsm.streams.getMessage(stream, { seq });
      out.push({ subject: m.subject, data: m.data, seq });
    } catch {
      // deleted or discarded
    }
  }
  return out;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function streamCount(jsm: JetStreamManager, stream: string): Promise<number> {
  return (await jsm.streams.info(stream)).state.messages;
}

/** Every signal of a stream, read in batches by an ordered consumer (streams here hold up to tens of thousands). */
export async function signals(nc: NatsConnection, stream: string): Promise<Record<string, unknown>[]> {
  const total = (await (await nc.jetstreamManager()).streams.info(stream)).state.messages;
  const out: Record<string, unknown>[] = [];
  if (total === 0) return out;
  const consumer = await nc.jetstream().consumers.get(stream);
  while (out.length < total) {
    const before = out.length;
    for await (const m of await consumer.fetch({ max_messages: 1000, expires: 2000 })) out.push(m.json<Record<string, unknown>>());
    if (out.length === before) break;
  }
  return out;
}

export async function deadLetters(nc: NatsConnection, stream: string) {
  return (await readStream(nc, stream)).map((m) => decodeDeadLetter(m.data));
}

export async function deleteStreams(jsm: JetStreamManager, names: Record<string, string>): Promise<void> {
  for (const name of Object.values(names)) await jsm.streams.delete(name).catch(() => false);
  for (const bucket of dropsBuckets) await jsm.streams.delete(`KV_${bucket}`).catch(() => false);
  for (const bucket of oversizedBuckets) await jsm.streams.delete(`OBJ_${bucket}`).catch(() => false);
}

/** The value of a counter (summed over its label sets matching `labels`), 0 when absent. */
export function counterValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

