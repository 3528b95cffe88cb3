import { LRUCache } from 'lru-cache';
import { bindKv, fingerprintsBucket } from '@cortexops/messaging';
import { type JetStreamClient, type JetStreamManager, KvWatchInclude, NatsError, type KV, type KvEntry, type KvWatchOptions, type QueuedIterator } from 'nats';
import {
  correlate,
  type CorrelationResult,
  type CorrelationRules,
  fingerprintStoreKey,
  type GroupState,
  type Grouping,
  groupingOf,
  GROUP_STORE_KEYS,
  groupStoreKey,
  homeGrouping,
  incidentIdOf,
  isOpen,
  NODE_STORE_KEYS,
  nodeGroupKey,
  nodeOf,
  recordRemediation,
  recordWorkflowEnded,
  targetGroupKey,
  tick,
  type TickResult,
} from './engine.js';
import { targetRef, type Incident, type Signal, type TargetRef } from '@cortexops/contracts';
import { KeyedQueue } from './keyed.js';

/** JetStream's "wrong last sequence": somebody else wrote the key since we read it. */
const WRONG_LAST_SEQUENCE = 10071;
const MAX_CAS_ATTEMPTS = 50;
/** Groups whose last stored state and revision this replica remembers (least recently used ones are dropped). */
export const DEFAULT_GROUP_CACHE_SIZE = 4096;

export class GroupConflictError extends Error {
  readonly code = 'CORRELATOR_CAS_EXHAUSTED';
  constructor(key: string) {
    super(`group ${key}: ${MAX_CAS_ATTEMPTS} compare-and-set conflicts in a row`);
    this.name = 'GroupConflictError';
  }
}

function isConflict(error: unknown): boolean {
  return error instanceof NatsError && (error.api_error?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(error.message));
}

function decode(entry: KvEntry | null): GroupState | undefined {
  if (entry === null || entry.operation !== 'PUT' || entry.length === 0) return undefined;
  return JSON.parse(new TextDecoder().decode(entry.value)) as GroupState;
}

const encoder = new TextEncoder();

interface Versioned {
  readonly state: GroupState | undefined;
  /** KV revision the state was read or written at; 0 when the key does not exist. */
  readonly revision: number;
  /** When that revision was written (the KV entry's time; now for this replica's own writes), if it exists. */
  readonly storedAtMs?: number;
}

export interface GroupStoreOptions {
  /**
   * Follow the bucket with KV watches: node groups (the topology check of a pod's signal — is its node's incident
   * open? — then costs no round trip) and every write to a group this replica remembers (so what it remembers is
   * at most the watch's delay behind KV, and a repeat of a problem already firing is decided without a round trip).
   * Without it each pod signal reads its node's group and nothing is decided on remembered state without a write.
   */
  readonly follow?: boolean;
  readonly cacheSize?: number;
  /** Called when the node watch fails (the store then falls back to reading node groups). */
  readonly onWatchError?: (error: unknown) => void;
  /**
   * The fingerprint index (fingerprint → the group that holds it; see {@link homeGrouping}) and how long this
   * replica trusts what it read or wrote there before reading or writing it again (half the buckets' TTL, so an
   * entry of a group still written never expires). Without it signals are grouped only by what they name.
   */
  readonly fingerprints?: { readonly kv: KV; readonly refreshMs: number };
  /**
   * The bucket's TTL: what this replica remembers of a group (and of a node's incident) is trusted only while KV can
   * still hold it — a key not written for this long has expired there (no watch event says so).
   */
  readonly ttlMs?: number;
}

/** The correlator's two KV buckets: group states, and the fingerprint index (`<bucket>_fingerprints`). */
export interface GroupBuckets {
  readonly groups: KV;
  readonly fingerprints: KV;
}

/**
 * Binds to the group bucket and its fingerprint index (created by the admin step with the correlator's TTL as their
 * stream max age: a key not written for that long is gone). A missing bucket, or one whose TTL is below `ttlMs` (it would
 * forget state the rules still look back on), fails the start naming it.
 */
