import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { OutOfBoundsError } from './errors.js';
import { parseQuantity } from './quantity.js';
import { RESTARTED_AT_ANNOTATION, type PriorState } from './receipt.js';
import type { JsonPatchOp, KubeObject } from './resources.js';

/**
 * Pure functions from a live object to the JSON Patch that makes one change of the catalogue, and
 * back. The gateway does the reading, writing and retrying.
 */

/** Limits the gateway enforces whatever the caller asks (policy has its own; this is the last line). */
export interface GatewayBounds {
  /** Fewest replicas `scale` may set (inclusive). */
  readonly minReplicas: number;
  /** Most replicas `scale` may set (inclusive). */
  readonly maxReplicas: number;
  /** Highest memory limit `raise-memory-limit` may set, a Kubernetes quantity. */
  readonly maxMemory: string;
}

export const DEFAULT_BOUNDS: GatewayBounds = { minReplicas: 1, maxReplicas: 20, maxMemory: '4Gi' };

/** RFC 6901: `~` and `/` are escaped inside a JSON Pointer token. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

type Template = { metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> }; spec?: { containers?: Container[] } };
type Container = { name: string; resources?: { limits?: Record<string, string>; requests?: Record<string, string> } };

export function templateOf(obj: KubeObject): Template {
  const template = obj.spec?.template as Template | undefined;
  if (template === undefined) throw new TypeError(`${obj.kind ?? 'object'} ${obj.metadata?.name ?? ''} has no pod template`);
  return template;
}

/** Sets `entries` in the annotation map at `base` (`/metadata` or `/spec/template/metadata`), creating the map when absent. */
export function setAnnotationOps(base: string, current: Record<string, string> | undefined, entries: Record<string, string>): JsonPatchOp[] {
  if (current === undefined) return [{ op: 'add', path: `${base}/annotations`, value: entries }];
  return Object.entries(entries).map(([key, value]) => ({ op: 'add' as const, path: `${base}/annotations/${pointerToken(key)}`, value }));
}

export function removeAnnotationOps(base: string, current: Record<string, string> | undefined, keys: readonly string[]): JsonPatchOp[] {
  return keys.filter((key) => current?.[key] !== undefined).map((key) => ({ op: 'remove' as const, path: `${base}/annotations/${pointerToken(key)}` }));
}

/** The patch makes the API server refuse the write (409 Conflict) if the object changed since `live` was read. */
export function resourceVersionGuard(live: KubeObject): JsonPatchOp {
  const resourceVersion = live.metadata?.resourceVersion;
  if (resourceVersion === undefined) throw new TypeError('an object read from the API server has a resourceVersion');
  return { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion };
}

/** `kubectl rollout restart`: a new restartedAt on the template (a new rollout), with the remediation id beside it. */
export function restartOps(live: KubeObject, remediationAnnotation: string, remediationId: string, now: Date): JsonPatchOp[] {
  const template = templateOf(live);
  const entries = { [RESTARTED_AT_ANNOTATION]: now.toISOString(), [remediationAnnotation]: remediationId };
  if (template.metadata === undefined) return [{ op: 'add', path: '/spec/template/metadata', value: { annotations: entries } }];
  return setAnnotationOps('/spec/template/metadata', template.metadata.annotations, entries);
}

/** Checked before any call: a replica count outside the bounds never reaches the cluster. */
export function checkReplicas(replicas: number, bounds: GatewayBounds): void {
  if (replicas < bounds.minReplicas || replicas > bounds.maxReplicas) {
    throw new OutOfBoundsError('replicas', `${replicas} is outside the allowed range [${bounds.minReplicas}, ${bounds.maxReplicas}]`);
  }
}

/** Checked before any call: a memory limit above the bound never reaches the cluster. */
export function checkMemoryCeiling(memory: string, bounds: GatewayBounds): void {
  if (parseQuantity(memory) > parseQuantity(bounds.maxMemory)) {
    throw new OutOfBoundsError('memory', `${memory} is above the maximum of ${bounds.maxMemory}`);
  }
}

