import { KV_BUCKETS, OBJECT_STORES, OVERSIZED_BODY_STORE_BYTES } from '@cortexops/contracts';
import type { NatsConnection } from 'nats';
import { connectNats, type NatsClientConfig } from './connect.js';
import { ensureKvBucket, ensureObjectStore, type KvBucketSpec, type ObjectStoreSpec } from './kv.js';
import { ensureJetStreamLayout, type JetStreamLayout, type JetStreamLayoutOptions } from './layout.js';

/** Pod owner chains are kept this long after their last write (a pod's owners do not change while it lives). */
export const POD_OWNERS_TTL_MS = 6 * 3600 * 1000;

/** The correlator's fingerprint index beside its group bucket. */
export function fingerprintsBucket(correlatorBucket: string): string {
  return `${correlatorBucket}_fingerprints`;
}

export interface KvBucketsOptions {
  /** Bucket names (default `KV_BUCKETS`; an undefined name keeps the default); tests pass unique ones. */
  readonly names?: Partial<Record<keyof typeof KV_BUCKETS, string | undefined>>;
  /** TTL of the correlator's group state and fingerprint index (the correlator refuses to start with a shorter one). */
  readonly correlatorTtlMs: number;
  /** Only these buckets (default all). */
  readonly only?: readonly (keyof typeof KV_BUCKETS)[];
}

/** Every KV bucket of CortexOps, as the admin step creates them. */
export function cortexopsKvBuckets(options: KvBucketsOptions): KvBucketSpec[] {
  const given = Object.entries(options.names ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const names: Record<keyof typeof KV_BUCKETS, string> = { ...KV_BUCKETS, ...Object.fromEntries(given) };
  const all: Record<keyof typeof KV_BUCKETS, KvBucketSpec[]> = {
    kubernetesWatch: [{ name: names.kubernetesWatch, description: "ingestion: the Kubernetes event watcher's checkpoint" }],
    podOwners: [{ name: names.podOwners, ttlMs: POD_OWNERS_TTL_MS, description: 'ingestion: owner chains of pods (expiring)' }],
    ingestionDrops: [{ name: names.ingestionDrops, description: "ingestion: its replicas' drop accounting" }],
    correlator: [
      { name: names.correlator, ttlMs: options.correlatorTtlMs, description: 'correlator: group state (compare-and-set)' },
      { name: fingerprintsBucket(names.correlator), ttlMs: options.correlatorTtlMs, description: 'correlator: fingerprint → group index' },
    ],
  };
  const keys = options.only ?? (Object.keys(all) as (keyof typeof KV_BUCKETS)[]);
  return keys.flatMap((key) => all[key]);
}

/** Every object store of CortexOps: ingestion's oversized webhook bodies, kept as long as dead letters. */
export function cortexopsObjectStores(settings: { readonly deadLetterMaxAgeMs: number; readonly jsStorage: 'file' | 'memory' }): ObjectStoreSpec[] {
  return [
    {
      name: OBJECT_STORES.webhookOversized,
      ttlMs: settings.deadLetterMaxAgeMs,
      maxBytes: OVERSIZED_BODY_STORE_BYTES,
      storage: settings.jsStorage,
      description: 'Alertmanager webhook bodies over CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES, kept for replay',
    },
  ];
}

export interface NatsLayoutPlan {
  readonly layout?: JetStreamLayoutOptions;
  readonly buckets: readonly KvBucketSpec[];
  readonly objectStores?: readonly ObjectStoreSpec[];
}

/**
 * The admin step: creates or updates the three streams and the KV buckets, creates the object stores (idempotent). Runs with the admin user's
 * connection — the local stack's set-up, `cortexops-admin nats apply`, the tests' helpers — before the services start;
 * the services only bind to what it made.
 */
export async function applyNatsLayout(nc: NatsConnection, plan: NatsLayoutPlan): Promise<JetStreamLayout> {
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const layout = await ensureJetStreamLayout(jsm, plan.layout);
  for (const bucket of plan.buckets) await ensureKvBucket(jsm, js, bucket);
  for (const store of plan.objectStores ?? []) await ensureObjectStore(js, store);
  return layout;
}

/** The admin step over its own connection: connects with `config` (the admin user's), applies `plan`, disconnects. */
export async function applyNatsLayoutAs(config: NatsClientConfig, plan: NatsLayoutPlan): Promise<JetStreamLayout> {
  const nc = await connectNats(config, 'admin');
  try {
    return await applyNatsLayout(nc, plan);
  } finally {
    await nc.close();
  }
}