export async function openGroupBuckets(js: JetStreamClient, jsm: JetStreamManager, bucket: string, ttlMs: number): Promise<GroupBuckets> {
  const open = (name: string): Promise<KV> => bindKv(jsm, js, name, { minTtlMs: ttlMs });
  return { groups: await open(bucket), fingerprints: await open(fingerprintsBucket(bucket)) };
}

/** A fingerprint's key in a replica's memory of the index: plain (its KV key, a hash, is computed only for a round trip). */
function memoOf(signal: Signal): string {
  return `${signal.cluster}\u0000${signal.fingerprint}`;
}

/**
 * A fingerprint's index entry: the group that holds it (a plain group key, written after a decision), or a replica's
 * claim to decide its first signals in a grouping (JSON, created only if absent; {@link GroupStore.claim}).
 */
interface Home {
  readonly key: string;
  /** A claim's grouping and when it was made (the entry's KV time). */
  readonly claim?: { readonly grouping: Grouping; readonly atMs: number };
}

/** How a claim is stored. */
interface ClaimValue {
  readonly key: string;
  readonly target: TargetRef;
  readonly rootCause?: TargetRef;
}

/**
 * A claim is followed into its grouping only this long after it was made (its replica decides within milliseconds; a
 * crash before that is redelivered within the ack wait). Later the claimed group holds the fingerprint, or the
 * problem is grouped by what it names.
 */
const CLAIM_WINDOW_MS = 60_000;

function homeOfEntry(entry: KvEntry): Home | undefined {
  const text = entry.string();
  if (!text.startsWith('{')) return { key: text };
  try {
    const value = JSON.parse(text) as Partial<ClaimValue>;
    const target = targetRef.safeParse(value.target);
    const rootCause = value.rootCause === undefined ? undefined : targetRef.safeParse(value.rootCause);
    if (typeof value.key !== 'string' || !target.success || (rootCause !== undefined && !rootCause.success)) return undefined;
    const grouping: Grouping = { key: value.key, target: target.data, ...(rootCause?.success ? { rootCause: rootCause.data } : {}) };
    return { key: value.key, claim: { grouping, atMs: entry.created.getTime() } };
  } catch {
    return undefined;
  }
}

/** What {@link GroupStore} returns for a signal routed to its fingerprint's group that no longer holds it. */
const NOT_HOME = { state: undefined, decision: undefined } as const;

/**
 * Group state in a JetStream KV bucket, written only with compare-and-set on the revision read: two correlator
 * replicas deciding on the same group at once cannot both win — the loser reads the newer state and decides again,
 * so one grouping key never gets two incidents (and the incident id, a hash of key and epoch, is the same anyway).
 *
 * Within one replica the decisions of one group run one at a time (no compare-and-set conflicts with itself), and
 * the replica remembers the state and revision it last stored: the next signal of the group is decided on that and
 * written with compare-and-set on that revision — one round trip instead of a read and a write. If another replica
 * wrote in between, the write fails, the group is read again and the signal decided again, exactly as without the
 * cache. A decision that writes nothing (a replay, a resolve of an unknown problem, a repeat of a problem already
 * firing) is only taken on remembered state while the store follows the bucket (see {@link GroupStoreOptions.follow});
 * otherwise it is taken again on the state read from KV.
 */
export class GroupStore {
  /** Store key → the state this replica last stored, read or saw in the watch (least recently used dropped). */
  private readonly cache = new Map<string, Versioned>();
  /** One decision per group at a time in this replica. */
  private readonly queue = new KeyedQueue();
  /** Node group store key → [revision, incident open, stored at]; filled by the watch and by this replica's own writes. */
  private readonly nodes = new Map<string, readonly [number, boolean, number]>();
  private readonly watches = new Set<QueuedIterator<KvEntry>>();
  private following = false;
  private readonly cacheSize: number;
  /** Cluster and fingerprint → the group key the index named when this replica last read or wrote it (trusted `refreshMs`). */
  private readonly homes: LRUCache<string, Home> | undefined;
  /** Cluster and fingerprint → the group key this replica wrote in the index (written again after `refreshMs`, so it never expires while used). */
  private readonly written: LRUCache<string, string> | undefined;

