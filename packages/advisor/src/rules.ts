import { actionSchema, type Action, type TargetRef } from '@cortexops/contracts';
import type { Facts } from './facts.js';
import { raisedMemoryLimit } from './memory.js';
import { describeTarget, sameObject } from './targets.js';
import type { VerificationProfile } from './verification.js';
import { FAILING_POD_REASONS, type Symptom } from './vocabulary.js';

/**
 * The heuristics as a table: each rule is a list of named conditions (all must hold) and an outcome. Rules are tried
 * in order and the first whose conditions hold decides — including the rules whose outcome is "no safe action",
 * which come first when they must win (an unschedulable pod is not restarted, an OOM at the cap is not restarted).
 */

/** A condition holds when it returns the facts that made it hold (possibly none worth listing); `undefined` when not. */
type Condition = (facts: Facts) => readonly string[] | undefined;

const MAX_FACTS = 4;

function reported(symptom: Symptom): Condition {
  return (f) => {
    const seen = f.symptoms.get(symptom);
    return seen === undefined || seen.length === 0 ? undefined : seen.slice(0, MAX_FACTS);
  };
}

function targetKind(...kinds: TargetRef['kind'][]): Condition {
  return (f) => (f.target.ok && kinds.includes(f.target.target.kind) ? [] : undefined);
}

function nonEmpty(facts: readonly string[]): readonly string[] | undefined {
  return facts.length === 0 ? undefined : facts.slice(0, MAX_FACTS);
}

export const CONDITIONS = {
  'incident-not-open': (f) => (f.incident.status === 'open' ? undefined : [`the incident is ${f.incident.status}`]),
  'no-action-target': (f) => (f.target.ok ? undefined : [f.target.why]),
  'diagnosis-of-another-object': (f) =>
    f.target.ok && !sameObject(f.diagnosis.target, f.target.target)
      ? [`the diagnosis read ${describeTarget(f.diagnosis.target)}, not ${describeTarget(f.target.target)}, which a change would write`]
      : undefined,
  'no-live-state': (f) => {
    if (f.diagnosis.live !== undefined) return undefined;
    const problems = f.diagnosis.problems.length;
    return [`the diagnosis found no live ${describeTarget(f.diagnosis.target)}${problems > 0 ? ` (${problems} problem(s) reading the cluster, listed in the diagnosis)` : ' (deleted, or not readable)'}`];
  },
  'target-is-node': targetKind('Node'),
  'target-is-workload': targetKind('Deployment', 'StatefulSet'),
  'target-is-deployment': targetKind('Deployment'),
  'target-is-statefulset': targetKind('StatefulSet'),
  'node-not-ready-reported': (f) => {
    const metrics = f.diagnosis.metrics.filter((m) => m.name === 'node-ready' && m.value === 0).map(() => 'metric node-ready is 0');
    return nonEmpty([...(f.symptoms.get('node-not-ready') ?? []), ...metrics.slice(0, 1)]);
  },
  'node-cordoned': (f) => (f.diagnosis.live?.unschedulable === true ? ['the node is already cordoned (unschedulable)'] : undefined),
  'node-schedulable': (f) => (f.diagnosis.live !== undefined && f.diagnosis.live.unschedulable !== true ? ['the node is not cordoned'] : undefined),
  'pods-unschedulable': (f) => {
    const unplaced = f.diagnosis.pods.filter((p) => p.phase === 'Pending' && p.node === undefined).map((p) => `pod ${p.name} is Pending on no node`);
    // A FailedScheduling reported earlier is history once every pod is placed (a pod waits for a node that is not
    // ready yet, then runs): it holds only while a pod is still unplaced, or when the pods could not be read at all.
    if (unplaced.length === 0 && f.diagnosis.pods.length > 0) return undefined;
    return nonEmpty([...(f.symptoms.get('unschedulable') ?? []), ...unplaced]);
  },
  'rollout-stuck': (f) => {
    const live = f.diagnosis.live;
    if (live === undefined) return undefined;
    const { replicas, updatedReplicas: updated, readyReplicas: ready, generation, observedGeneration } = live;
    if (replicas === undefined || updated === undefined || ready === undefined || replicas === 0) return undefined;
    // The controller has seen the current template, some replicas run it, and the rollout is neither done nor healthy.
    if (generation !== undefined && observedGeneration !== undefined && observedGeneration < generation) return undefined;
    if (!(updated >= 1 && updated < replicas && ready < replicas)) return undefined;
    return [`rollout not finished: ${updated} of ${replicas} replicas updated, ${ready} ready`];
  },
  'pods-failing': (f) => {
    const pods = f.diagnosis.pods
      .filter((p) => !p.ready && (p.restarts > 0 || p.lastTerminationReason !== undefined))
      .map((p) => `pod ${p.name} not ready after ${p.restarts} restarts`);
    const events = f.diagnosis.events.filter((e) => FAILING_POD_REASONS.has(e.reason)).map((e) => `event ${e.reason} ×${e.count}`);
    return nonEmpty([...pods, ...events]);
  },
  'oom-reported': reported('oom'),
  'crash-loop-reported': reported('crash-loop'),
  'image-pull-failing': reported('image-pull'),
  'probe-failing': reported('probe-failing'),
  /** Always holds: what was reported, known or not (for the catch-all rule's rationale). */
  'reasons-seen': (f) => {
    const known = [...f.symptoms.values()].flat().slice(0, MAX_FACTS);
    const unknown = f.unknownReasons.length === 0 ? [] : [`reasons the heuristics do not know: ${f.unknownReasons.join(', ')}`];
    return known.length + unknown.length === 0 ? ['no reason was reported'] : [...known, ...unknown];
  },
  'pods-restarting': (f) => nonEmpty(f.diagnosis.pods.filter((p) => p.restarts >= 1).map((p) => `pod ${p.name} restarted ${p.restarts} times`)),
} as const satisfies Record<string, Condition>;
export type ConditionName = keyof typeof CONDITIONS;

