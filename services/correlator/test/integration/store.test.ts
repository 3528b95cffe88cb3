import { cortexopsKvBuckets, ensureKvBucket } from '@cortexops/messaging';
import { ensureServers, uniqueName, natsConnectOptions } from '@cortexops/testkit';
import { connect, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CorrelationRules, DEFAULT_MAX_SIGNAL_IDS, groupingOf } from '../../src/engine.js';
import { GroupStore, openGroupBuckets } from '../../src/store.js';
import { makeSignal, T0, waitFor } from './support.js';

const MINUTE = 60_000;
const RULES: CorrelationRules = { windowMs: 5 * MINUTE, minSignals: 3, flapWindowMs: 10 * MINUTE, cooldownMs: 30 * MINUTE, recurrenceWindowMs: 24 * 60 * MINUTE, maxSignalIds: DEFAULT_MAX_SIGNAL_IDS, reopenAfterMs: 10 * MINUTE, eventQuietMs: 15 * MINUTE, stateTtlMs: 48 * 60 * MINUTE };
let nc: NatsConnection;
const buckets: string[] = [];
const stores: GroupStore[] = [];

beforeAll(async () => {
  const ctx = await ensureServers(['nats']);
  nc = await connect(natsConnectOptions(ctx));
}, 60_000);

afterAll(async () => {
  for (const store of stores) store.close();
  const jsm = await nc?.jetstreamManager();
  for (const bucket of buckets) await jsm?.streams.delete(`KV_${bucket}`).catch(() => undefined);
  await nc?.close();
});

async function bucket(): Promise<KV> {
  const name = uniqueName('corstore').replace(/[^a-z0-9]/g, '');
  buckets.push(name);
  return nc.jetstream().views.kv(name, { history: 1 });
}

/** Two replicas' stores on one bucket (each with its own memory of the groups), with a fingerprint index if asked. */
async function replicas(follow: boolean, indexed = false): Promise<[GroupStore, GroupStore]> {
  const kv = await bucket();
  const fingerprints = indexed ? { kv: await bucket(), refreshMs: MINUTE } : undefined;
  const options = { follow, ...(fingerprints ? { fingerprints } : {}) };
  const pair: [GroupStore, GroupStore] = [await GroupStore.create(kv, options), await GroupStore.create(kv, options)];
  stores.push(...pair);
  return pair;
}

const base = { namespace: 'store', object: { kind: 'Pod' as const, name: 'cart-1' }, ownerChain: [{ kind: 'Deployment' as const, name: 'cart' }] };

