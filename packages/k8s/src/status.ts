import type { Diagnosis } from '@cortexops/contracts';
import type { KubeObject, ReadableKind } from './resources.js';

/**
 * Pure readings of objects as the API server returned them: the summaries a diagnosis holds (in the
 * shapes of contracts `diagnosisSchema`) and whether a rollout is complete. The reads are in inspect.ts.
 */

export type LiveSummary = NonNullable<Diagnosis['live']>;
export type PodSummary = Diagnosis['pods'][number];
export type EventSummary = Diagnosis['events'][number];

/** The most a diagnosis holds of each (contracts `diagnosisSchema`). */
export const INSPECTION_LIMITS = { pods: 50, events: 20, problems: 20, containers: 32, text: 2000 } as const;

export interface RolloutStatus {
  readonly complete: boolean;
  /** Why, in a sentence a person reads: what is still missing, or what was found complete. */
  readonly detail: string;
}

/** What the caller expects of a node beyond Ready (after cordon-node: unschedulable). */
export interface RolloutExpectation {
  readonly unschedulable?: boolean;
}

type Condition = { type?: string; status?: string; reason?: string; message?: string };
type ContainerSpec = { name?: string; image?: string; resources?: { limits?: Record<string, string> } };
type ContainerStatus = { restartCount?: number; state?: { terminated?: { reason?: string } }; lastState?: { terminated?: { reason?: string } } };
type Status = {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  desiredNumberScheduled?: number;
  numberReady?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  active?: number;
  succeeded?: number;
  failed?: number;
  phase?: string;
  conditions?: Condition[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
};

const statusOf = (obj: KubeObject): Status => (obj.status as Status | undefined) ?? {};
const conditionOf = (obj: KubeObject, type: string) => statusOf(obj).conditions?.find((c) => c.type === type);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined);
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Leaves out the keys whose value is undefined (optional fields of the contract stay absent, not `undefined`). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** `Deployment shop/web`, `Node kwok-node-0`. */
export function describeObject(ref: { readonly kind: string; readonly namespace?: string | undefined; readonly name: string }): string {
  return `${ref.kind} ${ref.namespace === undefined || ref.namespace === '' ? '' : `${ref.namespace}/`}${ref.name}`;
}

function containersOf(kind: ReadableKind, obj: KubeObject): LiveSummary['containers'] {
  const podSpec = kind === 'Pod' ? obj.spec : (obj.spec?.template as { spec?: Record<string, unknown> } | undefined)?.spec;
  const containers = (podSpec?.containers ?? []) as ContainerSpec[];
  return containers.slice(0, INSPECTION_LIMITS.containers).map((c) =>
    defined({ name: clip(c.name ?? '', 253), image: c.image === undefined ? undefined : clip(c.image, 1024), memoryLimit: c.resources?.limits?.memory?.slice(0, 64) }),
  );
}

/** The live object as a diagnosis holds it. `replicas` is the desired count (`spec.replicas`; for a DaemonSet, the nodes it should run on). */
export function liveSummary(kind: ReadableKind, obj: KubeObject): LiveSummary {
  const s = statusOf(obj);
  const base = { uid: obj.metadata?.uid ?? '', generation: num(obj.metadata?.generation), observedGeneration: num(s.observedGeneration) };
  switch (kind) {
    case 'Node':
      return defined({ ...base, unschedulable: obj.spec?.unschedulable === true, containers: [] });
    case 'DaemonSet':
      return defined({
        ...base,
        replicas: num(s.desiredNumberScheduled),
        readyReplicas: num(s.numberReady) ?? 0,
        updatedReplicas: num(s.updatedNumberScheduled) ?? 0,
        availableReplicas: num(s.numberAvailable) ?? 0,
        containers: containersOf(kind, obj),
      });
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet':
      return defined({
        ...base,
        replicas: num(obj.spec?.replicas) ?? 1,
        readyReplicas: num(s.readyReplicas) ?? 0,
        updatedReplicas: kind === 'ReplicaSet' ? undefined : (num(s.updatedReplicas) ?? 0),
        availableReplicas: num(s.availableReplicas) ?? 0,
        containers: containersOf(kind, obj),
      });
    case 'Pod':
    case 'Job':
      return defined({ ...base, containers: containersOf(kind, obj) });
  }
}

