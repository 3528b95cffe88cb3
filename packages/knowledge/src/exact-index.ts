import type { PointPayload, SearchFilter, SearchHit } from './store.js';

interface Entry {
  readonly revision: number;
  /** Unit length, so a dot product is the cosine. */
  readonly unit: Float32Array;
  readonly payload: PointPayload;
}

export function unitVector(vector: readonly number[] | Float32Array): Float32Array {
  const unit = Float32Array.from(vector);
  let norm = 0;
  for (const x of unit) norm += x * x;
  norm = Math.sqrt(norm);
  for (let i = 0; i < unit.length; i++) unit[i] = (unit[i] ?? 0) / norm;
  return unit;
}

/** The dot product of two vectors of the same length (the hot loop of every search: no bounds fallbacks in it). */
function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function matches(payload: PointPayload, conditions: readonly (readonly [string, string])[]): boolean {
  for (const [field, value] of conditions) {
    if ((payload as unknown as Record<string, unknown>)[field] !== value) return false;
  }
  return true;
}

/**
 * Exact cosine search in memory over a bounded set of points (the embedded store's copy of its table): a scan of
 * every point that passes the filter, keeping the best `limit` in a small sorted list.
 */
export class ExactIndex {
  private readonly entries = new Map<string, Entry>();

  get size(): number {
    return this.entries.size;
  }

  put(key: string, revision: number, unit: Float32Array, payload: PointPayload): void {
    this.entries.set(key, { revision, unit, payload });
  }

  remove(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry written before `revision` (the table pruned them). */
  dropBefore(revision: number): void {
    for (const [key, entry] of this.entries) if (entry.revision < revision) this.entries.delete(key);
  }

  search(query: Float32Array, limit: number, filter: SearchFilter = {}): SearchHit[] {
    const best: SearchHit[] = [];
    const conditions = Object.entries(filter);
    const filtered = conditions.length > 0;
    for (const entry of this.entries.values()) {
      if (filtered && !matches(entry.payload, conditions)) continue;
      const score = dot(entry.unit, query);
      if (best.length === limit && score <= (best[limit - 1]?.score ?? -Infinity)) continue;
      let at = best.length;
      while (at > 0 && (best[at - 1]?.score ?? Infinity) < score) at--;
      best.splice(at, 0, { score, payload: entry.payload });
      if (best.length > limit) best.pop();
    }
    return best;
  }
}