export function scaleOps(replicas: number, bounds: GatewayBounds): JsonPatchOp[] {
  checkReplicas(replicas, bounds);
  return [{ op: 'add', path: '/spec/replicas', value: replicas }];
}

export function cordonOps(unschedulable: boolean): JsonPatchOp[] {
  return [{ op: 'add', path: '/spec/unschedulable', value: unschedulable }];
}

/** Raises one container's memory limit: it must have one, and the new value must be higher and within bounds. */
export function raiseMemoryOps(live: KubeObject, container: string, memory: string, bounds: GatewayBounds): JsonPatchOp[] {
  const containers = templateOf(live).spec?.containers ?? [];
  const index = containers.findIndex((c) => c.name === container);
  if (index < 0) {
    throw new OutOfBoundsError('container', `"${container}" is not a container of ${live.kind} ${live.metadata?.name} (it has ${containers.map((c) => c.name).join(', ') || 'none'})`);
  }
  const current = containers[index]?.resources?.limits?.memory;
  if (current === undefined) {
    throw new OutOfBoundsError('memory', `container "${container}" has no memory limit; setting one would lower it, not raise it`);
  }
  checkMemoryCeiling(memory, bounds);
  if (!(parseQuantity(memory) > parseQuantity(current))) throw new OutOfBoundsError('memory', `${memory} is not higher than the current limit ${current}`);
  return [{ op: 'replace', path: `/spec/template/spec/containers/${index}/resources/limits/memory`, value: memory }];
}

/** The label the Deployment controller adds to each ReplicaSet's template; not part of the Deployment's template. */
const POD_TEMPLATE_HASH = 'pod-template-hash';

export function rollbackOps(previous: KubeObject): JsonPatchOp[] {
  return [{ op: 'replace', path: '/spec/template', value: rollbackTemplate(previous) }];
}

/** What `kubectl rollout undo` writes: the previous ReplicaSet's template without its pod-template-hash label. */
export function rollbackTemplate(previous: KubeObject): Record<string, unknown> {
  const template = structuredClone(templateOf(previous)) as Template & Record<string, unknown>;
  if (template.metadata?.labels !== undefined) {
    delete template.metadata.labels[POD_TEMPLATE_HASH];
  }
  return template;
}

export function priorStateOf(field: Exclude<PriorState['field'], 'pod'>, live: KubeObject): PriorState {
  switch (field) {
    case 'spec.template':
      return { field, template: structuredClone(templateOf(live)) };
    case 'spec.replicas':
      return { field, replicas: typeof live.spec?.replicas === 'number' ? live.spec.replicas : 1 };
    case 'spec.unschedulable':
      return { field, unschedulable: live.spec?.unschedulable === true };
  }
}

/** The patch that puts a prior state back. */
export function restoreOps(prior: PriorState): JsonPatchOp[] {
  switch (prior.field) {
    case 'spec.template':
      return [{ op: 'replace', path: '/spec/template', value: prior.template }];
    case 'spec.replicas':
      return [{ op: 'add', path: '/spec/replicas', value: prior.replicas }];
    case 'spec.unschedulable':
      return cordonOps(prior.unschedulable);
    case 'pod':
      return [];
  }
}

/** Whether `live` holds the prior state (what a revert is checked against). */
export function holdsPriorState(prior: PriorState, live: KubeObject): boolean {
  switch (prior.field) {
    case 'pod':
      return true;
    default:
      return isDeepStrictEqual(priorStateOf(prior.field, live), prior);
  }
}

/** A value of the object's current state in the shape of `prior`, for the verification message. */
export function currentStateLike(prior: PriorState, live: KubeObject): PriorState {
  return prior.field === 'pod' ? prior : priorStateOf(prior.field, live);
}

/** JSON with object keys sorted, so equal values hash equally whatever order the server sent them in. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * SHA-256 of the changed field of `obj` (in the shape of a prior state). Taken from the API server's
 * answer, so its defaults and canonical quantities are in it; status and metadata are not, so a
 * controller's status writes do not change it.
 */
export function fieldHash(field: Exclude<PriorState['field'], 'pod'>, obj: KubeObject): string {
  return createHash('sha256').update(sortedJson(priorStateOf(field, obj))).digest('hex');
}
