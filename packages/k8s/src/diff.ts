import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { GATEWAY_ANNOTATIONS } from './receipt.js';

/** Annotations that are bookkeeping, not what a person reviews (the receipt is a JSON blob). */
const HIDDEN_ANNOTATIONS: readonly string[] = [GATEWAY_ANNOTATIONS.receipt, GATEWAY_ANNOTATIONS.history, 'kubectl.kubernetes.io/last-applied-configuration'];
/** Server-maintained metadata that changes on every write. */
const VOLATILE_METADATA: readonly string[] = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink'];

/** A copy of `obj` without status, volatile metadata and bookkeeping annotations. */
export function reviewable(obj: unknown): unknown {
  if (obj === undefined || obj === null || typeof obj !== 'object') return obj;
  const copy = structuredClone(obj) as Record<string, unknown>;
  delete copy.status;
  const metadata = copy.metadata as Record<string, unknown> | undefined;
  if (metadata !== undefined) {
    for (const key of VOLATILE_METADATA) delete metadata[key];
    const annotations = metadata.annotations as Record<string, string> | undefined;
    if (annotations !== undefined) {
      for (const key of HIDDEN_ANNOTATIONS) delete annotations[key];
      if (Object.keys(annotations).length === 0) delete metadata.annotations;
    }
  }
  return copy;
}

function toYaml(obj: unknown): string {
  if (obj === undefined) return '';
  return stringify(obj, { sortMapEntries: true, lineWidth: 0 });
}

export interface ObjectDiff {
  /** A unified diff of the two objects as YAML (keys sorted), empty when nothing a person would review changed. */
  readonly text: string;
  readonly changed: boolean;
}

export interface DiffOptions {
  /** Lines of context around each change (default 3). */
  readonly context?: number;
  /** What the two sides are called after the label (default `live` and `after`, or `deleted`). */
  readonly names?: { readonly before: string; readonly after: string };
  /** At most this many lines, the rest counted (default: all). */
  readonly maxLines?: number;
}

/**
 * The difference between two versions of an object, readable by a person: a unified diff of their
 * YAML with status and server bookkeeping left out. `after` undefined means the object is deleted.
 */
export function objectDiff(label: string, before: unknown, after: unknown, options: DiffOptions = {}): ObjectDiff {
  const a = toYaml(reviewable(before));
  const b = toYaml(reviewable(after));
  if (a === b) return { text: '', changed: false };
  const names = options.names ?? { before: 'live', after: after === undefined ? 'deleted' : 'after' };
  const patch = createTwoFilesPatch(`${label} (${names.before})`, `${label} (${names.after})`, a, b, undefined, undefined, { context: options.context ?? 3 });
  // The first line is a separator ("=====") that says nothing to a reader.
  const lines = patch.split('\n').filter((line) => !/^={3,}$/.test(line));
  const max = options.maxLines ?? lines.length;
  const text = lines.length > max ? [...lines.slice(0, max), `... ${lines.length - max} more lines`].join('\n') : lines.join('\n');
  return { text, changed: true };
}
