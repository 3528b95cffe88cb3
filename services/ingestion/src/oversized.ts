import { randomBytes } from 'node:crypto';
import { OBJECT_STORES, OVERSIZED_BODY_KEEP_BYTES, OVERSIZED_BODY_STORE_BYTES } from '@cortexops/contracts';
import { nanos, StorageType, type JetStreamClient, type ObjectStore } from 'nats';
import { discardRest, type OverLimitBody } from './body.js';

/** What became of a body over the webhook's limit: kept whole, kept up to the cap (the rest discarded), or not kept. */
export type OversizedOutcome = 'kept' | 'truncated' | 'unkept';
export const OVERSIZED_OUTCOMES: readonly OversizedOutcome[] = ['kept', 'truncated', 'unkept'];

export interface KeptBody {
  /** The object store and the object's name: `nats object get <bucket> <name>` gives the body back. */
  readonly bucket: string;
  readonly name: string;
  /** Bytes the request body had, all read. */
  readonly bytes: number;
  /** Bytes kept: all of them, or the cap when `truncated`. */
  readonly kept: number;
  readonly truncated: boolean;
}

export interface OversizedBodiesOptions {
  readonly bucket?: string;
  /** How long a kept body stays (the dead letter's age limit). */
  readonly ttlMs: number;
  readonly storage: 'file' | 'memory';
  /** Bytes kept of one body at most (the rest is read and discarded). */
  readonly keepBytes?: number;
  /** Bytes the store holds at most; a body that does not fit is not kept (the server refuses its chunks). */
  readonly maxBytes?: number;
}

/** Names a kept body: when it came and from whom cannot collide; sortable by time. */
function objectName(receivedAt: Date): string {
  return `alertmanager-${receivedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
}

/**
 * Webhook bodies over the webhook's limit, kept for an operator to replay: streamed as they are read into a JetStream
 * object store (the server's chunked blob protocol: 128 KiB chunks, a SHA-256 digest, replicated like every stream,
 * readable with `nats object get`), up to `keepBytes`; the store is bounded by age and bytes. Not the dead-letter
 * stream: a 64 MiB body would be hundreds of letters there and push out the other dead letters within its byte limit.
 * Not a file: a webhook replica in Kubernetes has no volume an operator can reach, and a restart would lose it.
 *
 * One body is kept at a time per process (the object store client sends a body's chunks without waiting for each
 * acknowledgement, so one body in flight is what memory holds); a second one meanwhile is {@link busy}.
 */
export class OversizedBodies {
  private keeping = false;

  private constructor(
    private readonly store: ObjectStore,
    readonly bucket: string,
    readonly keepBytes: number,
  ) {}

  /**
   * Binds to the store (its stream's info is all a bind asks), creating it when it is missing and this connection may
   * (a NATS user with stream management: the admin step's, or an installation without accounts).
   */
  static async open(js: JetStreamClient, options: OversizedBodiesOptions): Promise<OversizedBodies> {
    const bucket = options.bucket ?? OBJECT_STORES.webhookOversized;
    const store = await js.views.os(bucket, {
      description: 'Alertmanager webhook bodies over CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES, kept for replay',
      ttl: nanos(options.ttlMs),
      max_bytes: options.maxBytes ?? OVERSIZED_BODY_STORE_BYTES,
      storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
    });
    return new OversizedBodies(store, bucket, options.keepBytes ?? OVERSIZED_BODY_KEEP_BYTES);
  }

  /** Whether a body is being kept now (another one would not be). */
  get busy(): boolean {
    return this.keeping;
  }

  /**
   * Keeps the body (what was read of it, then the rest as it is read) and reads it to its end. Rejects when the store
   * refuses it (unavailable, full); the body is still read to its end then, so the caller can answer.
   */
  async keep(body: OverLimitBody, about: { readonly limit: number; readonly remote: string; readonly receivedAt: Date }): Promise<KeptBody> {
    if (this.keeping) throw new Error('a body is being kept already');
    this.keeping = true;
    let bytes = body.read;
    let kept = 0;
    let truncated = false;
    const cap = this.keepBytes;
    const take = (chunk: Buffer): Buffer | undefined => {
      const room = cap - kept;
      if (chunk.length > room) truncated = true;
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      kept += part.length;
      return part.length > 0 ? part : undefined;
    };
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (const chunk of body.head) {
        const part = take(chunk);
        if (part) yield part;
      }
      while (!truncated) {
        const next = await body.rest.next();
        if (next.done === true) return;
        bytes += next.value.length;
        const part = take(next.value);
        if (part) yield part;
      }
    }
    const name = objectName(about.receivedAt);
    try {
      await this.store.put(
        {
          name,
          description: `Alertmanager webhook body over the webhook's limit of ${about.limit} bytes, received ${about.receivedAt.toISOString()} from ${about.remote}; at most ${cap} bytes kept (an object of exactly that size was cut there)`,
          metadata: { limit: String(about.limit), remote: about.remote.slice(0, 256), receivedAt: about.receivedAt.toISOString() },
        },
        ReadableStream.from(chunks()),
      );
      bytes += await discardRest(body.rest);
      return { bucket: this.bucket, name, bytes, kept, truncated };
    } catch (error) {
      await discardRest(body.rest).catch(() => 0);
      throw error;
    } finally {
      this.keeping = false;
    }
  }
}
