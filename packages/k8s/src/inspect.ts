import type { Diagnosis } from '@cortexops/contracts';
import { KubernetesGatewayError, KubernetesNotFoundError } from './errors.js';
import { matchLabelsSelector } from './lookups.js';
import type { ClusterResources, KubeObject, ReadableKind, ReadableRef } from './resources.js';
import { withRetry, type RetryOptions } from './retry.js';
import { describeObject, eventOrder, eventSubject, eventSummary, INSPECTION_LIMITS, liveSummary, podOrder, podSummary, problem } from './status.js';

/** What DIAGNOSING reads of a target: the fields of contracts `Diagnosis` that come from the cluster. */
export type Inspection = Pick<Diagnosis, 'live' | 'pods' | 'events' | 'problems'>;

/** Pods and events are listed in pages of at most this many (a namespace with more is read in part, and says so). */
const LIST_LIMIT = 500;
/** Where the API server keeps the events of cluster-scoped objects (nodes). */
const CLUSTER_EVENTS_NAMESPACE = 'default';

const ownedBy = (obj: KubeObject, uids: ReadonlySet<string>) => obj.metadata?.ownerReferences?.some((o) => uids.has(o.uid)) === true;

/**
 * Reads a target the way a person diagnosing it would: the object, the pods it runs, the recent Warning
 * events about them. Best effort: each read that fails (missing object, RBAC, network after retries) is
 * a problem string naming what could not be read, never an exception.
 */
export async function inspectTarget(resources: ClusterResources, ref: ReadableRef, retry: RetryOptions | undefined): Promise<Inspection> {
  const problems: string[] = [];
  const label = describeObject(ref);
  /** The read, or undefined with the reason in `problems`. */
  const attempt = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await withRetry(read, retry);
    } catch (error) {
      if (!(error instanceof KubernetesGatewayError)) throw error;
      problems.push(problem(error instanceof KubernetesNotFoundError && what === label ? `${label} not found` : `${what} not read: ${error.message}`));
      return undefined;
    }
  };

  const obj = await attempt(label, () => resources.read(ref));
  const owned = obj === undefined ? { pods: [] as KubeObject[], owners: [] as KubeObject[] } : await podsOf(resources, ref.kind, obj, attempt, problems);
  const pods = owned.pods.map(podSummary).sort(podOrder);
  if (pods.length > INSPECTION_LIMITS.pods) problems.push(problem(`${pods.length} pods: the first ${INSPECTION_LIMITS.pods} listed (not ready and most restarted first)`));

  // Events about the target (also when it is gone: they may say why), its pods and their ReplicaSets.
  const uids = new Set([obj, ...owned.pods, ...owned.owners].map((o) => o?.metadata?.uid).filter((u): u is string => u !== undefined));
  const namespace = ref.kind === 'Node' ? CLUSTER_EVENTS_NAMESPACE : (ref.namespace ?? '');
  const narrowed = ref.kind === 'Node' ? `involvedObject.kind=Node,involvedObject.name=${ref.name}` : undefined;
  const listed = await attempt(`Warning events in namespace "${namespace}"`, () => resources.listWarningEvents(namespace, narrowed, LIST_LIMIT));
  if (listed?.truncated === true) problems.push(problem(`more than ${LIST_LIMIT} Warning events in namespace "${namespace}": only the first ${LIST_LIMIT} were read`));
  const events = (listed?.items ?? [])
    .filter((e) => {
      const about = eventSubject(e);
      return (about.uid !== undefined && uids.has(about.uid)) || (about.kind === ref.kind && about.name === ref.name);
    })
    .map(eventSummary)
    .sort(eventOrder)
    .slice(0, INSPECTION_LIMITS.events);

  return {
    ...(obj === undefined ? {} : { live: liveSummary(ref.kind, obj) }),
    pods: pods.slice(0, INSPECTION_LIMITS.pods),
    events,
    problems: problems.slice(0, INSPECTION_LIMITS.problems),
  };
}

type Attempt = <T>(what: string, read: () => Promise<T>) => Promise<T | undefined>;

/** The pods `obj` runs (for a Deployment through its ReplicaSets, which are returned as `owners`), by controller uid. */
async function podsOf(resources: ClusterResources, kind: ReadableKind, obj: KubeObject, attempt: Attempt, problems: string[]): Promise<{ pods: KubeObject[]; owners: KubeObject[] }> {
  const namespace = obj.metadata?.namespace ?? '';
  const uid = obj.metadata?.uid ?? '';
  const podsIn = async (owners: ReadonlySet<string>) =>
    ((await attempt(`pods in namespace "${namespace}"`, () => resources.listPods(namespace, matchLabelsSelector(obj)))) ?? []).filter((p) => ownedBy(p, owners));
  switch (kind) {
    case 'Pod':
      return { pods: [obj], owners: [] };
    case 'Node': {
      const listed = await attempt(`pods on node ${obj.metadata?.name ?? ''}`, () => resources.listPodsOnNode(obj.metadata?.name ?? '', LIST_LIMIT));
      if (listed?.truncated === true) problems.push(problem(`more than ${LIST_LIMIT} pods on the node: only the first ${LIST_LIMIT} were read`));
      return { pods: listed?.items ?? [], owners: [] };
    }
    case 'Deployment': {
      const replicaSets = ((await attempt(`ReplicaSets in namespace "${namespace}"`, () => resources.listReplicaSets(namespace, matchLabelsSelector(obj)))) ?? []).filter((rs) =>
        ownedBy(rs, new Set([uid])),
      );
      if (replicaSets.length === 0) return { pods: [], owners: [] };
      return { pods: await podsIn(new Set(replicaSets.map((rs) => rs.metadata?.uid ?? ''))), owners: replicaSets };
    }
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return { pods: await podsIn(new Set([uid])), owners: [] };
  }
}
