import { CONSUMERS, KV_BUCKETS, OBJECT_STORES, REMEDIATION_NOTICE_TOKEN, STREAMS, SUBJECTS } from '@cortexops/contracts';
import { fingerprintsBucket } from './admin.js';
import { natsInboxPrefix } from './connect.js';
import { kvStreamName, objectStoreStreamName } from './kv.js';

/**
 * The NATS users of one installation: `admin` manages streams and buckets (the admin step, backups, operators'
 * tools); each service has its own user with what it really does and nothing else; `system` is the system account's;
 * `producer` is for a JSON producer of the installation's own (DESIGN: any JSON producer → TELEMETRY).
 */
export const NATS_USERS = ['admin', 'ingestion', 'correlator', 'worker', 'api', 'producer'] as const;
export type NatsUser = (typeof NATS_USERS)[number];
/** The service users (everything but admin). */
export type NatsServiceUser = Exclude<NatsUser, 'admin'>;

/** nats-server's permission block: subjects a user may publish to and subscribe to (allow, then deny). */
export interface NatsPermissions {
  readonly publish: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
  readonly subscribe: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
}

/** The JetStream API a durable pull consumer's owner needs: look it up, create or update it, pull, acknowledge. */
function durableConsumerApi(stream: string, durable: string): string[] {
  return [
    `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}

/**
 * What a user of a KV bucket or object store needs: its stream's info (bind), writes (`$KV.<bucket>.>` with
 * compare-and-set, or `$O.<store>.>` chunks and metadata), reads (direct and stream get) and watches (an ordered
 * consumer of the stream, its flow control, its deletion). Never the stream's create, update or delete; an object
 * store's purge only (an object written again drops its old chunks by a purge of their subject).
 */
function storeApi(stream: string, writes: string, purge: boolean): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    writes,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.FC.${stream}.>`,
    ...(purge ? [`$JS.API.STREAM.PURGE.${stream}`] : []),
  ];
}

const kvApi = (bucket: string) => storeApi(kvStreamName(bucket), `$KV.${bucket}.>`, false);
const objectStoreApi = (store: string) => storeApi(objectStoreStreamName(store), `$O.${store}.>`, true);

export interface NatsPermissionNames {
  readonly streams?: Partial<Record<keyof typeof STREAMS, string>>;
  readonly buckets?: Partial<Record<keyof typeof KV_BUCKETS, string>>;
  readonly objectStores?: Partial<Record<keyof typeof OBJECT_STORES, string>>;
}

/**
 * Least privilege per service, derived from what each one does:
 * - ingestion publishes telemetry (webhook, event watcher), signals (never a remediation notice), its dead letters;
 *   consumes TELEMETRY through its durable; reads and writes its three buckets and its object store of oversized
 *   webhook bodies.
 * - correlator consumes SIGNALS through its durable, dead-letters, reads and writes its two buckets.
 * - worker publishes remediation notices (`signals.<cluster>._remediated`) and nothing else.
 * - api only checks that NATS answers (a PING needs no permission).
 * - producer publishes `telemetry.custom` (ingestion validates it like any input) and nothing else.
 * Each subscribes to its own replies (`_INBOX.<user>.>`) only. `$JS.API.INFO` (account limits and usage) is read by
 * every JetStream manager at creation. Stream management (`$JS.API.STREAM.CREATE|UPDATE|DELETE|PURGE.>`) is nobody's
 * but admin's.
 */
export function natsPermissions(names: NatsPermissionNames = {}): Record<NatsServiceUser, NatsPermissions> {
  const streams = { ...STREAMS, ...names.streams };
  const buckets = { ...KV_BUCKETS, ...names.buckets };
  const objectStores = { ...OBJECT_STORES, ...names.objectStores };
  const info = (...names_: string[]) => names_.map((name) => `$JS.API.STREAM.INFO.${name}`);
  const replies = (user: NatsServiceUser) => ({ allow: [`${natsInboxPrefix(user)}.>`] });
  const notice = `${SUBJECTS.signalsPrefix}.*.${REMEDIATION_NOTICE_TOKEN}`;
  return {
    ingestion: {
      publish: {
        allow: [
          SUBJECTS.telemetryAll,
          SUBJECTS.signalsAll,
          `${SUBJECTS.deadLetterPrefix}.ingestion`,
          `${SUBJECTS.deadLetterPrefix}.webhook`,
          '$JS.API.INFO',
          ...info(streams.telemetry, streams.signals, streams.deadLetter),
          ...durableConsumerApi(streams.telemetry, CONSUMERS.ingestion),
          ...[buckets.kubernetesWatch, buckets.podOwners, buckets.ingestionDrops].flatMap(kvApi),
          ...objectStoreApi(objectStores.webhookOversized),
        ],
        deny: [notice],
      },
      subscribe: replies('ingestion'),
    },
    correlator: {
      publish: {
        allow: [
          `${SUBJECTS.deadLetterPrefix}.correlator`,
          '$JS.API.INFO',
          ...info(streams.signals, streams.deadLetter),
          ...durableConsumerApi(streams.signals, CONSUMERS.correlator),
          ...[buckets.correlator, fingerprintsBucket(buckets.correlator)].flatMap(kvApi),
        ],
      },
      subscribe: replies('correlator'),
    },
    worker: { publish: { allow: [notice] }, subscribe: replies('worker') },
    api: { publish: { deny: ['>'] }, subscribe: { deny: ['>'] } },
    producer: { publish: { allow: [`${SUBJECTS.telemetryPrefix}.custom`] }, subscribe: replies('producer') },
  };
}
