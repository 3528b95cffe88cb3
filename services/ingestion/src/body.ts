import type { Readable } from 'node:stream';

export type BoundedBody = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly bytes: number };

/**
 * Reads a request body of at most `limit` bytes. A larger one is not kept: the rest is read and discarded (so the
 * client gets the answer instead of a reset connection) and only its size is returned.
 */
export async function readBounded(stream: Readable, limit: number): Promise<BoundedBody> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    if (bytes <= limit) chunks.push(buffer);
    else chunks.length = 0;
  }
  return bytes <= limit ? { ok: true, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes) } : { ok: false, bytes };
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
