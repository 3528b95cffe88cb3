import type { Readable } from 'node:stream';

/**
 * A request body within the limit (whole, in memory), or one over it: the chunks read before it went over (at most
 * the limit) and the rest of the stream, not read yet — for whoever keeps or discards it.
 */
export type BoundedBody = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly over: OverLimitBody };

export interface OverLimitBody {
  /** What was read already, in order (its bytes are `read`). */
  readonly head: readonly Buffer[];
  readonly read: number;
  /** The rest of the request body; read it to its end (keep or discard), so the client reads the answer. */
  readonly rest: AsyncIterator<Buffer>;
}

/** The body of a request not read at all (its declared length is over the limit). */
export function unread(stream: Readable): OverLimitBody {
  return { head: [], read: 0, rest: stream[Symbol.asyncIterator]() as AsyncIterator<Buffer> };
}

/**
 * Reads a request body of at most `limit` bytes. Reading stops at the first chunk that goes over it: what was read
 * (at most `limit` plus one chunk) and the unread rest are handed back, never buffered beyond that.
 */
export async function readBounded(stream: Readable, limit: number): Promise<BoundedBody> {
  // The iterator by hand: leaving a for-await loop early would destroy the stream, and the rest is still to be read.
  const rest = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let bytes = 0;
  for (;;) {
    const next = await rest.next();
    if (next.done === true) break;
    chunks.push(next.value);
    bytes += next.value.length;
    if (bytes > limit) return { ok: false, over: { head: chunks, read: bytes, rest } };
  }
  return { ok: true, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes) };
}

/** Reads the rest of a body to its end, discarding it; returns the bytes read. */
export async function discardRest(rest: AsyncIterator<Buffer>): Promise<number> {
  let bytes = 0;
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return bytes;
    bytes += next.value.length;
  }
}

/** Bytes of webhook bodies being handled at once, bounded: a call that does not fit is refused (and retried by its sender). */
export class ByteBudget {
  private used = 0;
  constructor(readonly capacity: number) {}

  /** Reserves `bytes` when they fit; false otherwise. */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.capacity) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
