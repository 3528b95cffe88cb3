import { NatsError, type KV, type KvEntry } from 'nats';
import { correlate, type CorrelationResult, type CorrelationRules, type GroupState, groupingOf, groupStoreKey, isOpen, nodeGroupKey, nodeOf, recordRemediation, targetGroupKey } from './engine.js';
import type { Incident, Signal } from '@cortexops/contracts';

/** JetStream's "wrong last sequence": somebody else wrote the key since we read it. */
const WRONG_LAST_SEQUENCE = 10071;
const MAX_CAS_ATTEMPTS = 50;

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

/**
 * Group state in a JetStream KV bucket, written only with compare-and-set on the revision read: two correlator
 * replicas deciding on the same group at once cannot both win — the loser reads the newer state and decides again,
 * so one grouping key never gets two incidents (and the incident id, a hash of key and epoch, is the same anyway).
 */
export class GroupStore {
  constructor(readonly kv: KV) {}

  async read(groupKey: string): Promise<{ state: GroupState | undefined; revision: number }> {
    const entry = await this.kv.get(groupStoreKey(groupKey));
    return { state: decode(entry), revision: entry?.revision ?? 0 };
  }

  /** Stores `next` only if the key is still at `revision` (0: does not exist or was deleted). */
  private async write(groupKey: string, next: GroupState, revision: number): Promise<boolean> {
    const key = groupStoreKey(groupKey);
    const data = encoder.encode(JSON.stringify(next));
    try {
      if (revision === 0) await this.kv.create(key, data);
      else await this.kv.update(key, data, revision);
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  /** Reads the group, decides with the pure engine, and stores the result with compare-and-set (retrying on conflict). */
  async apply(signal: Signal, nowMs: number, rules: CorrelationRules): Promise<CorrelationResult & { groupKey: string }> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      // Topology: a pod on a node whose incident is open is explained by the node.
      let nodeIncidentOpen = false;
      if (signal.node !== undefined && nodeOf(signal) === undefined) {
        nodeIncidentOpen = isOpen((await this.read(nodeGroupKey(signal.cluster, signal.node))).state);
      }
      const grouping = groupingOf(signal, nodeIncidentOpen);
      const { state, revision } = await this.read(grouping.key);
      const result = correlate(state, grouping, signal, nowMs, rules);
      if (result.state === undefined || (await this.write(grouping.key, result.state, revision))) return { ...result, groupKey: grouping.key };
    }
    throw new GroupConflictError(signal.id);
  }

  /**
   * Marks an incident's group remediated (cooldown of its target, escalation when its fingerprints return);
   * returns false when the group is unknown.
   */
  async markRemediated(incident: Pick<Incident, 'id' | 'cluster' | 'target'>, nowMs: number): Promise<boolean> {
    const groupKey = targetGroupKey(incident.cluster, incident.target);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const { state, revision } = await this.read(groupKey);
      if (state === undefined) return false;
      if (await this.write(groupKey, recordRemediation(state, incident.id, nowMs), revision)) return true;
    }
    throw new GroupConflictError(groupKey);
  }
}
