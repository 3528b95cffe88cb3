import { AppsV1Api, CoreV1Api, type KubeConfig, type V1OwnerReference } from '@kubernetes/client-node';
import { objectRef, ownerChain, type ObjectRef } from '@cortexops/contracts';
import { LRUCache } from 'lru-cache';
import type { JetStreamClient, KV } from 'nats';
import pLimit, { type LimitFunction } from 'p-limit';

const MAX_CACHED = 10_000;
/** API reads in flight per process: a webhook call naming a thousand pods must not hammer the API server. */
const MAX_CONCURRENT_READS = 16;
/** A pod's owners do not change while it lives; remembered this long so a resolved alert finds what the firing one found. */
const POD_TTL_MS = 6 * 3600 * 1000;

function controllerOf(owners: readonly V1OwnerReference[] | undefined): ObjectRef | undefined {
  const ref = objectRef.safeParse(owners?.find((o) => o.controller));
  return ref.success ? ref.data : undefined;
}

/** Opens (or creates) the shared memory of pod owners: a KV bucket whose entries expire with the in-process cache. */
export async function podOwnersBucket(js: JetStreamClient, name: string): Promise<KV> {
  return js.views.kv(name, { history: 1, ttl: POD_TTL_MS });
}

function podKey(namespace: string, name: string): string {
  // KV keys allow letters, digits, '-', '_', '/', '=' and '.': namespace and pod names are DNS names already.
  return `${namespace}.${name}`;
}

/**
 * The owner chain of a pod (Pod → ReplicaSet → Deployment, or Pod → StatefulSet/DaemonSet/Job), read from the
 * API server with `get` only and remembered, so grouping by ownership works for sources that name just the pod.
 * A pod that is gone (or an API that does not answer) gives what is remembered — in this process, else in the
 * shared KV bucket (every ingestion replica's reads, surviving restarts) — else an empty chain.
 */
export class OwnerResolver {
  private readonly pods = new LRUCache<string, ObjectRef[]>({ max: MAX_CACHED, ttl: POD_TTL_MS });
  private readonly replicaSets = new LRUCache<string, ObjectRef[]>({ max: MAX_CACHED, ttl: POD_TTL_MS });
  private readonly reads: LimitFunction = pLimit(MAX_CONCURRENT_READS);

  private constructor(
    private readonly core: CoreV1Api,
    private readonly apps: AppsV1Api,
    private readonly shared: KV | undefined,
  ) {}

  static create(kc: KubeConfig, shared?: KV): OwnerResolver {
    return new OwnerResolver(kc.makeApiClient(CoreV1Api), kc.makeApiClient(AppsV1Api), shared);
  }

  private async remembered(namespace: string, name: string): Promise<ObjectRef[]> {
    try {
      const entry = await this.shared?.get(podKey(namespace, name));
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) return [];
      // What a replica wrote, read back as untrusted input.
      const chain = ownerChain.safeParse(entry.json());
      return chain.success ? chain.data : [];
    } catch {
      return [];
    }
  }

  private remember(namespace: string, name: string, chain: ObjectRef[]): void {
    this.pods.set(`${namespace}/${name}`, chain);
    // Best effort: a failed write only means another replica (or a restart) reads the API again.
    if (chain.length > 0) void this.shared?.put(podKey(namespace, name), JSON.stringify(chain)).catch(() => undefined);
  }

  /**
   * Like {@link ofPod}, but gives up after `timeoutMs` with an empty chain (the lookup goes on and is remembered):
   * a slow API server must not hold up a source that has to answer quickly (Alertmanager retries on timeout).
   */
  async ofPodWithin(namespace: string, name: string, timeoutMs: number): Promise<ObjectRef[]> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ObjectRef[]>((resolve) => {
      timer = setTimeout(() => resolve([]), timeoutMs);
    });
    try {
      return await Promise.race([this.ofPod(namespace, name), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async ofPod(namespace: string, name: string): Promise<ObjectRef[]> {
    const key = `${namespace}/${name}`;
    const known = this.pods.get(key);
    if (known) return known;
    let pod;
    try {
      pod = await this.reads(() => this.core.readNamespacedPod({ name, namespace }));
    } catch {
      // The pod may be gone already: what a replica read while it lived, if anything.
      return this.remembered(namespace, name);
    }
    const owner = controllerOf(pod.metadata?.ownerReferences);
    const chain = owner === undefined ? [] : [owner, ...(owner.kind === 'ReplicaSet' ? await this.ofReplicaSet(namespace, owner.name) : [])];
    this.remember(namespace, name, chain);
    return chain;
  }

  private async ofReplicaSet(namespace: string, name: string): Promise<ObjectRef[]> {
    const key = `${namespace}/${name}`;
    const known = this.replicaSets.get(key);
    if (known) return known;
    let owners: V1OwnerReference[] | undefined;
    try {
      owners = (await this.reads(() => this.apps.readNamespacedReplicaSet({ name, namespace }))).metadata?.ownerReferences;
    } catch {
      return []; // the ReplicaSet is gone: the chain stops at it (not remembered)
    }
    const owner = controllerOf(owners);
    const chain = owner === undefined ? [] : [owner];
    this.replicaSets.set(key, chain);
    return chain;
  }
}
