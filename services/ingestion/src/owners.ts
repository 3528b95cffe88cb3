import { ApiException, AppsV1Api, CoreV1Api, makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache, type V1OwnerReference } from '@kubernetes/client-node';
import { kubernetesName, objectRef, ownerChain, type ObjectRef } from '@cortexops/contracts';
import { LRUCache } from 'lru-cache';
import type { JetStreamClient, KV } from 'nats';
import pLimit, { type LimitFunction } from 'p-limit';

const MAX_CACHED = 10_000;
/** API reads in flight per process (informer misses only): a webhook call naming a thousand new pods must not hammer the API server. */
const MAX_CONCURRENT_READS = 16;
/**
 * Pods whose owners are being read at once per process (queued behind {@link MAX_CONCURRENT_READS} or reading): a
 * lookup beyond it is refused at once ({@link OwnerLookupQueueFullError}) instead of queueing without bound.
 */
export const MAX_QUEUED_READS = 4096;
/** A pod's owners do not change while it lives; remembered this long so a resolved alert finds what the firing one found. */
const POD_TTL_MS = 6 * 3600 * 1000;
/** A pod neither the watch nor the API knows (gone, or never there): what was found is reused this long, not read again per alert. */
const MISSING_TTL_MS = 60_000;
/** After a failed list or a broken watch, the informer starts again after this long, doubling up to the maximum. */
const INFORMER_RETRY_MS = { first: 2000, max: 60_000 } as const;

/** The node a pod runs on (`spec.nodeName`, kept by the informer), when it is a valid name. */
function nodeNameOf(pod: KubernetesObject): string | undefined {
  const name = kubernetesName.safeParse((pod as { spec?: { nodeName?: unknown } }).spec?.nodeName);
  return name.success ? name.data : undefined;
}

/** The owner lookup of a pod was refused: {@link MAX_QUEUED_READS} pods are being read already. */
export class OwnerLookupQueueFullError extends Error {
  readonly code = 'INGESTION_OWNER_QUEUE_FULL';
  constructor(readonly pending: number) {
    super(`owner lookups: ${pending} pods are being read already (that is the bound)`);
    this.name = 'OwnerLookupQueueFullError';
  }
}

