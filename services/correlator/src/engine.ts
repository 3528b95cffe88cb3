import { createHash } from 'node:crypto';
import type { Incident, IncidentStatus, Severity, Signal, TargetRef } from '@cortexops/contracts';

/**
 * The correlation engine: pure functions from (group state, signal, time, rules) to (new state, decision).
 * No I/O — the service reads the group's state from KV, calls {@link correlate}, writes the new state with
 * compare-and-set and only then carries out the decision (start or signal the incident's workflow). With no signal,
 * {@link tick} (state, time in; state, decision out) resolves incidents whose Kubernetes events have gone quiet.
 */

export interface CorrelationRules {
  /** Signals of a group inside this window count towards its threshold. */
  readonly windowMs: number;
  /**
   * Distinct firing fingerprints of Kubernetes events and custom signals that open an incident; one critical signal
   * always does, and so does one Alertmanager alert (its rule's `for:` and Alertmanager's grouping already decided
   * it is a problem; severity decides risk, not whether it opens).
   */
  readonly minSignals: number;
  /** A problem firing again this soon after its incident resolved re-opens that incident. */
  readonly flapWindowMs: number;
  /** After a remediation, new problems of the same target are attached (not remediated) this long. */
  readonly cooldownMs: number;
  /** A remediated fingerprint firing again within this long escalates instead of another attempt. */
  readonly recurrenceWindowMs: number;
  /** Signal ids kept per group (for replay detection and the incident record). */
  readonly maxSignalIds: number;
  /**
   * How long a group's state is kept after its last write at least (the KV bucket's TTL; {@link stateTtlMs} makes it
   * longer when a rule looks back further).
   */
  readonly stateTtlMs: number;
  /**
   * After an incident's workflow ended without the problem resolving (approval expired or rejected, denied,
   * failed), its signals are held this long; then a still-firing problem opens a new incident (a new workflow).
   */
  readonly reopenAfterMs: number;
  /**
   * Kubernetes events are always `firing` (nothing ever says they stopped): an open or escalated incident's event
   * problems count as resolved once no event of its group has fired for this long (see {@link tick}).
   */
  readonly eventQuietMs: number;
}

export const DEFAULT_MAX_SIGNAL_IDS = 256;

/** `ended`: the incident's workflow closed while the problem was still open (see {@link recordWorkflowEnded}). */
export type GroupStatus = 'idle' | 'pending' | 'open' | 'resolved' | 'escalated' | 'ended';

/** Everything the correlator remembers about one grouping key; stored as JSON in KV under {@link groupStoreKey}. */
export interface GroupState {
  readonly key: string;
  /**
   * The time (ms) of the group's first signal when it was first stored, then incremented whenever a new incident
   * starts for this key after the previous one closed; the incident id is a hash of key and epoch.
   */
  readonly epoch: number;
  readonly status: GroupStatus;
  readonly cluster: string;
  readonly target: TargetRef;
  readonly rootCause?: TargetRef;
  readonly title: string;
  readonly severity: Severity;
  /** Current status of each fingerprint in this epoch. */
  readonly fingerprints: Readonly<Record<string, 'firing' | 'resolved'>>;
  readonly signalIds: readonly string[];
  readonly windowStartMs: number;
  readonly openedAtMs?: number;
  readonly closedAtMs?: number;
  /** When the incident's workflow was found closed (status `ended`). */
  readonly endedAtMs?: number;
  readonly updatedAtMs: number;
  readonly flapCount: number;
  /** The last remediation of this target (recorded by {@link recordRemediation}). */
  readonly remediation?: { readonly atMs: number; readonly fingerprints: readonly string[]; readonly incidentId: string };
  /** Fingerprints of this epoch that came from Kubernetes events (they never resolve by a signal; see {@link tick}). */
  readonly eventFingerprints?: readonly string[];
  /** When a Kubernetes event of the group last fired, refreshed by repeats at most every {@link quietRefreshMs}. */
  readonly lastEventAtMs?: number;
  /**
   * When a decision last called the incident's workflow (signal time). A repeat of a firing problem calls it again
   * once this is {@link livenessCheckMs} old, so a workflow that closed is found (see `deduplicated`'s `probe`).
   */
  readonly calledAtMs?: number;
  /**
   * When each resolved fingerprint of this epoch resolved (signal time; the tick's time for quiet events). A firing
   * signal whose id was seen before but that arrives after its fingerprint resolved is the problem firing again,
   * not a replay (Kubernetes events repeat with the id of their first occurrence).
   */
  readonly resolvedAtMs?: Readonly<Record<string, number>>;
}