  private constructor(
    readonly kv: KV,
    private readonly options: GroupStoreOptions,
  ) {
    this.cacheSize = options.cacheSize ?? DEFAULT_GROUP_CACHE_SIZE;
    const index = options.fingerprints;
    this.homes = index === undefined ? undefined : new LRUCache({ max: this.cacheSize * 4, ttl: index.refreshMs });
    this.written = index === undefined ? undefined : new LRUCache({ max: this.cacheSize * 4, ttl: index.refreshMs });
  }

  /** Opens the store; with `follow` it returns once the watches run and every node group's current state is known. */
  static async create(kv: KV, options: GroupStoreOptions = {}): Promise<GroupStore> {
    const store = new GroupStore(kv, options);
    if (options.follow) {
      // Every node group's current state first; other groups only from now on (what is not remembered is read).
      await Promise.all([store.startWatch({ key: NODE_STORE_KEYS }), store.startWatch({ key: GROUP_STORE_KEYS, include: KvWatchInclude.UpdatesOnly })]);
      store.following = store.watches.size === 2;
    }
    return store;
  }

  /** Starts a watch and returns once it has delivered the current values it was asked for. */
  private async startWatch(options: KvWatchOptions): Promise<void> {
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    const watch = await this.kv.watch({ ...options, initializedFn: () => initialized() });
    this.watches.add(watch);
    void (async () => {
      try {
        for await (const entry of watch) this.observe(entry);
      } catch (error) {
        this.options.onWatchError?.(error);
      } finally {
        // A watch that ended leaves the store deciding as if it followed nothing.
        this.following = false;
        this.watches.delete(watch);
        initialized();
      }
    })();
    if (options.include === KvWatchInclude.UpdatesOnly) initialized();
    await ready;
  }

  /** A write seen in the watch (by any replica, this one included). */
  private observe(entry: KvEntry): void {
    const node = entry.key.startsWith('n.');
    const cached = this.cache.get(entry.key);
    const newer = cached !== undefined && cached.revision < entry.revision;
    // Most entries are this replica's own writes coming back, or groups it does not remember: nothing to decode.
    if (!node && !newer) return;
    const state = decode(entry);
    const storedAtMs = entry.created.getTime();
    if (node) this.noteNode(entry.key, entry.revision, isOpen(state), storedAtMs);
    // Map.set on a present key keeps its place: seeing a write does not make a group recently used.
    if (newer) this.cache.set(entry.key, { state, revision: entry.revision, storedAtMs });
  }

  /** Stops following the bucket. */
  close(): void {
    this.following = false;
    for (const watch of this.watches) watch.stop();
    this.watches.clear();
  }

  private noteNode(storeKey: string, revision: number, open: boolean, storedAtMs: number): void {
    const known = this.nodes.get(storeKey);
    if (known === undefined || known[0] < revision) this.nodes.set(storeKey, [revision, open, storedAtMs]);
  }

  /** Whether something stored at `storedAtMs` may have expired from KV by now (see {@link GroupStoreOptions.ttlMs}). */
  private expired(storedAtMs: number | undefined): boolean {
    const ttl = this.options.ttlMs;
    return ttl !== undefined && storedAtMs !== undefined && Date.now() - storedAtMs >= ttl;
  }

  /** The group this replica remembers, unless KV may have expired it since. */
  private recall(storeKey: string): Versioned | undefined {
    const cached = this.cache.get(storeKey);
    if (cached === undefined || !this.expired(cached.storedAtMs)) return cached;
    this.cache.delete(storeKey);
    return undefined;
  }

  /** The group as stored in KV now (no cache). */
  async read(groupKey: string): Promise<Versioned> {
    const entry = await this.kv.get(groupStoreKey(groupKey));
    return { state: decode(entry), revision: entry?.revision ?? 0, ...(entry !== null ? { storedAtMs: entry.created.getTime() } : {}) };
  }