/** The API server did not answer a read the owner chain needs (not a 404), and nothing was remembered of the pod. */
export class OwnerLookupUnavailableError extends Error {
  readonly code = 'INGESTION_OWNER_LOOKUP_UNAVAILABLE';
  constructor(namespace: string, name: string, cause: unknown) {
    super(`owners of ${namespace}/${name}: the API server did not answer`, { cause });
    this.name = 'OwnerLookupUnavailableError';
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

/** A lookup not answered within its deadline (it goes on, and what it finds is remembered for the next call). */
export const LOOKUP_PENDING = Symbol('owner lookup pending');

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

/** What the shared bucket holds of a pod: its owner chain and the node it ran on. */
interface RememberedPod {
  readonly chain: ObjectRef[];
  readonly node?: string;
}

function sameChain(a: readonly ObjectRef[] | undefined, b: readonly ObjectRef[]): boolean {
  return a !== undefined && a.length === b.length && a.every((ref, i) => ref.kind === b[i]?.kind && ref.name === b[i]?.name);
}

/**
 * A watch of every object of one kind (pods, ReplicaSets) as controllers keep one: listed once, then kept current
 * by a watch, restarted after a failure. Only what owner chains need is kept: spec and status are dropped as
 * objects arrive, so a cluster's pods cost their metadata.
 */
class MetadataInformer<T extends KubernetesObject> {
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private delay: number = INFORMER_RETRY_MS.first;
  private readonly informer: Informer<T> & ObjectCache<T>;

  constructor(
    kc: KubeConfig,
    path: string,
    list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
    private readonly onError: (error: unknown) => void,
  ) {
    this.informer = makeInformer<T>(kc, path, async () => {
      const listed = await list();
      this.delay = INFORMER_RETRY_MS.first;
      return listed;
    });
    const strip = (obj: T): void => {
      // The cache holds the very object handed to the callbacks: keep its metadata (and a pod's node), drop the rest.
      const o = obj as { spec?: { nodeName?: unknown }; status?: unknown; metadata?: { managedFields?: unknown; annotations?: unknown } };
      const nodeName = o.spec?.nodeName;
      if (typeof nodeName === 'string') o.spec = { nodeName };
      else delete o.spec;
      delete o.status;
      if (o.metadata) {
        delete o.metadata.managedFields;
        delete o.metadata.annotations;
      }
    };
    this.informer.on('add', strip);
    this.informer.on('update', strip);
    this.informer.on('error', (error: unknown) => {
      if (this.stopped) return;
      this.onError(error);
      this.retry = setTimeout(() => void this.informer.start().catch(this.onError), this.delay);
      this.delay = Math.min(this.delay * 2, INFORMER_RETRY_MS.max);
    });
  }

  /** Lists and starts watching; resolves after the first list (or its failure, reported and retried). */
  async start(): Promise<void> {
    await this.informer.start();
  }

  get(namespace: string, name: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer.stop();
  }
}

/**
 * The owner chain of a pod (Pod → ReplicaSet → Deployment, or Pod → StatefulSet/DaemonSet/Job), so grouping by
 * ownership works for sources that name just the pod. Read from an informer cache of pods and ReplicaSets (a watch,
 * as controllers do: no API call per alert); a pod the watch has not shown yet is read with `get`. A pod that is gone
 * gives what is remembered — in this process, else in the shared KV bucket (every ingestion replica's reads,
 * surviving restarts) — else an empty chain.
 */
export class OwnerResolver {
  private readonly pods = new LRUCache<string, ObjectRef[]>({ max: MAX_CACHED, ttl: POD_TTL_MS });
  private readonly replicaSets = new LRUCache<string, ObjectRef[]>({ max: MAX_CACHED, ttl: POD_TTL_MS });
  private readonly reads: LimitFunction = pLimit(MAX_CONCURRENT_READS);
  /** Chains of pods the watch does not hold, as the API and the shared bucket gave them (a pod the watch shows later wins). */
  private readonly missing = new LRUCache<string, ObjectRef[]>({ max: MAX_CACHED, ttl: MISSING_TTL_MS });
  /** The node each pod runs on, as the watch or a read showed it: a pod that is gone keeps its node for its resolved alerts. */
  private readonly nodes = new LRUCache<string, string>({ max: MAX_CACHED, ttl: POD_TTL_MS });
  /** Reads in progress per pod: a body naming one unknown pod a thousand times reads it once. */
  private readonly inFlight = new Map<string, Promise<ObjectRef[]>>();

  private constructor(
    private readonly core: CoreV1Api,
    private readonly apps: AppsV1Api,
    private readonly podCache: MetadataInformer<KubernetesObject>,
    private readonly replicaSetCache: MetadataInformer<KubernetesObject>,
    private readonly shared: KV | undefined,
    private readonly maxQueued: number,
  ) {}

  /** Builds the resolver and starts its informers (resolves after their first list). */
  static async start(kc: KubeConfig, options: { shared?: KV; onError?: (error: unknown) => void; maxQueued?: number } = {}): Promise<OwnerResolver> {
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const onError = options.onError ?? (() => undefined);
    const resolver = new OwnerResolver(
      core,
      apps,
      new MetadataInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces(), onError),
      new MetadataInformer(kc, '/apis/apps/v1/replicasets', () => apps.listReplicaSetForAllNamespaces(), onError),
      options.shared,
      options.maxQueued ?? MAX_QUEUED_READS,
    );
    await Promise.all([resolver.podCache.start(), resolver.replicaSetCache.start()]);
    return resolver;
  }

  async stop(): Promise<void> {
    await Promise.all([this.podCache.stop(), this.replicaSetCache.stop()]);
  }

  /** What a replica wrote of a pod while it lived: its owners and node (an older record holds the owners alone). */
  private async remembered(namespace: string, name: string): Promise<RememberedPod> {
    try {
      const entry = await this.shared?.get(podKey(namespace, name));
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) return { chain: [] };
      // What a replica wrote, read back as untrusted input.
      const json: unknown = entry.json();
      const record = Array.isArray(json) ? { ownerChain: json } : (json as { ownerChain?: unknown; node?: unknown });
      const chain = ownerChain.safeParse(record.ownerChain);
      const node = kubernetesName.safeParse(record.node);
      return { chain: chain.success ? chain.data : [], ...(node.success ? { node: node.data } : {}) };
    } catch {
      return { chain: [] };
    }
  }

  /** Keeps the chain (and the pod's node) in this process and, once per pod, in the shared bucket; returns the chain. */
  private remember(namespace: string, name: string, chain: ObjectRef[], node: string | undefined): ObjectRef[] {
    const key = `${namespace}/${name}`;
    const known = this.pods.get(key);
    const knownNode = this.nodes.get(key);
    this.pods.set(key, chain);
    if (node !== undefined) this.nodes.set(key, node);
    // Once per pod and process; best effort: a failed write only means another replica (or a restart) reads again.
    if ((chain.length > 0 || node !== undefined) && (!sameChain(known, chain) || knownNode !== node)) {
      void this.shared?.put(podKey(namespace, name), JSON.stringify({ ownerChain: chain, ...(node !== undefined ? { node } : {}) })).catch(() => undefined);
    }
    return chain;
  }

