import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadServiceConfig } from '@cortexops/config';
import { type Incident, Signal } from '@cortexops/contracts';
import { applyNatsLayoutAs, cortexopsKvBuckets, publishWithId } from '@cortexops/messaging';
import { runService, type ServiceHandle } from '@cortexops/observability';
import { createTestNamespace, ensureServers, freePort, temporalAddress, uniqueName, natsConnectOptions, natsEnv } from '@cortexops/testkit';
export { workflowRecord } from '@cortexops/testkit';
import { Client, Connection } from '@temporalio/client';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { type CorrelatorOverrides, rulesOf, startCorrelator } from '../../src/correlator.js';
import { type Decision, stateTtlMs } from '../../src/engine.js';
import { GroupStore } from '../../src/store.js';

type StreamKey = 'telemetry' | 'signals' | 'deadLetter';
/** Every rule window one second and the state TTL ten seconds: real expiry within a test's time. */
export const SECOND_RULES_TEN_SECOND_TTL_ENV = {
  CORTEXOPS_CORRELATOR_WINDOW_MS: '1000',
  CORTEXOPS_CORRELATOR_FLAP_WINDOW_MS: '1000',
  CORTEXOPS_CORRELATOR_COOLDOWN_MS: '1000',
  CORTEXOPS_CORRELATOR_RECURRENCE_WINDOW_MS: '1000',
  CORTEXOPS_CORRELATOR_REOPEN_AFTER_MS: '1000',
  CORTEXOPS_CORRELATOR_EVENT_QUIET_MS: '1000',
  CORTEXOPS_CORRELATOR_STATE_TTL_MS: '10000',
} as const;

export interface IsolatedNames {
  readonly streams: Record<StreamKey, string>;
  readonly subjectPrefixes: Record<StreamKey, string>;
  readonly durable: string;
  readonly kvBucket: string;
}

/** Unique stream, subject, consumer and bucket names, so tests on the shared NATS never see each other. */
export function isolatedNames(prefix = 'cor'): IsolatedNames {
  const tag = uniqueName(prefix).replace(/[^a-z0-9]/g, '');
  return {
    streams: { telemetry: `${tag}_TELEMETRY`, signals: `${tag}_SIGNALS`, deadLetter: `${tag}_DEADLETTER` },
    subjectPrefixes: { telemetry: `${tag}.telemetry`, signals: `${tag}.signals`, deadLetter: `${tag}.deadletter` },
    durable: `${tag}_correlator`,
    kvBucket: `${tag}_correlator`,
  };
}

export function overridesOf(names: IsolatedNames, onDecision?: CorrelatorOverrides['onDecision']): CorrelatorOverrides {
  return {
    layout: { streams: names.streams, subjectPrefixes: names.subjectPrefixes },
    durable: names.durable,
    kvBucket: names.kvBucket,
    ...(onDecision ? { onDecision } : {}),
  };
}

export interface InProcessCorrelator {
  readonly handle: ServiceHandle;
  readonly decisions: { signal: Signal; decision: Decision }[];
  logs(): string;
}

/** Runs the correlator in this process (the same lifecycle as main.ts, without signal handlers). */
export async function startInProcess(env: Record<string, string>, names: IsolatedNames): Promise<InProcessCorrelator> {
  const config = loadServiceConfig('correlator', { CORTEXOPS_CORRELATOR_PORT: String(await freePort()), ...env });
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  const decisions: { signal: Signal; decision: Decision }[] = [];
  const overrides = overridesOf(names, (signal, decision) => decisions.push({ signal, decision }));
  // The admin step (the correlator only binds): the test's streams, and its buckets with the TTL its rules need.
  await applyNatsLayoutAs(config, {
    layout: { ...overrides.layout, settings: config },
    buckets: cortexopsKvBuckets({ names: { correlator: names.kvBucket }, correlatorTtlMs: stateTtlMs(rulesOf(config)), only: ['correlator'] }),
  });
  const handle = await runService('correlator', config, (context) => startCorrelator(config, context, overrides), { installSignalHandlers: false, logDestination: sink });
  return { handle, decisions, logs: () => logs };
}

const T0 = Date.parse('2026-03-01T00:00:00Z');
let counter = 0;

