import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { classifyKubernetesError, type RequestContext } from './errors.js';

/** A JSON Patch (RFC 6902) operation, as the API server takes it. */
export type JsonPatchOp =
  | { readonly op: 'add' | 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

/** The objects the catalogue changes, as plain JSON (what the API server returned). */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly generation?: number;
    readonly annotations?: Record<string, string>;
    readonly labels?: Record<string, string>;
    readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly uid: string; readonly controller?: boolean }[];
    readonly deletionTimestamp?: Date | string;
    readonly creationTimestamp?: Date | string;
  };
  readonly spec?: Record<string, unknown>;
  readonly status?: unknown;
}

export type PatchableKind = 'Deployment' | 'StatefulSet' | 'Node';
export interface ObjectRef {
  readonly kind: PatchableKind;
  readonly namespace?: string;
  readonly name: string;
}

/** Kinds the gateway reads (inspect, rollout status); it writes only the patchable ones. */
export type ReadableKind = PatchableKind | 'Pod' | 'ReplicaSet' | 'DaemonSet' | 'Job';
export interface ReadableRef {
  readonly kind: ReadableKind;
  readonly namespace?: string;
  readonly name: string;
}

export const RESOURCE_OF: Record<ReadableKind | 'Event', { readonly group: string; readonly resource: string }> = {
  Deployment: { group: 'apps', resource: 'deployments' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  Node: { group: '', resource: 'nodes' },
  Pod: { group: '', resource: 'pods' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  Job: { group: 'batch', resource: 'jobs' },
  Event: { group: '', resource: 'events' },
};

/** A page of a list: `truncated` when the server had more than the limit asked for. */
export interface Listed {
  readonly items: KubeObject[];
  readonly truncated: boolean;
}

export const FIELD_MANAGER = 'cortexops';

/** Told of every request the gateway sends (before it is sent): for metrics, logs and tests. */
export type RequestObserver = (request: RequestContext) => void;
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** Plain JSON of a client-node model (dates as strings, no class instances), so diffs and deep comparisons see what the server sent. */
function plain<T>(value: T): KubeObject {
  const json: KubeObject = JSON.parse(JSON.stringify(value)) as KubeObject;
  return json;
}

function namespaceOf(ref: { readonly namespace?: string }): string {
  if (ref.namespace === undefined) throw new TypeError('a namespaced object needs a namespace');
  return ref.namespace;
}

/** The few calls the gateway makes, each classified into the gateway's errors with what was asked. */
export class ClusterResources {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly observe: RequestObserver = () => undefined,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
  }

  private async call<T>(req: RequestContext, fn: () => Promise<T>): Promise<T> {
    this.observe(req);
    try {
      return await fn();
    } catch (error) {
      throw classifyKubernetesError(error, req);
    }
  }

  private request(verb: RequestContext['verb'], kind: keyof typeof RESOURCE_OF, ref: { namespace?: string; name?: string }, dryRun = false): RequestContext {
    const { group, resource } = RESOURCE_OF[kind];
    return { verb, group, resource, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }), ...(ref.name === undefined ? {} : { name: ref.name }), dryRun };
  }

  async read(ref: ReadableRef): Promise<KubeObject> {
    const req = this.request('get', ref.kind, ref);
    const name = ref.name;
    switch (ref.kind) {
      case 'Deployment':
        return plain(await this.call(req, () => this.apps.readNamespacedDeployment({ name, namespace: namespaceOf(ref) })));
      case 'StatefulSet':
        return plain(await this.call(req, () => this.apps.readNamespacedStatefulSet({ name, namespace: namespaceOf(ref) })));
      case 'Node':
        return plain(await this.call(req, () => this.core.readNode({ name })));
      case 'Pod':
        return plain(await this.call(req, () => this.core.readNamespacedPod({ name, namespace: namespaceOf(ref) })));
      case 'ReplicaSet':
        return plain(await this.call(req, () => this.apps.readNamespacedReplicaSet({ name, namespace: namespaceOf(ref) })));
      case 'DaemonSet':
        return plain(await this.call(req, () => this.apps.readNamespacedDaemonSet({ name, namespace: namespaceOf(ref) })));
      case 'Job':
        return plain(await this.call(req, () => this.batch.readNamespacedJob({ name, namespace: namespaceOf(ref) })));
    }
  }

  /** JSON Patch, server-side dry run (`dryRun=All`) when asked: the answer is what the object would become. */
  async patch(ref: ObjectRef, ops: readonly JsonPatchOp[], dryRun: boolean): Promise<KubeObject> {
    const req = this.request('patch', ref.kind, ref, dryRun);
    const params = { name: ref.name, body: ops, fieldManager: FIELD_MANAGER, ...(dryRun ? { dryRun: 'All' } : {}) };
    switch (ref.kind) {
      case 'Deployment':
        return plain(await this.call(req, () => this.apps.patchNamespacedDeployment({ ...params, namespace: namespaceOf(ref) }, JSON_PATCH)));
      case 'StatefulSet':
        return plain(await this.call(req, () => this.apps.patchNamespacedStatefulSet({ ...params, namespace: namespaceOf(ref) }, JSON_PATCH)));
      case 'Node':
        return plain(await this.call(req, () => this.core.patchNode(params, JSON_PATCH)));
    }
  }

  async readPod(namespace: string, name: string): Promise<KubeObject> {
    return this.read({ kind: 'Pod', namespace, name });
  }

  async listPods(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    const req = this.request('list', 'Pod', { namespace });
    const list = await this.call(req, () => this.core.listNamespacedPod({ namespace, labelSelector }));
    return list.items.map((p) => plain(p));
  }

  /** The pods bound to `node`, in every namespace (needs list pods cluster-wide). */
  async listPodsOnNode(node: string, limit: number): Promise<Listed> {
    const req = this.request('list', 'Pod', {});
    const list = await this.call(req, () => this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}`, limit }));
    return { items: list.items.map((p) => plain(p)), truncated: list.metadata?._continue !== undefined && list.metadata._continue !== '' };
  }

  /** Warning events of a namespace, narrowed by `fieldSelector` (e.g. `involvedObject.kind=Node`) when given. */
  async listWarningEvents(namespace: string, fieldSelector: string | undefined, limit: number): Promise<Listed> {
    const req = this.request('list', 'Event', { namespace });
    const selector = ['type=Warning', ...(fieldSelector === undefined ? [] : [fieldSelector])].join(',');
    const list = await this.call(req, () => this.core.listNamespacedEvent({ namespace, fieldSelector: selector, limit }));
    return { items: list.items.map((e) => plain(e)), truncated: list.metadata?._continue !== undefined && list.metadata._continue !== '' };
  }

  /** Deletes exactly the pod with `uid` (a precondition), so a replacement of the same name is never deleted by mistake. */
  async deletePod(namespace: string, name: string, uid: string, dryRun: boolean): Promise<KubeObject | undefined> {
    const req = this.request('delete', 'Pod', { namespace, name }, dryRun);
    const answer = await this.call(req, () =>
      // With a body (DeleteOptions), the API server reads the options from it and ignores the query
      // string: dryRun must be in the body too, or a "dry run" deletes the pod.
      this.core.deleteNamespacedPod({ name, namespace, body: { preconditions: { uid }, ...(dryRun ? { dryRun: ['All'] } : {}) }, ...(dryRun ? { dryRun: 'All' } : {}) }),
    );
    return plain(answer);
  }

  /** The Deployments and StatefulSets of a namespace (finding the one that holds a receipt). */
  async listWorkloads(namespace: string): Promise<KubeObject[]> {
    const deployments = await this.call(this.request('list', 'Deployment', { namespace }), () => this.apps.listNamespacedDeployment({ namespace }));
    const statefulSets = await this.call(this.request('list', 'StatefulSet', { namespace }), () => this.apps.listNamespacedStatefulSet({ namespace }));
    return [
      ...deployments.items.map((d) => ({ ...plain(d), apiVersion: 'apps/v1', kind: 'Deployment' })),
      ...statefulSets.items.map((s) => ({ ...plain(s), apiVersion: 'apps/v1', kind: 'StatefulSet' })),
    ];
  }

  async readReplicaSet(namespace: string, name: string): Promise<KubeObject> {
    return this.read({ kind: 'ReplicaSet', namespace, name });
  }

  async listReplicaSets(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    const req = this.request('list', 'ReplicaSet', { namespace });
    const list = await this.call(req, () => this.apps.listNamespacedReplicaSet({ namespace, labelSelector }));
    return list.items.map((rs) => plain(rs));
  }
}