export type Decision =
  /** The signal id was seen before (a replay or redelivery): state unchanged; the effect is repeated idempotently. */
  | { readonly kind: 'duplicate'; readonly incident?: Incident }
  /** Counted towards the threshold; no incident yet. */
  | { readonly kind: 'pending'; readonly count: number }
  /** A new incident: start its workflow (signal-with-start). */
  | { readonly kind: 'open'; readonly incident: Incident }
  /** A resolved incident firing again inside the flap window: the same incident, open again. */
  | { readonly kind: 'flap'; readonly incident: Incident }
  /**
   * The same fingerprint is already firing in the open incident: recorded, the workflow is not bothered again —
   * except as a liveness `probe` once its last call is {@link livenessCheckMs} old: then the repeat is delivered, so a
   * workflow that has closed meanwhile is found and the group goes the `ended` way.
   */
  | { readonly kind: 'deduplicated'; readonly incident: Incident; readonly probe?: true }
  /** Added to an open incident: signal its workflow. */
  | { readonly kind: 'attach'; readonly incident: Incident }
  /** Every fingerprint resolved (an event's by its group's quiet, see {@link tick}): the incident closes (its workflow is told). */
  | { readonly kind: 'resolve'; readonly incident: Incident }
  /** The target is cooling down after a remediation: recorded, no new workflow. */
  | { readonly kind: 'cooldown'; readonly incident?: Incident }
  /** A remediated fingerprint came back: an escalated incident (for a human), not another attempt. */
  | { readonly kind: 'escalate'; readonly incident: Incident }
  /** The incident's workflow has ended; a still-firing problem waits for `reopenAfterMs`, then opens a new incident. */
  | { readonly kind: 'held'; readonly reopensAtMs: number }
  /** Nothing to do (e.g. resolved for a problem that never opened). */
  | { readonly kind: 'ignored'; readonly reason: string };

export interface CorrelationResult {
  /** The state to store, or undefined when nothing changed. */
  readonly state: GroupState | undefined;
  readonly decision: Decision;
}

/** How a signal is grouped: its key, its incident's target and, for topology, the root cause. */
export interface Grouping {
  readonly key: string;
  readonly target: TargetRef;
  readonly rootCause?: TargetRef;
}

export class UngroupableSignalError extends Error {
  readonly code = 'CORRELATOR_UNGROUPABLE';
  constructor(readonly field: string) {
    super('signal names no object, owner, node or service label, so it has no target to correlate on');
    this.name = 'UngroupableSignalError';
  }
}

/** Labels that name a service, in order of preference. */
const SERVICE_LABELS = ['service', 'app.kubernetes.io/name', 'app', 'job'] as const;
/**
 * The same for Alertmanager alerts, without `job`: on an alert it is the Prometheus scrape job, most often the
 * exporter that saw the problem (`kube-state-metrics`, `node-exporter`, `kubelet`), not the service that has it.
 */
const ALERT_SERVICE_LABELS = ['service', 'app.kubernetes.io/name', 'app'] as const;
const SAFE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The name of an alert group's target: `alert-` and the alert name in kebab case (`KubeCPUOvercommit` →
 * `alert-kube-cpu-overcommit`), a valid object name; undefined when nothing usable is left.
 */