  /** Stores `next` only if the key is still at `revision` (0: does not exist); the new revision, or undefined on a conflict. */
  private async write(groupKey: string, next: GroupState, revision: number): Promise<number | undefined> {
    const key = groupStoreKey(groupKey);
    const data = encoder.encode(JSON.stringify(next));
    try {
      return revision === 0 ? await this.kv.create(key, data) : await this.kv.update(key, data, revision);
    } catch (error) {
      if (isConflict(error)) return undefined;
      throw error;
    }
  }

  private remember(storeKey: string, versioned: Versioned): void {
    const cached = this.cache.get(storeKey);
    // The watch may already have delivered a newer write (another replica's) than the one just read or made.
    const newest = cached !== undefined && cached.revision > versioned.revision ? cached : versioned;
    this.cache.delete(storeKey);
    this.cache.set(storeKey, newest);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    if (storeKey.startsWith('n.') && versioned.revision > 0) this.noteNode(storeKey, versioned.revision, isOpen(versioned.state), versioned.storedAtMs ?? Date.now());
  }

  /**
   * Reads (or recalls) the group, lets `decide` compute the next state and stores it with compare-and-set,
   * deciding again on the newer state after a conflict. `logOnly` results change nothing but the group's signal
   * log (a repeat of a problem already firing): they are not written when the state they were decided on is known
   * to be current — read just now, or remembered while following the bucket (then it is at most the watch's delay
   * old; the decision is the one a signal ordered just before the newest write would have had, and it has no
   * effect to undo). Anything else remembered is only trusted through the compare-and-set of its write.
   */
  private transact<R extends { readonly state: GroupState | undefined }>(groupKey: string, decide: (state: GroupState | undefined) => R, logOnly: (result: R, before: GroupState | undefined) => boolean = () => false): Promise<R> {
    const storeKey = groupStoreKey(groupKey);
    return this.queue.run(groupKey, async () => {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const cached = this.recall(storeKey);
        const current = cached ?? (await this.read(groupKey));
        const result = decide(current.state);
        if (result.state === undefined || logOnly(result, current.state)) {
          if (cached !== undefined && !this.following) {
            // Nothing to write, so nothing validates the recalled state: decide again on what KV holds.
            this.cache.delete(storeKey);
            continue;
          }
          this.remember(storeKey, current);
          return result;
        }
        const revision = await this.write(groupKey, result.state, current.revision);
        if (revision !== undefined) {
          this.remember(storeKey, { state: result.state, revision, storedAtMs: Date.now() });
          return result;
        }
        this.cache.delete(storeKey);
      }
      throw new GroupConflictError(groupKey);
    });
  }

  /**
   * Writes the group's state again, unchanged (a new revision: KV's TTL counts from now), when it still holds incident
   * `incidentId` open or escalated and its stored entry is at least `olderThanMs` old; whether it wrote. Read from KV
   * (the entry's age is KV's), written with compare-and-set: a decision of any replica meanwhile wins. The index
   * entries of its fingerprints are written again too, so the problem's signals keep finding the incident.
   */
  async keepOpen(groupKey: string, incidentId: string, olderThanMs: number): Promise<boolean> {
    const storeKey = groupStoreKey(groupKey);
    return this.queue.run(groupKey, async () => {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const current = await this.read(groupKey);
        const { state } = current;
        if (state === undefined || !isOpen(state) || incidentIdOf(state.key, state.epoch) !== incidentId) return false;
        if (Date.now() - (current.storedAtMs ?? 0) < olderThanMs) return false;
        const revision = await this.write(groupKey, state, current.revision);
        if (revision !== undefined) {
          this.remember(storeKey, { state, revision, storedAtMs: Date.now() });
          const index = this.options.fingerprints;
          for (const fingerprint of Object.keys(state.fingerprints)) await index?.kv.put(fingerprintStoreKey(state.cluster, fingerprint), groupKey);
          return true;
        }
      }
      throw new GroupConflictError(groupKey);
    });
  }

  /** The KV revision of the group this replica remembers (diagnostics and tests), if any. */
  rememberedRevision(groupKey: string): number | undefined {
    return this.cache.get(groupStoreKey(groupKey))?.revision;
  }

  /** Whether the node's incident is open (pods on it are then explained by it: topology). */
  async nodeIncidentOpen(cluster: string, node: string): Promise<boolean> {
    const groupKey = nodeGroupKey(cluster, node);
    if (this.following) {
      const known = this.nodes.get(groupStoreKey(groupKey));
      return known !== undefined && known[1] && !this.expired(known[2]);
    }
    return isOpen((await this.read(groupKey)).state);
  }

  /** The group the fingerprint index names for the signal's fingerprint (remembered, else read), if any. */
  private async homeOf(signal: Signal): Promise<Home | undefined> {
    const index = this.options.fingerprints;
    if (index === undefined || this.homes === undefined) return undefined;
    const memo = memoOf(signal);
    const known = this.homes.get(memo);
    if (known !== undefined) return known;
    const entry = await index.kv.get(fingerprintStoreKey(signal.cluster, signal.fingerprint));
    if (entry === null || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    const home = homeOfEntry(entry);
    if (home !== undefined) this.homes.set(memo, home);
    return home;
  }

  /**
   * Claims a new fingerprint for the grouping this replica would decide it in: the index entry is created only if
   * absent (one create, whoever is first wins), so the first signals of one problem decided at the same moment by
   * two replicas that group them differently (a node incident one of them has not seen yet, an owner chain one signal
   * lacks) are decided in one group. Undefined when this replica's claim stands; else the entry that was there.
   */
  private async claim(signal: Signal, grouping: Grouping): Promise<Home | undefined> {
    const index = this.options.fingerprints;
    if (index === undefined || this.homes === undefined || this.written === undefined || signal.status !== 'firing') return undefined;
    const memo = memoOf(signal);
    const claimed: ClaimValue = { key: grouping.key, target: grouping.target, ...(grouping.rootCause !== undefined ? { rootCause: grouping.rootCause } : {}) };
    try {
      await index.kv.create(fingerprintStoreKey(signal.cluster, signal.fingerprint), JSON.stringify(claimed));
    } catch (error) {
      if (!isConflict(error)) throw error;
      return this.homeOf(signal);
    }
    this.written.set(memo, grouping.key);
    this.homes.set(memo, { key: grouping.key });
    return undefined;
  }

  /** Records in the index that the group holds the fingerprint, unless this replica did (or read it) recently. */
  private async noteHome(signal: Signal, groupKey: string): Promise<void> {
    const index = this.options.fingerprints;
    if (index === undefined || this.homes === undefined || this.written === undefined) return;
    const memo = memoOf(signal);
    if (this.written.get(memo) === groupKey) return;
    await index.kv.put(fingerprintStoreKey(signal.cluster, signal.fingerprint), groupKey);
    this.written.set(memo, groupKey);
    this.homes.set(memo, { key: groupKey });
  }

  /**
   * Decides on one signal with the pure engine and stores the result with compare-and-set. A signal whose
   * fingerprint a group already holds is decided in that group, whatever it names ({@link homeGrouping}: one problem,
   * one incident, even when ingestion's owner lookup answered differently for its signals). A resolved signal
   * routed to its node's open incident that the node's group does not know (the problem was grouped by its owners
   * before the node's incident opened) resolves in the group that holds it instead.
   */
  async apply(signal: Signal, nowMs: number, rules: CorrelationRules): Promise<CorrelationResult & { groupKey: string }> {
    const onNode = signal.node !== undefined && nodeOf(signal) === undefined && (await this.nodeIncidentOpen(signal.cluster, signal.node));
    const grouping = groupingOf(signal, onNode);
    const home = (await this.homeOf(signal)) ?? (await this.claim(signal, grouping));
    if (home !== undefined && home.key !== grouping.key) {
      // Another replica's fresh claim: its grouping decides, even before its first decision is stored there.
      const claimed = home.claim !== undefined && Date.now() - home.claim.atMs < CLAIM_WINDOW_MS ? home.claim.grouping : undefined;
      const routed = await this.decideIn(home.key, (state) => {
        const there = homeGrouping(state, signal) ?? claimed;
        return there === undefined ? NOT_HOME : correlate(state, there, signal, nowMs, rules);
      });
      if (routed.decision !== undefined) {
        // Keeps the index entry alive while the problem is decided there (it expires TTL after its last write).
        await this.noteHome(signal, home.key);
        return { ...routed, decision: routed.decision, groupKey: home.key };
      }
    }
    let result = await this.applyIn(grouping, signal, nowMs, rules);
    if (onNode && signal.status === 'resolved' && result.decision.kind === 'ignored') result = await this.applyIn(groupingOf(signal, false), signal, nowMs, rules);
    if (result.state !== undefined && result.state.fingerprints[signal.fingerprint] !== undefined) await this.noteHome(signal, result.groupKey);
    return result;
  }

  private async applyIn(grouping: Grouping, signal: Signal, nowMs: number, rules: CorrelationRules): Promise<CorrelationResult & { groupKey: string }> {
    const result = await this.decideIn(grouping.key, (state) => correlate(state, grouping, signal, nowMs, rules));
    return { ...result, groupKey: grouping.key };
  }

  /** {@link transact} for a signal's decision: a repeat of a firing problem that changes nothing else is not written. */
  private decideIn<R extends { readonly state: GroupState | undefined; readonly decision?: CorrelationResult['decision'] }>(groupKey: string, decide: (state: GroupState | undefined) => R): Promise<R> {
    return this.transact(
      groupKey,
      decide,
      // A repeat of a firing problem (same severity, last event time not due for a refresh, no liveness probe due): only the signal log would change.
      (r, before) => r.decision?.kind === 'deduplicated' && r.state?.severity === before?.severity && r.state?.lastEventAtMs === before?.lastEventAtMs && r.state?.calledAtMs === before?.calledAtMs,
    );
  }

  /**
   * Records that the incident's workflow is closed while its group still held the incident open (see
   * {@link recordWorkflowEnded}); returns whether anything changed.
   */
  async markEnded(incident: Pick<Incident, 'id' | 'cluster' | 'target'>, nowMs: number): Promise<boolean> {
    const groupKey = targetGroupKey(incident.cluster, incident.target);
    const result = await this.transact(groupKey, (state) => ({ state: state === undefined ? undefined : recordWorkflowEnded(state, incident.id, nowMs) }));
    return result.state !== undefined;
  }

  /**
   * Marks an incident's group remediated (cooldown of its target, escalation when its fingerprints return):
   * `applied`; `stale` when the incident is not the group's current one (a late notice: nothing changes);
   * `unknown` when there is no group.
   */
  async markRemediated(incident: Pick<Incident, 'id' | 'cluster' | 'target'>, nowMs: number): Promise<'applied' | 'stale' | 'unknown'> {
    const groupKey = targetGroupKey(incident.cluster, incident.target);
    const result = await this.transact(groupKey, (state) => ({ state: state === undefined ? undefined : recordRemediation(state, incident.id, nowMs), known: state !== undefined }));
    return result.state !== undefined ? 'applied' : result.known ? 'stale' : 'unknown';
  }

  /**
   * Applies the engine's {@link tick} to every group this replica remembers (at most the cache size) and stores the
   * incidents it resolves with compare-and-set (a group decided meanwhile, here or elsewhere, is decided again on
   * its newer state). Groups it does not remember resolve on their next signal, or on a tick once a signal brought
   * them back. Returns what was resolved; the caller tells the workflows.
   */
  async tick(nowMs: number, rules: CorrelationRules): Promise<TickResult[]> {
    const due: string[] = [];
    for (const { state, storedAtMs } of this.cache.values()) if (state !== undefined && !this.expired(storedAtMs) && tick(state, nowMs, rules) !== undefined) due.push(state.key);
    const resolved: TickResult[] = [];
    for (const groupKey of due) {
      const result = await this.transact<TickResult | { readonly state: undefined }>(groupKey, (state) => (state === undefined ? undefined : tick(state, nowMs, rules)) ?? { state: undefined });
      if (result.state !== undefined) resolved.push(result);
    }
    return resolved;
  }
}