const isReady = (obj: KubeObject) => conditionOf(obj, 'Ready')?.status === 'True';

export function podSummary(pod: KubeObject): PodSummary {
  const s = statusOf(pod);
  const statuses = [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])];
  const reason = statuses.map((c) => c.lastState?.terminated?.reason ?? c.state?.terminated?.reason).find((r) => r !== undefined);
  const node = pod.spec?.nodeName;
  return defined({
    name: pod.metadata?.name ?? '',
    phase: s.phase?.slice(0, 64),
    ready: isReady(pod),
    restarts: statuses.reduce((sum, c) => sum + (num(c.restartCount) ?? 0), 0),
    node: typeof node === 'string' ? node : undefined,
    lastTerminationReason: reason?.slice(0, 128),
  });
}

/** Pods worth reading first: not ready, then most restarted, then by name. */
export function podOrder(a: PodSummary, b: PodSummary): number {
  return Number(a.ready) - Number(b.ready) || b.restarts - a.restarts || a.name.localeCompare(b.name);
}

type Event = {
  involvedObject?: { kind?: string; namespace?: string; name?: string; uid?: string };
  reason?: string;
  message?: string;
  count?: number;
  series?: { count?: number; lastObservedTime?: string };
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { creationTimestamp?: string };
};

/** When the event was last seen: the newest of the timestamps an event may carry (core/v1 or events.k8s.io writers). */
function lastSeenOf(event: Event): string | undefined {
  return event.series?.lastObservedTime ?? event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp;
}

export function eventSummary(raw: KubeObject): EventSummary {
  const event = raw as unknown as Event;
  const about = event.involvedObject ?? {};
  const lastSeen = lastSeenOf(event);
  return defined({
    reason: clip(event.reason ?? '', 128),
    message: clip(event.message ?? '', INSPECTION_LIMITS.text),
    count: num(event.series?.count) ?? num(event.count) ?? 1,
    object: clip(describeObject({ kind: about.kind ?? 'object', namespace: about.namespace, name: about.name ?? '' }), 300),
    lastSeen: lastSeen?.slice(0, 64),
  });
}

/** The uid and kind/name of the object an event is about. */
export function eventSubject(raw: KubeObject): { uid?: string; kind?: string; name?: string } {
  return (raw as unknown as Event).involvedObject ?? {};
}

/** Newest first (ISO timestamps compare as strings); events without a time last. */
export function eventOrder(a: EventSummary, b: EventSummary): number {
  return (b.lastSeen ?? '').localeCompare(a.lastSeen ?? '');
}

/** A problem string within the contract's bounds. */
export function problem(text: string): string {
  return clip(text, INSPECTION_LIMITS.text);
}

const incomplete = (detail: string): RolloutStatus => ({ complete: false, detail });

/** The controller has not seen the latest spec yet: nothing in its status speaks of it. */
function generationPending(obj: KubeObject): RolloutStatus | undefined {
  const generation = num(obj.metadata?.generation);
  const observed = num(statusOf(obj).observedGeneration);
  if (generation !== undefined && (observed === undefined || observed < generation)) {
    return incomplete(`waiting for the controller to observe generation ${generation} (observed ${observed ?? 'none'})`);
  }
  return undefined;
}

/** updated = available = desired, and no replicas beyond them (old ones still terminating). */
function replicasDone(label: string, desired: number, updated: number, available: number, total: number | undefined): RolloutStatus {
  if (updated < desired) return incomplete(`${label}: ${updated} of ${desired} replicas updated`);
  if (total !== undefined && total > updated) return incomplete(`${label}: ${total - updated} old replicas pending termination`);
  if (available < desired || updated !== desired) return incomplete(`${label}: ${available} of ${desired} updated replicas available`);
  return { complete: true, detail: `${label}: ${desired} of ${desired} replicas updated and available` };
}

