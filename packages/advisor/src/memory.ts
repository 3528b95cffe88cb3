import { parseQuantity } from '@cortexops/k8s';

const MI = 2 ** 20;

/** How much `raise-memory-limit` raises a limit: × 1.5, rounded up to a whole Mi. */
export const MEMORY_RAISE_FACTOR = 1.5;

export type MemoryRaise =
  | { readonly ok: true; readonly memory: string; readonly capped: boolean }
  | { readonly ok: false; readonly why: string };

function bytesOf(quantity: string): number | undefined {
  try {
    const bytes = parseQuantity(quantity);
    return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The raised limit for a container whose limit is `current`: `current × 1.5` rounded up to Mi, at most `max`
 * (rounded down to Mi, so the result never exceeds it), written as `<n>Mi`. No raise when there is no current limit,
 * when a quantity does not parse, or when the current limit is already at (or above) the maximum.
 */
export function raisedMemoryLimit(current: string | undefined, max: string): MemoryRaise {
  if (current === undefined) return { ok: false, why: 'the container has no memory limit (setting one would lower what it may use, not raise it)' };
  const currentBytes = bytesOf(current);
  if (currentBytes === undefined) return { ok: false, why: `the container's memory limit "${current.slice(0, 64)}" is not a quantity the planner can read` };
  const maxBytes = bytesOf(max);
  if (maxBytes === undefined) return { ok: false, why: `the configured maximum memory "${max.slice(0, 64)}" is not a quantity` };
  const raisedMi = Math.ceil((currentBytes * MEMORY_RAISE_FACTOR) / MI);
  const capMi = Math.floor(maxBytes / MI);
  const mi = Math.min(raisedMi, capMi);
  if (mi * MI <= currentBytes) return { ok: false, why: `the container's memory limit ${current} is already at the maximum of ${max}` };
  return { ok: true, memory: `${mi}Mi`, capped: mi < raisedMi };
}