describe('correlator store — replicas and remembered state (real NATS KV)', () => {
  it('conflict — a replica deciding on remembered state loses the compare-and-set to the other replica and decides again on the newer state', async () => {
    const [a, b] = await replicas(false);
    const opened = await a.apply(makeSignal('cas-1', { ...base, severity: 'critical', atMs: T0 }), T0, RULES);
    expect(opened.decision.kind).toBe('open');
    expect((await b.apply(makeSignal('cas-2', { ...base, atMs: T0 + 1000 }), T0 + 1000, RULES)).decision.kind).toBe('attach');
    // A still remembers the state before B's write: its write conflicts, it reads B's state and decides again.
    const third = makeSignal('cas-3', { ...base, atMs: T0 + 2000 });
    expect((await a.apply(third, T0 + 2000, RULES)).decision.kind).toBe('attach');
    const { state } = await a.read(opened.groupKey);
    expect(Object.keys(state!.fingerprints)).toHaveLength(3);
    // A resolve by B, then a repeat of that problem at A: not "already firing" from memory, but a flap.
    const fp1 = makeSignal('cas-1', { ...base, status: 'resolved', atMs: T0 + 3000 });
    const fp2 = makeSignal('cas-2', { ...base, status: 'resolved', atMs: T0 + 3000 });
    const fp3 = makeSignal('cas-3', { ...base, status: 'resolved', atMs: T0 + 3000 });
    for (const s of [fp1, fp2, fp3]) await b.apply(s, T0 + 3000, RULES);
    expect((await b.read(opened.groupKey)).state?.status).toBe('resolved');
    expect((await a.apply(makeSignal('cas-1', { ...base, severity: 'critical', atMs: T0 + 4000 }), T0 + 4000, RULES)).decision.kind).toBe('flap');
  });

  it('following — replicas see each other’s writes through the watch; a repeat of a firing problem is decided on current state without a write', async () => {
    const [a, b] = await replicas(true);
    const opened = await a.apply(makeSignal('follow-1', { ...base, severity: 'critical', atMs: T0 }), T0, RULES);
    expect(opened.decision.kind).toBe('open');
    const resolved = await b.apply(makeSignal('follow-1', { ...base, status: 'resolved', atMs: T0 + 1000 }), T0 + 1000, RULES);
    expect(resolved.decision.kind).toBe('resolve');
    const written = (await b.read(opened.groupKey)).revision;
    await waitFor('replica A saw B’s write', () => ((a.rememberedRevision(opened.groupKey) ?? 0) >= written ? true : undefined));
    expect((await a.apply(makeSignal('follow-1', { ...base, severity: 'critical', atMs: T0 + 2000 }), T0 + 2000, RULES)).decision.kind).toBe('flap');
    const afterFlap = await a.read(opened.groupKey);
    const repeat = makeSignal('follow-1', { ...base, severity: 'critical', atMs: T0 + 3000 });
    expect((await a.apply(repeat, T0 + 3000, RULES)).decision.kind).toBe('deduplicated');
    const afterRepeat = await a.read(opened.groupKey);
    expect(afterRepeat.revision).toBe(afterFlap.revision);
    expect(afterRepeat.state?.signalIds).not.toContain(repeat.id);
  });

  it('following — a node incident opened by one replica routes the other replica’s pod signals to the node (topology through the watch)', async () => {
    const [a, b] = await replicas(true);
    const node = makeSignal('follow-node', { namespace: undefined, object: { kind: 'Node', name: 'node-9' }, ownerChain: [], severity: 'critical' });
    const opened = await a.apply(node, T0, RULES);
    expect(opened.decision.kind).toBe('open');
    await waitFor('replica B knows the node incident', async () => ((await b.nodeIncidentOpen('test', 'node-9')) ? true : undefined));
    const pod = await b.apply(makeSignal('follow-pod', { ...base, node: 'node-9', severity: 'critical' }), T0 + 1000, RULES);
    expect(pod).toMatchObject({ decision: { kind: 'attach', incident: { rootCause: { kind: 'Node', name: 'node-9' } } }, groupKey: opened.groupKey });
  });

  it('topology — a problem grouped by its owners before its node’s incident opened resolves in its own incident, not lost in the node’s', async () => {
    const [a] = await replicas(true);
    const pod = { ...base, namespace: 'late-node', node: 'node-7' };
    const owned = await a.apply(makeSignal('late-pod', { ...pod, severity: 'critical', atMs: T0 }), T0, RULES);
    expect(owned.decision.kind).toBe('open');
    const node = await a.apply(makeSignal('late-node', { namespace: undefined, object: { kind: 'Node', name: 'node-7' }, ownerChain: [], severity: 'critical', atMs: T0 + 1000 }), T0 + 1000, RULES);
    expect(node.decision.kind).toBe('open');
    expect(await a.nodeIncidentOpen('test', 'node-7')).toBe(true);
    // New pod problems on the node now join the node's incident ...
    expect((await a.apply(makeSignal('late-pod-2', { ...pod, atMs: T0 + 2000 }), T0 + 2000, RULES)).groupKey).toBe(node.groupKey);
    // ... but the first one, resolved, closes the incident it opened.
    const resolved = await a.apply(makeSignal('late-pod', { ...pod, status: 'resolved', atMs: T0 + 3000 }), T0 + 3000, RULES);
    expect(resolved).toMatchObject({ decision: { kind: 'resolve' }, groupKey: owned.groupKey });
    expect((await a.read(node.groupKey)).state?.status).toBe('open');
  });

  it('concurrency — two following replicas deciding one group at once open exactly one incident and lose no signal', async () => {
    const [a, b] = await replicas(true);
    const signals = Array.from({ length: 40 }, (_, i) => makeSignal(`race-${i}`, { ...base, namespace: 'race', atMs: T0 + i }));
    const results = await Promise.all(signals.map((s, i) => (i % 2 === 0 ? a : b).apply(s, T0 + i, RULES)));
    expect(results.filter((r) => r.decision.kind === 'open')).toHaveLength(1);
    expect(results.filter((r) => r.decision.kind === 'pending')).toHaveLength(2);
    const { state } = await a.read(groupingOf(signals[0]!).key);
    expect(new Set(state?.signalIds)).toEqual(new Set(signals.map((s) => s.id)));
  });

  it('fingerprint index — a problem stays in the group that holds it: the other replica decides its repeat and its resolved signal naming the Deployment in the Pod’s incident', async () => {
    const [a, b] = await replicas(true, true);
    const pod = { namespace: 'index', object: { kind: 'Pod' as const, name: 'cart-5f-1' }, source: 'alertmanager' as const };
    const opened = await a.apply(makeSignal('index-1', { ...pod, ownerChain: [], atMs: T0 }), T0, RULES);
    expect(opened).toMatchObject({ decision: { kind: 'open', incident: { target: { kind: 'Pod', name: 'cart-5f-1' } } } });
    const owners = [{ kind: 'Deployment' as const, name: 'cart' }];
    const repeat = await b.apply(makeSignal('index-1', { ...pod, ownerChain: owners, atMs: T0 + 1000 }), T0 + 1000, RULES);
    expect(repeat).toMatchObject({ decision: { kind: 'deduplicated' }, groupKey: opened.groupKey });
    const resolved = await b.apply(makeSignal('index-1', { ...pod, ownerChain: owners, status: 'resolved', atMs: T0 + 2000 }), T0 + 2000, RULES);
    expect(resolved).toMatchObject({ decision: { kind: 'resolve' }, groupKey: opened.groupKey });
    expect((await b.read(groupingOf(makeSignal('index-1', { ...pod, ownerChain: owners })).key)).state).toBeUndefined();
    // Another problem naming the Deployment is grouped by what it names, as before.
    const other = await b.apply(makeSignal('index-2', { ...pod, ownerChain: owners, atMs: T0 + 3000 }), T0 + 3000, RULES);
    expect(other).toMatchObject({ decision: { kind: 'open', incident: { target: { kind: 'Deployment', name: 'cart' } } } });
  });

  it('fingerprint index — two replicas deciding the first signals of one fingerprint at the same moment, grouped differently, open one incident', async () => {
    const [a, b] = await replicas(true, true);
    // The same alert as two ingestion replicas may name it: with the pod's owners, and as the pod alone.
    const atMs = Date.now();
    const withOwners = makeSignal('race-cart', { source: 'alertmanager', ...base, atMs });
    const bare = makeSignal('race-cart', { source: 'alertmanager', ...base, ownerChain: [], atMs: atMs + 1 });
    expect(groupingOf(withOwners).key).not.toBe(groupingOf(bare).key);
    // Both look the fingerprint up before either has decided: neither finds a group holding it.
    const [first, second] = await Promise.all([a.apply(withOwners, Date.now(), RULES), b.apply(bare, Date.now(), RULES)]);
    // One opens; the other is the same problem already firing there (fingerprint dedup).
    const kinds = [first.decision.kind, second.decision.kind].sort();
    expect(kinds).toEqual(['deduplicated', 'open']);
    expect(first.groupKey).toBe(second.groupKey);
    const opened = [first, second].find((r) => r.decision.kind === 'open')!;
    expect((await a.read(opened.groupKey)).state?.status).toBe('open');
    // Nothing was stored for the other grouping.
    const other = opened.groupKey === groupingOf(withOwners).key ? groupingOf(bare).key : groupingOf(withOwners).key;
    expect((await a.read(other)).state).toBeUndefined();
  });

  it('TTL — a replica does not trust what it remembers longer than KV keeps it: a node incident expired from KV no longer takes its pods’ signals', async () => {
    const name = uniqueName('corstorettl').replace(/[^a-z0-9]/g, '');
    buckets.push(name, `${name}_fingerprints`);
    const ttlMs = 2000;
    // The admin step makes the buckets with their TTL; the correlator only binds.
    const jsm = await nc.jetstreamManager();
    for (const bucket of cortexopsKvBuckets({ names: { correlator: name }, correlatorTtlMs: ttlMs, only: ['correlator'] })) await ensureKvBucket(jsm, nc.jetstream(), bucket);
    const { groups } = await openGroupBuckets(nc.jetstream(), jsm, name, ttlMs);
    const store = await GroupStore.create(groups, { follow: true, ttlMs });
    stores.push(store);
    const node = await store.apply(makeSignal('ttl-node', { namespace: undefined, object: { kind: 'Node', name: 'node-3' }, ownerChain: [], severity: 'critical', atMs: T0 }), T0, RULES);
    expect(node.decision.kind).toBe('open');
    expect(await store.nodeIncidentOpen('test', 'node-3')).toBe(true);
    await waitFor('the node group expired from KV', async () => ((await store.read(node.groupKey)).state === undefined ? true : undefined), 30_000);
    expect(await store.nodeIncidentOpen('test', 'node-3')).toBe(false);
    const pod = await store.apply(makeSignal('ttl-pod', { ...base, namespace: 'ttl', node: 'node-3', severity: 'critical', atMs: T0 + 1000 }), T0 + 1000, RULES);
    expect(pod).toMatchObject({ decision: { kind: 'open', incident: { target: { kind: 'Deployment', name: 'cart' } } } });
  });
});