/** A valid signal; ids and fingerprints derive from `key`, so tests can replay one exactly. */
export function makeSignal(key: string, overrides: Partial<Signal> & { atMs?: number } = {}): Signal {
  counter += 1;
  const { atMs, ...rest } = overrides;
  const at = new Date(atMs ?? T0).toISOString();
  return Signal.parse({
    id: `s-${createHash('sha256').update(`${key}#${counter}#${Math.random()}`).digest('hex').slice(0, 24)}`,
    // A custom signal counts towards the threshold; an Alertmanager alert opens by itself (tests say so when they mean it).
    source: 'custom',
    cluster: 'test',
    namespace: 'shop',
    object: { kind: 'Pod', name: 'web-7d9f-abcde' },
    ownerChain: [
      { kind: 'ReplicaSet', name: 'web-7d9f' },
      { kind: 'Deployment', name: 'web' },
    ],
    severity: 'warning',
    status: 'firing',
    title: `problem ${key}`,
    fingerprint: createHash('sha256').update(key).digest('hex').slice(0, 32),
    startsAt: at,
    receivedAt: at,
    ...rest,
  });
}

export { T0 };

export async function publishSignal(js: JetStreamClient, names: IsolatedNames, signal: Signal, msgId = `${signal.id}-${Math.random()}`): Promise<void> {
  await publishWithId(js, `${names.subjectPrefixes.signals}.${signal.cluster}.${signal.namespace ?? '_cluster'}`, Buffer.from(JSON.stringify(signal)), msgId);
}

/** Publishes signals one after another and waits until the correlator has decided on each. */
async function feedSignals(js: JetStreamClient, names: IsolatedNames, correlator: InProcessCorrelator, ...signals: Signal[]): Promise<Decision[]> {
  const decisions = [];
  for (const s of signals) {
    await publishSignal(js, names, s);
    decisions.push(await waitFor(`decision on ${s.id}`, () => correlator.decisions.find((d) => d.signal.id === s.id)?.decision));
  }
  return decisions;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Every workflow execution of the namespace (visibility is eventually consistent: callers wait for a stable count). */
export async function listWorkflowIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list()) ids.push(execution.workflowId);
  return ids;
}

export function incidentOf(decision: Decision): Incident | undefined {
  return 'incident' in decision ? decision.incident : undefined;
}

/** A correlator in this process on the shared NATS and Temporal (its own streams, buckets and Temporal namespace). */
export interface CorrelatorHarness {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly client: Client;
  readonly correlator: InProcessCorrelator;
  /** The correlator's environment (NATS, Temporal namespace, rules): a second replica starts with it. */
  readonly env: Record<string, string>;
  /** Reads the correlator's group bucket (no index, follows nothing). */
  readonly store: GroupStore;
  /** Publishes signals one after another and waits until the correlator has decided on each. */
  readonly feed: (...signals: Signal[]) => Promise<Decision[]>;
  /** Stops the correlator and removes its streams and buckets. */
  readonly close: () => Promise<void>;
}

/** Starts a {@link CorrelatorHarness} with `env` (rules); `before` runs on NATS before the correlator starts. */
export async function startHarness(names: IsolatedNames, env: Record<string, string>, before?: (js: JetStreamClient) => Promise<void>): Promise<CorrelatorHarness> {
  const ctx = await ensureServers(['nats', 'temporal']);
  const namespace = await createTestNamespace(ctx, 'correlator');
  const connection = await Connection.connect({ address: temporalAddress(ctx) });
  const client = new Client({ connection, namespace });
  const nc = await connect(natsConnectOptions(ctx));
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  await before?.(js);
  const fullEnv = { ...natsEnv(ctx), CORTEXOPS_TEMPORAL_ADDRESS: temporalAddress(ctx), CORTEXOPS_TEMPORAL_NAMESPACE: namespace, CORTEXOPS_JS_STORAGE: 'memory', ...env };
  const correlator = await startInProcess(fullEnv, names);
  const store = await GroupStore.create(await js.views.kv(names.kvBucket));
  return {
    nc,
    js,
    jsm,
    client,
    env: fullEnv,
    correlator,
    store,
    feed: (...signals) => feedSignals(js, names, correlator, ...signals),
    close: async () => {
      await correlator.handle.shutdown('test over');
      await connection.close();
      for (const stream of Object.values(names.streams)) await jsm.streams.delete(stream).catch(() => undefined);
      for (const bucket of [names.kvBucket, `${names.kvBucket}_fingerprints`]) await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
      await nc.close();
    },
  };
}
