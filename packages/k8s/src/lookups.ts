import { NoPreviousRevisionError, UnsupportedTargetError } from './errors.js';
import { REVISION_ANNOTATION } from './receipt.js';
import type { ClusterResources, KubeObject } from './resources.js';

/** Reads the gateway needs beyond the target itself: a pod's controller, a Deployment's previous revision, replacement pods. */

function controllerRef(obj: KubeObject) {
  return obj.metadata?.ownerReferences?.find((o) => o.controller === true);
}

/**
 * The Deployment or StatefulSet that recreates `pod` when it is deleted (pod → ReplicaSet → Deployment,
 * or pod → StatefulSet). Pods nothing would recreate are refused: deleting them cannot be undone.
 */
export async function controllerOf(resources: ClusterResources, pod: KubeObject): Promise<KubeObject> {
  const namespace = pod.metadata?.namespace ?? '';
  const describe = `Pod ${namespace}/${pod.metadata?.name ?? ''}`;
  const owner = controllerRef(pod);
  if (owner?.kind === 'StatefulSet') return resources.read({ kind: 'StatefulSet', namespace, name: owner.name });
  if (owner?.kind === 'ReplicaSet') {
    const replicaSet = await resources.readReplicaSet(namespace, owner.name);
    const deployment = controllerRef(replicaSet);
    if (deployment?.kind === 'Deployment') return resources.read({ kind: 'Deployment', namespace, name: deployment.name });
  }
  const by = owner === undefined ? 'no controller' : `controller ${owner.kind} ${owner.name}`;
  throw new UnsupportedTargetError(`${describe} has ${by}; only pods of a Deployment or StatefulSet are deleted, since their controller recreates them`);
}

const revisionOf = (obj: KubeObject) => Number(obj.metadata?.annotations?.[REVISION_ANNOTATION] ?? Number.NaN);

/** `kubectl rollout undo`: the owned ReplicaSet with the highest revision below the Deployment's current one. */
export async function previousReplicaSet(resources: ClusterResources, deployment: KubeObject): Promise<KubeObject> {
  const namespace = deployment.metadata?.namespace ?? '';
  const name = deployment.metadata?.name ?? '';
  const current = revisionOf(deployment);
  const replicaSets = await resources.listReplicaSets(namespace, matchLabelsSelector(deployment));
  const previous = replicaSets
    .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === deployment.metadata?.uid))
    .filter((rs) => Number.isFinite(revisionOf(rs)) && (!Number.isFinite(current) || revisionOf(rs) < current))
    .sort((a, b) => revisionOf(b) - revisionOf(a))[0];
  if (previous === undefined) throw new NoPreviousRevisionError(namespace, name, Number.isFinite(current) ? current : undefined);
  return previous;
}

/** `spec.selector.matchLabels` as a label selector string (matchExpressions are not used by the catalogue's workloads). */
export function matchLabelsSelector(workload: KubeObject): string {
  const selector = workload.spec?.selector as { matchLabels?: Record<string, string> } | undefined;
  return Object.entries(selector?.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export interface ReplacementState {
  /** Running, not terminating pods of the controller other than the deleted one. */
  readonly running: number;
  readonly wanted: number;
  readonly deletedStillThere: boolean;
}

/** Whether the controller has replaced a deleted pod: the deleted one is gone and its replica count runs again. */
export async function replacementState(resources: ClusterResources, controller: KubeObject, deletedUid: string): Promise<ReplacementState> {
  const namespace = controller.metadata?.namespace ?? '';
  const pods = await resources.listPods(namespace, matchLabelsSelector(controller));
  const live = pods.filter((p) => p.metadata?.deletionTimestamp === undefined && p.metadata?.uid !== deletedUid);
  const running = live.filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running').length;
  const wanted = typeof controller.spec?.replicas === 'number' ? controller.spec.replicas : 1;
  return { running, wanted, deletedStillThere: pods.some((p) => p.metadata?.uid === deletedUid && p.metadata.deletionTimestamp === undefined) };
}