/** The actions the heuristics propose; each has a builder below. */
export type HeuristicAction = Extract<Action['type'], 'rollout-restart' | 'rollback' | 'raise-memory-limit' | 'cordon-node'>;

export type Outcome =
  | { readonly kind: 'none'; readonly advice: string }
  | {
      readonly kind: 'action';
      readonly action: HeuristicAction;
      readonly verification: VerificationProfile;
      /** What a person should look at when the action cannot be built safely (no limit, at the cap ...). */
      readonly adviceIfUnsafe: string;
    };

export interface Rule {
  readonly id: string;
  /** What the rule concludes, in a sentence (start of the rationale). */
  readonly says: string;
  readonly when: readonly ConditionName[];
  readonly then: Outcome;
}

export const RULES: readonly Rule[] = [
  {
    id: 'incident-not-open',
    says: 'The incident is no longer open',
    when: ['incident-not-open'],
    then: { kind: 'none', advice: 'Nothing to remediate; a new occurrence opens a new incident.' },
  },
  {
    id: 'no-action-target',
    says: 'The catalogue has no safe target for this incident',
    when: ['no-action-target'],
    then: { kind: 'none', advice: 'A person should look at the object the incident names and decide.' },
  },
  {
    id: 'diagnosis-of-another-object',
    says: 'The diagnosis is not about the object a change would write',
    when: ['diagnosis-of-another-object'],
    then: { kind: 'none', advice: "A plan needs the live state of the object it changes; look at the incident's target and its owner." },
  },
  {
    id: 'no-live-state',
    says: 'The target could not be read from the cluster',
    when: ['no-live-state'],
    then: { kind: 'none', advice: 'Check that the object still exists and that CortexOps may read it (the diagnosis lists what failed).' },
  },
  {
    id: 'node-already-cordoned',
    says: 'The node is NotReady and already cordoned',
    when: ['target-is-node', 'node-not-ready-reported', 'node-cordoned'],
    then: { kind: 'none', advice: "Look at the node's kubelet, container runtime, network and pressure conditions; drain it or replace it by hand." },
  },
  {
    id: 'node-not-ready',
    says: 'Cordon the NotReady node so that nothing new is scheduled on it',
    when: ['target-is-node', 'node-not-ready-reported', 'node-schedulable'],
    then: {
      kind: 'action',
      action: 'cordon-node',
      verification: 'node',
      adviceIfUnsafe: "Look at the node's kubelet, container runtime, network and pressure conditions.",
    },
  },
  {
    id: 'pods-unschedulable',
    says: 'Pods cannot be scheduled',
    when: ['target-is-workload', 'pods-unschedulable'],
    then: {
      kind: 'none',
      advice: "A restart or rollback would add pods that cannot be placed either. Look at the FailedScheduling events: requests against nodes' free capacity, taints and tolerations, affinity, PersistentVolumeClaims, quotas.",
    },
  },
  {
    id: 'rollout-stuck',
    says: 'Roll the Deployment back: its rollout is stuck and the pods of the new template fail',
    when: ['target-is-deployment', 'rollout-stuck', 'pods-failing'],
    then: { kind: 'action', action: 'rollback', verification: 'workload', adviceIfUnsafe: 'Look at what changed in the latest template and at the new pods.' },
  },
  {
    id: 'statefulset-rollout-stuck',
    says: "The StatefulSet's rollout is stuck and its updated pods fail",
    when: ['target-is-statefulset', 'rollout-stuck', 'pods-failing'],
    then: { kind: 'none', advice: 'The catalogue has no rollback for StatefulSets (a restart would not undo a bad revision); roll back by hand after checking its volumes.' },
  },
  {
    id: 'oom-killed',
    says: 'Raise the memory limit of the container killed at its limit',
    when: ['target-is-workload', 'oom-reported'],
    then: {
      kind: 'action',
      action: 'raise-memory-limit',
      verification: 'workload',
      adviceIfUnsafe: "A restart would be killed again. Look at the container's memory use (a leak, a load change) and its limit.",
    },
  },
  {
    id: 'crash-loop',
    says: 'Restart the workload (rollout restart): its containers crash and restart',
    when: ['target-is-workload', 'crash-loop-reported', 'pods-restarting'],
    then: { kind: 'action', action: 'rollout-restart', verification: 'workload', adviceIfUnsafe: "Look at the previous containers' logs." },
  },
  {
    id: 'image-pull-failing',
    says: 'Images cannot be pulled',
    when: ['target-is-workload', 'image-pull-failing'],
    then: { kind: 'none', advice: 'A restart pulls the same image. Check the image name and tag, the registry, and the pull secrets.' },
  },
  {
    id: 'probe-failing',
    says: 'Probes fail without the containers crash-looping',
    when: ['target-is-workload', 'probe-failing'],
    then: { kind: 'none', advice: "Look at the probe's endpoint, its timeouts, and the dependencies the application waits for." },
  },
  {
    id: 'no-rule-matched',
    says: 'No rule of the heuristics matches this incident',
    when: ['reasons-seen'],
    then: { kind: 'none', advice: "A person should look at the incident's events and pods; CortexOps does not guess." },
  },
];