/**
 * Whether the object's rollout is complete, as `kubectl rollout status` judges it: a Deployment or
 * StatefulSet (and DaemonSet, ReplicaSet) whose controller observed the latest generation and runs every
 * desired replica updated and available; a Job that completed; a Pod Running and Ready; a Node Ready (and,
 * when expected, cordoned or not).
 */
export function rolloutDecision(kind: ReadableKind, obj: KubeObject, expect: RolloutExpectation = {}): RolloutStatus {
  const label = describeObject({ kind, namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '' });
  const s = statusOf(obj);
  switch (kind) {
    case 'Deployment': {
      const pending = generationPending(obj);
      if (pending !== undefined) return { ...pending, detail: `${label}: ${pending.detail}` };
      const progressing = conditionOf(obj, 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') return incomplete(`${label}: progress deadline exceeded: ${progressing.message ?? ''}`.trim());
      return replicasDone(label, num(obj.spec?.replicas) ?? 1, num(s.updatedReplicas) ?? 0, num(s.availableReplicas) ?? 0, num(s.replicas));
    }
    case 'StatefulSet': {
      const pending = generationPending(obj);
      if (pending !== undefined) return { ...pending, detail: `${label}: ${pending.detail}` };
      const desired = num(obj.spec?.replicas) ?? 1;
      const done = replicasDone(label, desired, num(s.updatedReplicas) ?? 0, num(s.availableReplicas) ?? num(s.readyReplicas) ?? 0, num(s.replicas));
      if (done.complete && s.updateRevision !== undefined && s.currentRevision !== s.updateRevision) {
        return incomplete(`${label}: revision ${s.updateRevision} not yet current (current ${s.currentRevision ?? 'none'})`);
      }
      return done;
    }
    case 'DaemonSet': {
      const pending = generationPending(obj);
      if (pending !== undefined) return { ...pending, detail: `${label}: ${pending.detail}` };
      return replicasDone(label, num(s.desiredNumberScheduled) ?? 0, num(s.updatedNumberScheduled) ?? 0, num(s.numberAvailable) ?? 0, undefined);
    }
    case 'ReplicaSet': {
      const pending = generationPending(obj);
      if (pending !== undefined) return { ...pending, detail: `${label}: ${pending.detail}` };
      const desired = num(obj.spec?.replicas) ?? 1;
      return replicasDone(label, desired, num(s.replicas) ?? 0, num(s.availableReplicas) ?? 0, undefined);
    }
    case 'Job': {
      if (conditionOf(obj, 'Complete')?.status === 'True') return { complete: true, detail: `${label}: completed (${num(s.succeeded) ?? 0} succeeded)` };
      const failed = conditionOf(obj, 'Failed');
      if (failed?.status === 'True') return incomplete(`${label}: failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim());
      return incomplete(`${label}: running (${num(s.active) ?? 0} active, ${num(s.succeeded) ?? 0} succeeded, ${num(s.failed) ?? 0} failed)`);
    }
    case 'Pod': {
      if (obj.metadata?.deletionTimestamp !== undefined) return incomplete(`${label}: terminating`);
      if (s.phase !== 'Running') return incomplete(`${label}: phase ${s.phase ?? 'unknown'}`);
      if (!isReady(obj)) return incomplete(`${label}: Running but not Ready`);
      return { complete: true, detail: `${label}: Running and Ready` };
    }
    case 'Node': {
      const ready = conditionOf(obj, 'Ready');
      if (ready?.status !== 'True') return incomplete(`${label}: not Ready (${ready?.reason ?? ready?.status ?? 'no Ready condition'})`);
      const cordoned = obj.spec?.unschedulable === true;
      const state = cordoned ? 'cordoned' : 'schedulable';
      if (expect.unschedulable !== undefined && expect.unschedulable !== cordoned) return incomplete(`${label}: Ready but ${state}, expected ${expect.unschedulable ? 'cordoned' : 'schedulable'}`);
      return { complete: true, detail: `${label}: Ready and ${state}` };
    }
  }
}
