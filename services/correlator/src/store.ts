import { NatsError, type KV, type KvEntry, type QueuedIterator } from 'nats';
import { correlate, type CorrelationResult, type CorrelationRules, type GroupState, groupingOf, groupStoreKey, isOpen, NODE_STORE_KEYS, nodeGroupKey, nodeOf, recordRemediation, targetGroupKey } from './engine.js';
import type { Incident, Signal } from '@cortexops/contracts';
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
}

export interface GroupStoreOptions {
  /**
   * Follow node groups with a KV watch, so the topology check of a pod's signal (is its node's incident open?)
   * costs no round trip. Without it each such signal reads the node's group.
   */
  readonly followNodes?: boolean;
  readonly cacheSize?: number;
  /** Called when the node watch fails (the store then falls back to reading node groups). */
  readonly onWatchError?: (error: unknown) => void;
}

/**
 * Group state in a JetStream KV bucket, written only with compare-and-set on the revision read: two correlator
 * replicas deciding on the same group at once cannot both win — the loser reads the newer state and decides again,
 * so one grouping key never gets two incidents (and the incident id, a hash of key and epoch, is the same anyway).
 *
 * Within one replica the decisions of one group run one at a time (no compare-and-set conflicts with itself), and
 * the replica remembers the state and revision it last stored: the next signal of the group is decided on that and
 * written with compare-and-set on that revision — one round trip instead of a read and a write. If another replica
 * wrote in between, the write fails, the group is read again and the signal decided again, exactly as without the
 * cache. A decision that writes nothing (a replay, a resolve of an unknown problem) is never trusted to the cache:
 * it is taken again on the state read from KV.
 */
export class GroupStore {
  private readonly cache = new Map<string, Versioned>();
  /** One decision per group at a time in this replica. */
  private readonly queue = new KeyedQueue();
  /** Node group store key → [revision, incident open]; filled by the watch and by this replica's own writes. */
  private readonly nodes = new Map<string, readonly [number, boolean]>();
  private watch: QueuedIterator<KvEntry> | undefined;
  private readonly cacheSize: number;

  private constructor(
    readonly kv: KV,
    private readonly options: GroupStoreOptions,
  ) {
    this.cacheSize = options.cacheSize ?? DEFAULT_GROUP_CACHE_SIZE;
  }

  /** Opens the store; with `followNodes` it returns once the watch has delivered every node group's current state. */
  static async create(kv: KV, options: GroupStoreOptions = {}): Promise<GroupStore> {
    const store = new GroupStore(kv, options);
    if (options.followNodes) await store.followNodes();
    return store;
  }

  private async followNodes(): Promise<void> {
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    this.watch = await this.kv.watch({ key: NODE_STORE_KEYS, initializedFn: () => initialized() });
    const watch = this.watch;
    void (async () => {
      try {
        for await (const entry of watch) this.noteNode(entry.key, entry.revision, isOpen(decode(entry)));
      } catch (error) {
        this.options.onWatchError?.(error);
      } finally {
        if (this.watch === watch) this.watch = undefined;
        initialized();
      }
    })();
    await ready;
  }

  /** Stops following node groups. */
  close(): void {
    const watch = this.watch;
    this.watch = undefined;
    watch?.stop();
  }

  private noteNode(storeKey: string, revision: number, open: boolean): void {
    const known = this.nodes.get(storeKey);
    if (known === undefined || known[0] < revision) this.nodes.set(storeKey, [revision, open]);
  }

  /** The group as stored in KV now (no cache). */
  async read(groupKey: string): Promise<Versioned> {
    const entry = await this.kv.get(groupStoreKey(groupKey));
    return { state: decode(entry), revision: entry?.revision ?? 0 };
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

  private remember(groupKey: string, versioned: Versioned): void {
    this.cache.delete(groupKey);
    this.cache.set(groupKey, versioned);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    if (groupKey.startsWith('node/') && versioned.revision > 0) this.noteNode(groupStoreKey(groupKey), versioned.revision, isOpen(versioned.state));
  }

  /**
   * Reads (or recalls) the group, lets `decide` compute the next state and stores it with compare-and-set,
   * deciding again on the newer state after a conflict.
   */
  private transact<R extends { readonly state: GroupState | undefined }>(groupKey: string, decide: (state: GroupState | undefined) => R): Promise<R> {
    return this.queue.run(groupKey, async () => {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const cached = this.cache.get(groupKey);
        const current = cached ?? (await this.read(groupKey));
        const result = decide(current.state);
        if (result.state === undefined) {
          // Nothing to write, so nothing validates the recalled state: decide again on what KV holds.
          if (cached !== undefined) {
            this.cache.delete(groupKey);
            continue;
          }
          this.remember(groupKey, current);
          return result;
        }
        const revision = await this.write(groupKey, result.state, current.revision);
        if (revision !== undefined) {
          this.remember(groupKey, { state: result.state, revision });
          return result;
        }
        this.cache.delete(groupKey);
      }
      throw new GroupConflictError(groupKey);
    });
  }

  /** Whether the node's incident is open (pods on it are then explained by it: topology). */
  private async nodeIncidentOpen(cluster: string, node: string): Promise<boolean> {
    const groupKey = nodeGroupKey(cluster, node);
    if (this.watch !== undefined) return this.nodes.get(groupStoreKey(groupKey))?.[1] ?? false;
    return isOpen((await this.read(groupKey)).state);
  }

  /** Decides on one signal with the pure engine and stores the result with compare-and-set. */
  async apply(signal: Signal, nowMs: number, rules: CorrelationRules): Promise<CorrelationResult & { groupKey: string }> {
    const onNode = signal.node !== undefined && nodeOf(signal) === undefined && (await this.nodeIncidentOpen(signal.cluster, signal.node));
    const grouping = groupingOf(signal, onNode);
    const result = await this.transact(grouping.key, (state) => correlate(state, grouping, signal, nowMs, rules));
    return { ...result, groupKey: grouping.key };
  }

  /**
   * Marks an incident's group remediated (cooldown of its target, escalation when its fingerprints return);
   * returns false when the group is unknown.
   */
  async markRemediated(incident: Pick<Incident, 'id' | 'cluster' | 'target'>, nowMs: number): Promise<boolean> {
    const groupKey = targetGroupKey(incident.cluster, incident.target);
    const result = await this.transact(groupKey, (state) => ({ state: state === undefined ? undefined : recordRemediation(state, incident.id, nowMs) }));
    return result.state !== undefined;
  }
}