/** The first rule whose conditions all hold, with the facts that made them hold. The last rule (`no-rule-matched`) always holds. */
export function firstMatch(facts: Facts, rules: readonly Rule[] = RULES): { readonly rule: Rule; readonly matched: readonly string[] } {
  for (const rule of rules) {
    const matched: string[] = [];
    let holds = true;
    for (const name of rule.when) {
      const found = CONDITIONS[name](facts);
      if (found === undefined) {
        holds = false;
        break;
      }
      matched.push(...found);
    }
    if (holds) return { rule, matched };
  }
  throw new Error('the rule table has no catch-all rule');
}

export type Proposal = { readonly ok: true; readonly action: Action; readonly notes: readonly string[] } | { readonly ok: false; readonly why: string };

export interface BuildSettings {
  readonly maxMemory: string;
}

function validated(candidate: unknown, notes: readonly string[]): Proposal {
  const parsed = actionSchema.safeParse(candidate);
  if (parsed.success) return { ok: true, action: parsed.data, notes };
  const issue = parsed.error.issues[0];
  return { ok: false, why: `the action would not be valid (${issue?.path.join('.') || 'action'}: ${issue?.message ?? 'invalid'})` };
}

/** Builds each heuristic action's parameters from the facts; refuses (with the reason) when it cannot be done safely. */
const BUILDERS: { readonly [A in HeuristicAction]: (facts: Facts, target: TargetRef, settings: BuildSettings) => Proposal } = {
  'rollout-restart': (_f, t) => validated({ type: 'rollout-restart', kind: t.kind, namespace: t.namespace, name: t.name }, []),
  rollback: (_f, t) => validated({ type: 'rollback', kind: t.kind, namespace: t.namespace, name: t.name }, []),
  'cordon-node': (_f, t) => validated({ type: 'cordon-node', kind: 'Node', name: t.name }, []),
  'raise-memory-limit': (f, t, settings) => {
    const containers = f.diagnosis.live?.containers ?? [];
    const [container] = containers;
    if (container === undefined) return { ok: false, why: 'the diagnosis lists no containers' };
    if (containers.length > 1) {
      return { ok: false, why: `the workload has ${containers.length} containers and the diagnosis does not say which one was OOMKilled` };
    }
    const raise = raisedMemoryLimit(container.memoryLimit, settings.maxMemory);
    if (!raise.ok) return { ok: false, why: raise.why };
    const how = `${container.memoryLimit ?? ''} × 1.5 rounded up to Mi${raise.capped ? `, capped at the maximum of ${settings.maxMemory}` : ''}`;
    return validated(
      { type: 'raise-memory-limit', kind: t.kind, namespace: t.namespace, name: t.name, container: container.name, memory: raise.memory },
      [`container ${container.name}: memory limit ${container.memoryLimit ?? ''} → ${raise.memory} (${how})`],
    );
  },
};

export function buildAction(action: HeuristicAction, facts: Facts, target: TargetRef, settings: BuildSettings): Proposal {
  return BUILDERS[action](facts, target, settings);
}
