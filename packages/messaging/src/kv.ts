import { millis, nanos, StorageType, type JetStreamClient, type JetStreamManager, type KV, type StreamInfo } from 'nats';
import { JetStreamLayoutError, MissingJetStreamResourceError } from './errors.js';
import { isStreamNotFound } from './layout.js';

/** The stream behind KV bucket `bucket`. */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

/** The stream behind object store `store`. */
export function objectStoreStreamName(store: string): string {
  return `OBJ_${store}`;
}

/** An object store as the admin step creates it: bounded by age and bytes. */
export interface ObjectStoreSpec {
  readonly name: string;
  readonly ttlMs: number;
  readonly maxBytes: number;
  readonly storage: 'file' | 'memory';
  readonly description: string;
}

/** Creates the object store unless it exists (an existing one is left as it is). The admin step's job. */
export async function ensureObjectStore(js: JetStreamClient, spec: ObjectStoreSpec): Promise<void> {
  try {
    await js.views.os(spec.name, { description: spec.description, ttl: nanos(spec.ttlMs), max_bytes: spec.maxBytes, storage: spec.storage === 'memory' ? StorageType.Memory : StorageType.File });
  } catch (error) {
    throw new JetStreamLayoutError(`object store ${spec.name}`, { cause: error });
  }
}

/** A KV bucket as the admin step creates it: one value per key, and a TTL (stream max age) where entries expire. */
export interface KvBucketSpec {
  readonly name: string;
  /** A key not written for this long is gone (0 or absent: kept). */
  readonly ttlMs?: number;
  readonly description: string;
}

export interface BindKvOptions {
  /** The bucket's TTL must be at least this long (a shorter one would forget state the caller still needs). */
  readonly minTtlMs?: number;
}

async function kvInfo(jsm: JetStreamManager, bucket: string): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(kvStreamName(bucket));
  } catch (error) {
    if (isStreamNotFound(error)) throw new MissingJetStreamResourceError(`KV bucket ${bucket}`, { cause: error });
    throw error;
  }
}

/**
 * Binds to an existing KV bucket (a service never creates one: its NATS user may not). A missing bucket is a
 * {@link MissingJetStreamResourceError}; a TTL below `minTtlMs` a {@link JetStreamLayoutError} naming both.
 */
export async function bindKv(jsm: JetStreamManager, js: JetStreamClient, bucket: string, options: BindKvOptions = {}): Promise<KV> {
  const info = await kvInfo(jsm, bucket);
  const maxAge = info.config.max_age;
  if (options.minTtlMs !== undefined && maxAge > 0 && maxAge < nanos(options.minTtlMs)) {
    throw new JetStreamLayoutError(`KV bucket ${bucket}`, {
      cause: new Error(`its TTL is ${millis(maxAge)} ms, at least ${options.minTtlMs} ms is needed: run \`cortexops-admin nats apply\` with this configuration`),
    });
  }
  return js.views.kv(bucket, { bindOnly: true, allow_direct: info.config.allow_direct });
}

/**
 * Creates the bucket, or gives an existing one the spec's TTL (the duplicate window never above it). The admin step's
 * job, never a service's.
 */
export async function ensureKvBucket(jsm: JetStreamManager, js: JetStreamClient, spec: KvBucketSpec): Promise<void> {
  try {
    await js.views.kv(spec.name, { history: 1, description: spec.description, ...(spec.ttlMs ? { ttl: spec.ttlMs } : {}) });
    const stream = kvStreamName(spec.name);
    const { config } = await jsm.streams.info(stream);
    const maxAge = spec.ttlMs ? nanos(spec.ttlMs) : 0;
    if (config.max_age !== maxAge) {
      await jsm.streams.update(stream, { ...config, max_age: maxAge, ...(maxAge > 0 ? { duplicate_window: Math.min(config.duplicate_window || maxAge, maxAge) } : {}) });
    }
  } catch (error) {
    throw new JetStreamLayoutError(`KV bucket ${spec.name}`, { cause: error });
  }
}
