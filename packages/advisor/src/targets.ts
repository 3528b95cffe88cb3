import type { Action, Diagnosis, Incident, TargetRef, WorkloadKind } from '@cortexops/contracts';

/**
 * Which objects a plan may change: the incident's own object, or — when the incident names a Pod or ReplicaSet — its
 * owning Deployment or StatefulSet as the diagnosis (read from the cluster by CortexOps) or the incident's root cause
 * names it. Shared by the planner and by the guard every plan passes.
 */

const WORKLOAD_KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet'];
/** Kinds whose owner may be acted on instead (the catalogue restarts, rolls back and resizes workloads, not pods). */
const OWNED_KINDS: readonly WorkloadKind[] = ['Pod', 'ReplicaSet'];

/** Why the catalogue has nothing for these kinds, and where a person should look instead. */
const NOT_ACTIONABLE: Partial<Record<WorkloadKind, string>> = {
  Service: 'the incident names a Service, and the catalogue has no action on Services (look at the endpoints and the workloads behind it)',
  Job: 'the incident names a Job, and the catalogue has no action on Jobs (look at the failed pods\' logs; a Job is re-run by hand)',
  DaemonSet: 'the incident names a DaemonSet, and the catalogue has no action on DaemonSets (look at the pods on the affected nodes)',
};

export function isWorkload(target: TargetRef): boolean {
  return WORKLOAD_KINDS.includes(target.kind);
}

/** `Kind namespace/name` (or `Kind name` for cluster-scoped objects), for rationales. */
export function describeTarget(target: TargetRef): string {
  return target.namespace === undefined || target.kind === 'Node' ? `${target.kind} ${target.name}` : `${target.kind} ${target.namespace}/${target.name}`;
}

/** Same object: kind, name, and namespace (ignored for Nodes, which have none). */
export function sameObject(a: TargetRef, b: TargetRef): boolean {
  if (a.kind !== b.kind || a.name !== b.name) return false;
  return a.kind === 'Node' || a.namespace === b.namespace;
}

/** The object an action writes. */
export function actionTarget(action: Action): TargetRef {
  return 'namespace' in action ? { kind: action.kind, namespace: action.namespace, name: action.name } : { kind: action.kind, name: action.name };
}

interface NamedOwner {
  readonly owner: TargetRef;
  readonly namedBy: string;
}

/** Owners of a Pod or ReplicaSet target named by the diagnosis or the root cause (Deployment/StatefulSet, same namespace). */
function namedOwners(incident: Incident, diagnosis: Diagnosis | undefined): NamedOwner[] {
  const target = incident.target;
  if (!OWNED_KINDS.includes(target.kind) || target.namespace === undefined) return [];
  const named: NamedOwner[] = [];
  const candidates: [TargetRef | undefined, string][] = [
    [diagnosis?.target, 'the diagnosis'],
    [incident.rootCause, "the incident's root cause"],
  ];
  for (const [candidate, namedBy] of candidates) {
    if (candidate === undefined || !isWorkload(candidate) || candidate.namespace !== target.namespace) continue;
    if (named.some((n) => sameObject(n.owner, candidate))) continue;
    named.push({ owner: { kind: candidate.kind, namespace: candidate.namespace, name: candidate.name }, namedBy });
  }
  return named;
}

/** Every object a plan for this incident may change (the guard's list). */
export function allowedTargets(incident: Incident, diagnosis?: Diagnosis): TargetRef[] {
  return [incident.target, ...namedOwners(incident, diagnosis).map((n) => n.owner)];
}

export type TargetResolution =
  | { readonly ok: true; readonly target: TargetRef; readonly how: string }
  | { readonly ok: false; readonly why: string };

/** The one object the heuristics would act on, or why there is none. */
export function resolveActionTarget(incident: Incident, diagnosis: Diagnosis): TargetResolution {
  const target = incident.target;
  const notActionable = NOT_ACTIONABLE[target.kind];
  if (notActionable !== undefined) return { ok: false, why: notActionable };
  if (target.kind === 'Node') return { ok: true, target: { kind: 'Node', name: target.name }, how: "the incident's own Node" };
  if (target.namespace === undefined) return { ok: false, why: `the incident names ${describeTarget(target)} without a namespace` };
  if (isWorkload(target)) return { ok: true, target, how: "the incident's own object" };
  const owners = namedOwners(incident, diagnosis);
  const [only] = owners;
  if (only === undefined) {
    return { ok: false, why: `the incident names ${describeTarget(target)}, and neither the diagnosis nor the incident's root cause names its owning Deployment or StatefulSet` };
  }
  if (owners.length > 1) {
    return { ok: false, why: `the incident names ${describeTarget(target)}, and the diagnosis and the root cause name different owners (${owners.map((o) => describeTarget(o.owner)).join(', ')})` };
  }
  return { ok: true, target: only.owner, how: `the owner of ${describeTarget(target)}, named by ${only.namedBy}` };
}