  /**
   * Like {@link ofPod}, but gives up after `timeoutMs` with {@link LOOKUP_PENDING} (the lookup goes on and is
   * remembered): a slow API server must not hold up a source that has to answer quickly — the caller answers so that
   * it is asked again (Alertmanager retries a 503), never with a chain the lookup's race decided.
   */
  async ofPodWithin(namespace: string, name: string, timeoutMs: number): Promise<ObjectRef[] | typeof LOOKUP_PENDING> {
    const cached = this.fromCache(namespace, name);
    if (cached) return cached;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof LOOKUP_PENDING>((resolve) => {
      timer = setTimeout(() => resolve(LOOKUP_PENDING), timeoutMs);
    });
    try {
      return await Promise.race([this.ofPod(namespace, name), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The node the pod runs on (`spec.nodeName`), from the watch or what this process read while the pod lived; no I/O.
   * Undefined for a pod not scheduled yet, or one this process never saw. Alerts about pods (kubernetes-mixin's
   * `KubePodCrashLooping`, `KubePodNotReady` ...) carry no node label: this is what puts them on their node.
   */
  nodeOfPod(namespace: string, name: string): string | undefined {
    const key = `${namespace}/${name}`;
    const pod = this.podCache.get(namespace, name);
    const node = pod === undefined ? undefined : nodeNameOf(pod);
    if (node === undefined) return this.nodes.get(key);
    if (this.nodes.get(key) !== node) this.nodes.set(key, node);
    return node;
  }

  /** The chain of a pod the informers hold (or this process remembers), without any I/O; undefined otherwise. */
  fromCache(namespace: string, name: string): ObjectRef[] | undefined {
    const pod = this.podCache.get(namespace, name);
    if (pod) {
      const owner = controllerOf(pod.metadata?.ownerReferences);
      if (owner?.kind !== 'ReplicaSet') return this.remember(namespace, name, owner === undefined ? [] : [owner], nodeNameOf(pod));
      const above = this.replicaSetChain(namespace, owner.name);
      // A ReplicaSet the watch has not shown yet: read by ofPod.
      if (above !== undefined) return this.remember(namespace, name, [owner, ...above], nodeNameOf(pod));
    }
    const key = `${namespace}/${name}`;
    return this.pods.get(key) ?? this.missing.get(key);
  }

  async ofPod(namespace: string, name: string): Promise<ObjectRef[]> {
    const cached = this.fromCache(namespace, name);
    if (cached) return cached;
    const key = `${namespace}/${name}`;
    let reading = this.inFlight.get(key);
    if (!reading) {
      if (this.inFlight.size >= this.maxQueued) throw new OwnerLookupQueueFullError(this.inFlight.size);
      reading = this.read(namespace, name).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, reading);
    }
    return reading;
  }

  private async read(namespace: string, name: string): Promise<ObjectRef[]> {
    let pod = this.podCache.get(namespace, name);
    if (!pod) {
      try {
        // Not in the watch (yet): a pod created a moment ago, or one that is gone.
        pod = await this.reads(() => this.core.readNamespacedPod({ name, namespace }));
      } catch (error) {
        // The pod is gone (404), or the API server did not answer: what a replica read while it lived, if anything.
        const { chain, node } = await this.remembered(namespace, name);
        // Unanswered and nothing remembered: not known — never "no owners", which would group the pod by the race.
        if (chain.length === 0 && !isNotFound(error)) throw new OwnerLookupUnavailableError(namespace, name, error);
        this.missing.set(`${namespace}/${name}`, chain);
        // Where the gone pod ran, as a replica saw it: its resolved alerts keep the node their firing ones had.
        if (node !== undefined && this.nodes.get(`${namespace}/${name}`) === undefined) this.nodes.set(`${namespace}/${name}`, node);
        return chain;
      }
    }
    const owner = controllerOf(pod.metadata?.ownerReferences);
    return this.remember(namespace, name, owner === undefined ? [] : [owner, ...(owner.kind === 'ReplicaSet' ? await this.ofReplicaSet(namespace, owner.name) : [])], nodeNameOf(pod));
  }

  /** The ReplicaSet's own owner from the informer, or from what was read before; undefined when neither knows it. */
  private replicaSetChain(namespace: string, name: string): ObjectRef[] | undefined {
    const key = `${namespace}/${name}`;
    const rs = this.replicaSetCache.get(namespace, name);
    if (rs) {
      const owner = controllerOf(rs.metadata?.ownerReferences);
      const chain = owner === undefined ? [] : [owner];
      this.replicaSets.set(key, chain);
      return chain;
    }
    return this.replicaSets.get(key);
  }

  private async ofReplicaSet(namespace: string, name: string): Promise<ObjectRef[]> {
    const known = this.replicaSetChain(namespace, name);
    if (known) return known;
    let owners: V1OwnerReference[] | undefined;
    try {
      owners = (await this.reads(() => this.apps.readNamespacedReplicaSet({ name, namespace }))).metadata?.ownerReferences;
    } catch (error) {
      if (!isNotFound(error)) throw new OwnerLookupUnavailableError(namespace, name, error);
      return []; // the ReplicaSet is gone: the chain stops at it (not remembered)
    }
    const owner = controllerOf(owners);
    const chain = owner === undefined ? [] : [owner];
    this.replicaSets.set(`${namespace}/${name}`, chain);
    return chain;
  }
}