export function alertGroupName(alertname: string | undefined): string | undefined {
  if (alertname === undefined) return undefined;
  const kebab = alertname
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (kebab === '') return undefined;
  return `alert-${kebab}`.slice(0, 63).replace(/-+$/, '');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The node a node-level signal is about (the object itself is a Node), if any. */
export function nodeOf(signal: Signal): string | undefined {
  if (signal.object?.kind === 'Node') return signal.object.name;
  return undefined;
}

/** Group key of a node; pods' signals are routed to it while its incident is open (topology). */
export function nodeGroupKey(cluster: string, node: string): string {
  return `node/${cluster}/${node}`;
}

/** Group key of an incident target; a pure function of the target, so a remediation can name its group. */
export function targetGroupKey(cluster: string, target: TargetRef): string {
  if (target.kind === 'Node') return nodeGroupKey(cluster, target.name);
  if (target.kind === 'Service') return `service/${cluster}/${target.namespace ?? '_cluster'}/${target.name}`;
  return `workload/${cluster}/${target.namespace ?? '_cluster'}/${target.kind}/${target.name}`;
}

/**
 * Grouping by Kubernetes ownership first (the top of the owner chain: pod → ReplicaSet → Deployment), then by
 * the object itself, then by service label, then by node; an Alertmanager alert naming none of these groups by its
 * alert name in its namespace (target: a Service named by {@link alertGroupName}; the workflow finds nothing of its
 * own to change there and escalates). `nodeIncidentOpen` says whether the signal's node has an open incident:
 * then the node explains the pod's failure and the signal joins the node's group (topology suppression).
 */
export function groupingOf(signal: Signal, nodeIncidentOpen = false): Grouping {
  const node = nodeOf(signal);
  if (node !== undefined) {
    const target: TargetRef = { kind: 'Node', name: node };
    return { key: nodeGroupKey(signal.cluster, node), target, rootCause: target };
  }
  if (nodeIncidentOpen && signal.node !== undefined) {
    const target: TargetRef = { kind: 'Node', name: signal.node };
    return { key: nodeGroupKey(signal.cluster, signal.node), target, rootCause: target };
  }
  const top = signal.ownerChain.at(-1) ?? signal.object;
  if (top !== undefined) {
    const target: TargetRef = { kind: top.kind, name: top.name, ...(signal.namespace !== undefined ? { namespace: signal.namespace } : {}) };
    return { key: targetGroupKey(signal.cluster, target), target };
  }
  const alert = signal.source === 'alertmanager';
  for (const label of alert ? ALERT_SERVICE_LABELS : SERVICE_LABELS) {
    const value = signal.labels[label];
    if (value !== undefined && SAFE_NAME.test(value) && value.length <= 253) {
      const target: TargetRef = { kind: 'Service', name: value, ...(signal.namespace !== undefined ? { namespace: signal.namespace } : {}) };
      return { key: targetGroupKey(signal.cluster, target), target };
    }
  }
  if (signal.node !== undefined) {
    const target: TargetRef = { kind: 'Node', name: signal.node };
    return { key: nodeGroupKey(signal.cluster, signal.node), target, rootCause: target };
  }
  const alertGroup = alert ? alertGroupName(signal.labels.alertname ?? signal.reason) : undefined;
  if (alertGroup !== undefined) {
    const target: TargetRef = { kind: 'Service', name: alertGroup, ...(signal.namespace !== undefined ? { namespace: signal.namespace } : {}) };
    return { key: targetGroupKey(signal.cluster, target), target };
  }
  throw new UngroupableSignalError('object');
}

/**
 * The grouping of a signal whose fingerprint already lives in a group (`home`, found through the fingerprint index):
 * that group's, as long as it still holds the fingerprint (any status but idle), whatever target the signal names.
 * One problem stays in one incident even when the object it names changed between its signals — e.g. ingestion's owner
 * lookup timed out for the firing alert (grouped as the Pod) but not for its resolved one (the Deployment): the
 * resolved one still closes the Pod's incident. Undefined: group the signal by what it names ({@link groupingOf}).
 */
export function homeGrouping(home: GroupState | undefined, signal: Signal): Grouping | undefined {
  if (home === undefined || home.status === 'idle' || home.cluster !== signal.cluster || home.fingerprints[signal.fingerprint] === undefined) return undefined;
  return { key: home.key, target: home.target, ...(home.rootCause !== undefined ? { rootCause: home.rootCause } : {}) };
}

/** KV key of a fingerprint in the fingerprint index (the group that holds it). */
export function fingerprintStoreKey(cluster: string, fingerprint: string): string {
  return `f.${sha256(`${cluster}#${fingerprint}`).slice(0, 40)}`;
}

/** KV keys of node groups (`n.<hash>`), which replicas follow with a watch for topology. */
export const NODE_STORE_KEYS = 'n.>';
/** KV keys of every other group (`g.<hash>`). */
export const GROUP_STORE_KEYS = 'g.>';

/** KV key of a group (KV keys allow a narrow alphabet; the grouping key is hashed); node groups are `n.`, others `g.`. */
export function groupStoreKey(groupKey: string): string {
  return `${groupKey.startsWith('node/') ? 'n' : 'g'}.${sha256(groupKey).slice(0, 40)}`;
}

/** Deterministic incident id: a hash of the grouping key and the epoch, so replays map to the same incident. */
export function incidentIdOf(groupKey: string, epoch: number): string {
  return `inc-${sha256(`${groupKey}#${epoch}`).slice(0, 32)}`;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The incident record of a group in its current epoch. */
export function incidentOf(state: GroupState, status: IncidentStatus): Incident {
  const fingerprints = Object.keys(state.fingerprints);
  return {
    id: incidentIdOf(state.key, state.epoch),
    cluster: state.cluster,
    title: state.title,
    severity: state.severity,
    status,
    target: state.target,
    ...(state.rootCause !== undefined ? { rootCause: state.rootCause } : {}),
    fingerprints: fingerprints.length > 0 ? fingerprints : ['0000000000000000'],
    signalIds: [...state.signalIds],
    flapCount: state.flapCount,
    openedAt: iso(state.openedAtMs ?? state.windowStartMs),
    updatedAt: iso(state.updatedAtMs),
  };
}

function incidentStatusOf(state: GroupState): IncidentStatus {
  if (state.status === 'escalated') return 'escalated';
  if (state.status === 'resolved' || state.status === 'ended') return 'resolved';
  return 'open';
}

function appendId(ids: readonly string[], id: string, max: number): string[] {
  const next = [...ids, id];
  return next.length > max ? next.slice(next.length - max) : next;
}

function freshEpoch(grouping: Grouping, signal: Signal, previous: GroupState | undefined, nowMs: number): GroupState {
  return {
    key: grouping.key,
    // A new group starts at its first signal's time: a group forgotten after its TTL and seen again never reuses
    // an incident id (and so never finds the earlier incident's closed workflow under its id).
    epoch: previous === undefined ? nowMs : previous.status === 'idle' || previous.status === 'pending' ? previous.epoch : previous.epoch + 1,
    status: 'idle',
    cluster: signal.cluster,
    target: grouping.target,
    ...(grouping.rootCause !== undefined ? { rootCause: grouping.rootCause } : {}),
    title: signal.title,
    severity: signal.severity,
    fingerprints: {},
    signalIds: [],
    windowStartMs: nowMs,
    updatedAtMs: nowMs,
    flapCount: 0,
    ...(previous?.remediation !== undefined ? { remediation: previous.remediation } : {}),
  };
}

/**
 * How often a repeat of an event already firing refreshes the group's last event time (a repeat that changes nothing
 * else is not written sooner, so repeat storms stay cheap); quiet is measured with this granularity.
 */
export function quietRefreshMs(rules: Pick<CorrelationRules, 'eventQuietMs'>): number {
  return Math.floor(rules.eventQuietMs / 10);
}

/**
 * When the group's events have been quiet long enough: the last stored event time plus `eventQuietMs` plus the
 * refresh granularity (a repeat inside it is not stored), so no event fired for at least `eventQuietMs`.
 */
export function quietAtMs(state: GroupState, rules: Pick<CorrelationRules, 'eventQuietMs'>): number | undefined {
  if (state.lastEventAtMs === undefined || state.eventFingerprints === undefined || state.eventFingerprints.length === 0) return undefined;
  return state.lastEventAtMs + rules.eventQuietMs + quietRefreshMs(rules);
}

/**
 * The fingerprints of an open or escalated incident with its event problems resolved when they are quiet, and when
 * they resolved (the quiet time); the same objects when nothing is quiet.
 */
function quietFingerprints(state: GroupState, nowMs: number, rules: CorrelationRules): Pick<GroupState, 'fingerprints' | 'resolvedAtMs'> {
  const at = quietAtMs(state, rules);
  if (at === undefined || nowMs < at || !isOpen(state)) return state;
  const fingerprints = { ...state.fingerprints };
  const resolvedAtMs = { ...state.resolvedAtMs };
  for (const fp of state.eventFingerprints ?? []) {
    if (fingerprints[fp] !== 'firing') continue;
    fingerprints[fp] = 'resolved';
    resolvedAtMs[fp] = at;
  }
  return { fingerprints, resolvedAtMs };
}

/** Remembers a firing Kubernetes event: its fingerprint as an event's and the time, unless a recent repeat already did. */
function noteEvent(state: GroupState, fp: string, nowMs: number, rules: CorrelationRules): GroupState {
  const known = state.eventFingerprints ?? [];
  const last = state.lastEventAtMs;
  const recent = last !== undefined && nowMs - last < quietRefreshMs(rules);
  if (known.includes(fp) && recent) return state;
  return { ...state, eventFingerprints: known.includes(fp) ? known : [...known, fp], lastEventAtMs: Math.max(last ?? nowMs, nowMs) };
}

/**
 * How old the last workflow call of an open incident may be before a repeat of a firing problem is delivered again
 * as a liveness probe: a tenth of `reopenAfterMs` (a closed workflow is found within a tenth of the hold that follows),
 * between 1 s and 60 s.
 */
export function livenessCheckMs(rules: Pick<CorrelationRules, 'reopenAfterMs'>): number {
  return Math.min(60_000, Math.max(1000, Math.floor(rules.reopenAfterMs / 10)));
}

/**
 * How long a group's stored state (and its fingerprints' index) is kept after its last write (the KV bucket's TTL):
 * the configured `stateTtlMs`, and at least as long as any rule looks back — the threshold window, the flap window,
 * the cooldown and recurrence windows after a remediation, the hold after an ended workflow, quiet — plus one
 * liveness interval. An open incident is written at least every liveness interval while its signals go on; one that
 * hears nothing for this long is forgotten (its workflow has ended on its own timeouts long before).
 */
export function stateTtlMs(rules: CorrelationRules): number {
  const lookback = Math.max(rules.windowMs, rules.flapWindowMs, rules.cooldownMs, rules.recurrenceWindowMs, rules.reopenAfterMs, rules.eventQuietMs + quietRefreshMs(rules));
  return Math.max(rules.stateTtlMs, lookback + livenessCheckMs(rules));
}

/** Decisions whose workflow call counts as the incident's workflow being reached (see {@link GroupState.calledAtMs}). */
const CALLING_DECISIONS = new Set<Decision['kind']>(['open', 'attach', 'flap', 'escalate', 'resolve']);

/**
 * The incident whose workflow a decision calls, if it calls one: open, attach, flap, escalate, resolve; a
 * `deduplicated` repeat only as a liveness probe; a `duplicate` (redelivery) repeats the call its first decision made.
 */
export function workflowIncidentOf(decision: Decision): Incident | undefined {
  if (decision.kind === 'deduplicated') return decision.probe === true ? decision.incident : undefined;
  if (decision.kind === 'duplicate') return decision.incident;
  return CALLING_DECISIONS.has(decision.kind) && 'incident' in decision ? decision.incident : undefined;
}

/**
 * Decides what one signal means for its group. Pure: the same inputs always give the same output, so a
 * compare-and-set conflict is handled by reading the newer state and calling it again.
 *
 * A firing signal never closes an incident whose events went quiet before the tick saw it (the problem is back;
 * quiet is measured again from it); a resolved one closes it when nothing else is firing.
 */
export function correlate(previous: GroupState | undefined, grouping: Grouping, signal: Signal, nowMs: number, rules: CorrelationRules): CorrelationResult {
  const result = decide(previous, grouping, signal, nowMs, rules);
  const fp = signal.fingerprint;
  const event = signal.source === 'kubernetes' && signal.status === 'firing';
  if (result.state === undefined) {
    // A Kubernetes event repeats under the id of its first occurrence: a repeat received later than the group's last
    // event says the problem goes on, so quiet counts from it (a redelivery carries its first time: nothing changes).
    if (!event || result.decision.kind !== 'duplicate' || previous === undefined || !isOpen(previous) || previous.fingerprints[fp] !== 'firing') return result;
    const noted = noteEvent(previous, fp, nowMs, rules);
    return noted === previous ? result : { ...result, state: { ...noted, updatedAtMs: nowMs } };
  }
  let state = result.state;
  if (result.decision.kind !== 'duplicate' && workflowIncidentOf(result.decision) !== undefined) state = { ...state, calledAtMs: nowMs };
  if (event && state.fingerprints[fp] === 'firing') state = noteEvent(state, fp, nowMs, rules);
  return state === result.state ? result : { ...result, state };
}

/**
 * Whether a signal whose id the group has seen is a replay (a redelivery, a producer sending it again): yes, unless
 * it fires after its fingerprint resolved — then the problem is back (a Kubernetes event repeats under the id of its
 * first occurrence; a redelivery of the first firing carries its earlier time and stays a replay).
 */
function isReplay(previous: GroupState, signal: Signal, nowMs: number): boolean {
  if (!previous.signalIds.includes(signal.id)) return false;
  const resolvedAt = previous.resolvedAtMs?.[signal.fingerprint];
  return !(signal.status === 'firing' && previous.fingerprints[signal.fingerprint] === 'resolved' && resolvedAt !== undefined && resolvedAt < nowMs);
}

function decide(previous: GroupState | undefined, grouping: Grouping, signal: Signal, nowMs: number, rules: CorrelationRules): CorrelationResult {
  if (previous !== undefined && isReplay(previous, signal, nowMs)) {
    const active = previous.status === 'open' || previous.status === 'escalated' || previous.status === 'resolved' || previous.status === 'ended';
    return { state: undefined, decision: active ? { kind: 'duplicate', incident: incidentOf(previous, incidentStatusOf(previous)) } : { kind: 'duplicate' } };
  }
  const fp = signal.fingerprint;

  if (signal.status === 'resolved') {
    if (previous === undefined || previous.fingerprints[fp] === undefined) return { state: undefined, decision: { kind: 'ignored', reason: 'resolved signal of a problem with no incident' } };
    const quiet = quietFingerprints(previous, nowMs, rules);
    const fingerprints = { ...quiet.fingerprints, [fp]: 'resolved' as const };
    const resolvedAtMs = previous.fingerprints[fp] === 'resolved' ? quiet.resolvedAtMs : { ...quiet.resolvedAtMs, [fp]: nowMs };
    const allResolved = Object.values(fingerprints).every((s) => s === 'resolved');
    const base = { ...previous, fingerprints, ...(resolvedAtMs !== undefined ? { resolvedAtMs } : {}), signalIds: appendId(previous.signalIds, signal.id, rules.maxSignalIds), updatedAtMs: nowMs };
    if (previous.status === 'pending') {
      // Below the threshold nothing opened: a fully resolved pending group is forgotten.
      const state: GroupState = allResolved ? { ...base, status: 'idle', fingerprints: {}, signalIds: [], resolvedAtMs: {} } : base;
      return { state, decision: { kind: 'ignored', reason: 'resolved before its group met the threshold' } };
    }
    if (previous.status === 'resolved' || previous.status === 'idle') return { state: base, decision: { kind: 'ignored', reason: 'incident already resolved' } };
    if (previous.status === 'ended') return { state: base, decision: { kind: 'ignored', reason: "incident's workflow already ended" } };
    if (allResolved && (previous.status === 'open' || previous.status === 'escalated')) {
      const state: GroupState = { ...base, status: 'resolved', closedAtMs: nowMs };
      return { state, decision: { kind: 'resolve', incident: incidentOf(state, 'resolved') } };
    }
    const state: GroupState = base;
    return { state, decision: { kind: 'attach', incident: incidentOf(state, incidentStatusOf(state)) } };
  }

  // Firing.
  let current: GroupState | undefined = previous;
  const remediation = previous?.remediation;
  const sinceRemediation = remediation === undefined ? Infinity : nowMs - remediation.atMs;

  // An incident of the target is open (or escalated): whatever fires joins it — a remediated problem coming back
  // too. Opening another incident here would leave this one open with nobody to resolve it (its signals would all go
  // to the new one); if its workflow has closed, the call finds it and the group goes the `ended` way below.
  if (current !== undefined && (current.status === 'open' || current.status === 'escalated')) {
    const was = current.fingerprints[fp];
    const state: GroupState = {
      ...current,
      fingerprints: { ...current.fingerprints, [fp]: 'firing' },
      signalIds: appendId(current.signalIds, signal.id, rules.maxSignalIds),
      severity: maxSeverity(current.severity, signal.severity),
      flapCount: current.flapCount + (was === 'resolved' ? 1 : 0),
      updatedAtMs: nowMs,
    };
    const incident = incidentOf(state, incidentStatusOf(state));
    if (was !== 'firing') return { state, decision: { kind: 'attach', incident } };
    // A repeat: the workflow is only bothered when its last call is old enough to check that it still runs.
    const lastCall = current.calledAtMs ?? current.openedAtMs ?? current.windowStartMs;
    const probe = nowMs - lastCall >= livenessCheckMs(rules);
    return { state, decision: probe ? { kind: 'deduplicated', incident, probe } : { kind: 'deduplicated', incident } };
  }

  // The incident's workflow ended while the problem went on: hold (a returning remediated problem too), then a new
  // incident (not a silent target).
  if (current !== undefined && current.status === 'ended') {
    const reopensAtMs = (current.endedAtMs ?? current.updatedAtMs) + rules.reopenAfterMs;
    if (nowMs < reopensAtMs) {
      const state: GroupState = { ...current, fingerprints: { ...current.fingerprints, [fp]: 'firing' }, signalIds: appendId(current.signalIds, signal.id, rules.maxSignalIds), updatedAtMs: nowMs };
      return { state, decision: { kind: 'held', reopensAtMs } };
    }
    current = freshEpoch(grouping, signal, current, nowMs);
  }

  // Escalation: the same problem came back after a remediation, with no incident of the target open — a human, not
  // another attempt.
  if (remediation !== undefined && remediation.fingerprints.includes(fp) && sinceRemediation <= rules.recurrenceWindowMs) {
    const opened = freshEpoch(grouping, signal, current, nowMs);
    const state: GroupState = { ...opened, status: 'escalated', fingerprints: { [fp]: 'firing' }, signalIds: [signal.id], openedAtMs: nowMs };
    return { state, decision: { kind: 'escalate', incident: incidentOf(state, 'escalated') } };
  }

  if (current !== undefined && current.status === 'resolved') {
    const sinceClose = nowMs - (current.closedAtMs ?? current.updatedAtMs);
    if (sinceClose <= rules.flapWindowMs) {
      const { closedAtMs: _closed, ...rest } = current;
      const state: GroupState = {
        ...rest,
        status: 'open',
        fingerprints: { ...current.fingerprints, [fp]: 'firing' },
        signalIds: appendId(current.signalIds, signal.id, rules.maxSignalIds),
        severity: maxSeverity(current.severity, signal.severity),
        flapCount: current.flapCount + 1,
        updatedAtMs: nowMs,
      };
      return { state, decision: { kind: 'flap', incident: incidentOf(state, 'open') } };
    }
    current = freshEpoch(grouping, signal, current, nowMs);
  }

  // Cooling down after a remediation: a different problem of the same target is recorded, not remediated.
  if (remediation !== undefined && sinceRemediation < rules.cooldownMs) {
    const base = current ?? freshEpoch(grouping, signal, undefined, nowMs);
    const state: GroupState = { ...base, signalIds: appendId(base.signalIds, signal.id, rules.maxSignalIds), updatedAtMs: nowMs };
    return { state, decision: { kind: 'cooldown' } };
  }

  // Idle or pending: count towards the threshold inside the window.
  let pending: GroupState = current ?? freshEpoch(grouping, signal, undefined, nowMs);
  if (pending.status === 'pending' && nowMs - pending.windowStartMs > rules.windowMs) {
    pending = { ...pending, status: 'idle', fingerprints: {}, signalIds: [], windowStartMs: nowMs, severity: signal.severity, title: signal.title };
  }
  if (pending.status === 'idle') pending = { ...pending, windowStartMs: nowMs, title: signal.title, severity: signal.severity, target: grouping.target, ...(grouping.rootCause ? { rootCause: grouping.rootCause } : {}) };
  const state: GroupState = {
    ...pending,
    status: 'pending',
    fingerprints: { ...pending.fingerprints, [fp]: 'firing' },
    signalIds: appendId(pending.signalIds, signal.id, rules.maxSignalIds),
    severity: maxSeverity(pending.severity, signal.severity),
    updatedAtMs: nowMs,
  };
  // Fingerprint dedup: repeats of one problem count once towards the threshold. An Alertmanager alert has passed
  // its rule's `for:` and Alertmanager's grouping: it opens by itself, whatever its severity.
  const count = Object.values(state.fingerprints).filter((f) => f === 'firing').length;
  if (signal.source === 'alertmanager' || signal.severity === 'critical' || count >= rules.minSignals) {
    const opened: GroupState = { ...state, status: 'open', openedAtMs: nowMs };
    return { state: opened, decision: { kind: 'open', incident: incidentOf(opened, 'open') } };
  }
  return { state, decision: { kind: 'pending', count } };
}

/** What {@link tick} decided: the incident resolved, and the signal its workflow is told it with. */
export interface TickResult {
  readonly state: GroupState;
  readonly decision: Extract<Decision, { kind: 'resolve' }>;
  /** Made up by the engine (no such signal was received): id `quiet-<incident id>-<flap count>`, status `resolved`. */
  readonly signal: Signal;
}

/**
 * The rule the correlator applies to the groups it remembers on a timer, with no signal: an open or escalated
 * incident whose remaining problems are Kubernetes events resolves once no event of its group fired for
 * `eventQuietMs` (see {@link quietAtMs}) and no other fingerprint is firing. Undefined when nothing changes.
 */
export function tick(state: GroupState, nowMs: number, rules: CorrelationRules): TickResult | undefined {
  if (!isOpen(state)) return undefined;
  const quiet = quietFingerprints(state, nowMs, rules);
  const { fingerprints } = quiet;
  if (quiet === state || !Object.values(fingerprints).every((s) => s === 'resolved')) return undefined;
  const incidentId = incidentIdOf(state.key, state.epoch);
  const last = state.lastEventAtMs ?? nowMs;
  const signal: Signal = {
    id: `quiet-${incidentId}-${state.flapCount}`,
    source: 'kubernetes',
    cluster: state.cluster,
    ...(state.target.namespace !== undefined ? { namespace: state.target.namespace } : {}),
    object: { kind: state.target.kind, name: state.target.name },
    ownerChain: [],
    severity: state.severity,
    status: 'resolved',
    title: `quiet: no Kubernetes event of this incident since ${iso(last)}`,
    reason: 'EventsQuiet',
    labels: {},
    annotations: {},
    fingerprint: sha256(`quiet#${incidentId}`).slice(0, 32),
    startsAt: iso(last),
    receivedAt: iso(nowMs),
  };
  const resolved: GroupState = { ...state, status: 'resolved', ...quiet, signalIds: appendId(state.signalIds, signal.id, rules.maxSignalIds), closedAtMs: nowMs, updatedAtMs: nowMs };
  return { state: resolved, decision: { kind: 'resolve', incident: incidentOf(resolved, 'resolved') }, signal };
}

/**
 * Records that the group's incident was remediated: starts the target's cooldown and remembers the
 * fingerprints, so their return escalates instead of triggering another attempt. Only the group's current incident
 * can be: a late notice of an earlier incident would mark another problem's fingerprints, so it is stale and
 * undefined is returned (nothing changes).
 */
export function recordRemediation(state: GroupState, incidentId: string, nowMs: number): GroupState | undefined {
  if (incidentIdOf(state.key, state.epoch) !== incidentId) return undefined;
  return { ...state, remediation: { atMs: nowMs, fingerprints: Object.keys(state.fingerprints), incidentId }, updatedAtMs: nowMs };
}

/**
 * Records that the incident's workflow was found closed while the group still holds that incident open (its
 * signals could no longer reach anyone). Undefined when there is nothing to record: another incident is current,
 * or the end is already recorded (the first end time counts, so the hold does not slide).
 */
export function recordWorkflowEnded(state: GroupState, incidentId: string, nowMs: number): GroupState | undefined {
  if (incidentIdOf(state.key, state.epoch) !== incidentId || !isOpen(state)) return undefined;
  return { ...state, status: 'ended', endedAtMs: nowMs, updatedAtMs: nowMs };
}

/** Whether a group's incident is open (pods on this node are then explained by it). */
export function isOpen(state: GroupState | undefined): boolean {
  return state !== undefined && (state.status === 'open' || state.status === 'escalated');
}
