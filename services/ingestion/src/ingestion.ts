import type { ServiceConfig } from '@cortexops/config';
import { CONSUMERS, KV_BUCKETS, METRICS, OBJECT_STORES, OVERSIZED_BODY_KEEP_BYTES, TELEMETRY_SOURCES } from '@cortexops/contracts';
import {
  DeadLetterPublisher,
  ensureDurableConsumer,
  bindJetStreamLayout,
  bindKv,
  connectNats,
  runPullConsumer,
  type JetStreamLayout,
  type JetStreamLayoutOptions,
  type RunningConsumer,
} from '@cortexops/messaging';
import { natsCheck, type RunningService, type ServiceContext } from '@cortexops/observability';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { Counter } from 'prom-client';
import { registerAlertmanagerRoute, type OwnerDeferral, type WebhookRefusal } from './alertmanager.js';
import { WebhookToken } from './webhook-auth.js';
import { KubernetesEventWatcher, loadKubeConfig } from './kubernetes.js';
import { MAX_QUEUED_READS, OwnerResolver, podOwnersBucket } from './owners.js';
import { DropAccounting } from './drops.js';
import { OVERSIZED_OUTCOMES, OversizedBodies } from './oversized.js';
import { createTelemetryHandler, FingerprintWindow, INGEST_OUTCOMES, type PipelineCounters } from './pipeline.js';
import { countDeadLetterDrops } from './dead-letter-drops.js';

/** Names a test (or a second installation) overrides to run isolated on a shared NATS. */
export interface IngestionOverrides {
  readonly layout?: Omit<JetStreamLayoutOptions, 'settings'>;
  readonly durable?: string;
  readonly kvBucket?: string;
  readonly podOwnersBucket?: string;
  readonly dropsBucket?: string;
  readonly oversizedBucket?: string;
  /** Bytes kept of one oversized body, and the store's bound (tests; defaults from contracts). */
  readonly oversizedKeepBytes?: number;
  readonly oversizedStoreBytes?: number;
  /** Pods whose owners are read at once at most (tests; default `MAX_QUEUED_READS`). */
  readonly ownerLookupQueue?: number;
}

/** The TELEMETRY consumer (validate, normalise, dedup, publish to SIGNALS, dead-letter) with its drop accounting. */
async function startConsumer(
  js: JetStreamClient,
  jsm: JetStreamManager,
  layout: JetStreamLayout,
  config: ServiceConfig<'ingestion'>,
  context: ServiceContext,
  counters: PipelineCounters,
  overrides: IngestionOverrides,
): Promise<{ readonly durable: string; stop(): Promise<void> }> {
  const durable = overrides.durable ?? CONSUMERS.ingestion;
  const consumerInfo = await ensureDurableConsumer(jsm, {
    stream: layout.streams.telemetry,
    durable,
    ackWaitMs: config.ackWaitMs,
    maxDeliver: config.maxDeliver,
    maxAckPending: Math.max(config.batchSize, config.consumerConcurrency) * 4,
    description: 'ingestion: telemetry → signals',
  });

  const deadLetter = new DeadLetterPublisher(js, layout, 'ingestion');

  const drops = await DropAccounting.start({
    kv: await bindKv(jsm, js, overrides.dropsBucket ?? KV_BUCKETS.ingestionDrops),
    durable,
    // A consumer that never delivered starts at 0: telemetry discarded before ingestion first ran counts too.
    baseline: consumerInfo.delivered.consumer_seq === 0 ? 0 : consumerInfo.delivered.stream_seq - consumerInfo.delivered.consumer_seq,
    dropped: (count) => counters.dropped(count),
    failed: (error) => context.logger.warn({ err: error }, 'drop accounting: KV unavailable; drops are counted once it answers'),
  });
  const handler = createTelemetryHandler({
    js,
    layout,
    cluster: config.cluster,
    window: new FingerprintWindow(config.fingerprintWindowMs),
    counters,
    deadLetter,
    deliveries: drops,
  });
  const consumer: RunningConsumer = await runPullConsumer(js, {
    stream: layout.streams.telemetry,
    durable,
    batchSize: config.batchSize,
    concurrency: config.consumerConcurrency,
    nakDelayMs: config.nakDelayMs,
    maxDeliver: config.maxDeliver,
    deadLetter,
    handler,
    hooks: {
      deadLettered: (msg, reason, field) => context.logger.warn({ subject: msg.subject.slice(0, 200), seq: msg.info.streamSequence, reason, field }, 'telemetry dead-lettered'),
      retried: (msg, error) => context.logger.warn({ seq: msg.info.streamSequence, err: error }, 'telemetry will be redelivered'),
      failed: (error) => context.logger.error({ err: error }, 'telemetry consumer stopped'),
    },
  });
  void consumer.done.then(() => undefined);
  return {
    durable,
    stop: async () => {
      await consumer.stop();
      await drops.stop();
    },
  };
}

/**
 * The ingestion service: JetStream layout, the TELEMETRY consumer (validate, normalise, dedup, publish to SIGNALS,
 * dead-letter; off with CORTEXOPS_INGESTION_CONSUME=false, a webhook-only replica), the Alertmanager webhook and, when
 * a kubeconfig is configured, the owner informers and the Kubernetes Warning-event watcher (unless
 * CORTEXOPS_INGESTION_WATCH_EVENTS=false). `stop()` stops the sources, drains the consumer (in-flight messages finish
 * and are acked), then drains the connection.
 */
export async function startIngestion(config: ServiceConfig<'ingestion'>, context: ServiceContext, overrides: IngestionOverrides = {}): Promise<RunningService> {
  const nc: NatsConnection = await connectNats(config, 'ingestion', (message) => context.logger.warn(message));
  context.logger.info({ server: nc.getServer() }, 'connected to NATS');
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  // Bound, never created: the admin step made the streams and buckets (ingestion's NATS user may not).
  const layout = await bindJetStreamLayout(jsm, { ...overrides.layout, settings: config }, ['telemetry', 'signals', 'deadLetter']);
  const stopDeadLetterDrops = await countDeadLetterDrops(jsm, layout, context);
  const dropped = new Counter({
    name: METRICS.telemetryDroppedTotal,
    help: 'Telemetry the TELEMETRY stream discarded (limits, discard-old) before ingestion read it',
    registers: [context.registry],
  });
  // Every source × outcome from the start: panels and alerts over a rate of 0 see a series, not nothing.
  for (const source of TELEMETRY_SOURCES) for (const outcome of INGEST_OUTCOMES) context.metrics.eventsIngested.inc({ source, outcome }, 0);
  const counters: PipelineCounters = {
    ingested: (source, outcome) => context.metrics.eventsIngested.inc({ source, outcome }),
    dropped: (count) => {
      dropped.inc(count);
      context.logger.warn({ count }, 'TELEMETRY discarded messages before ingestion read them');
    },
  };
  const webhookDeadLetter = new DeadLetterPublisher(js, layout, 'webhook');
  const consumer = config.consume ? await startConsumer(js, jsm, layout, config, context, counters, overrides) : undefined;

  // One owner cache (informers of pods and ReplicaSets) for the webhook and the watcher of this process.
  const owners = config.kubeconfig
    ? await OwnerResolver.start(loadKubeConfig(config.kubeconfig), {
        shared: await podOwnersBucket(js, overrides.podOwnersBucket ?? KV_BUCKETS.podOwners),
        onError: (error) => context.logger.warn({ err: error }, 'pod/ReplicaSet watch failed; restarting it (owners are read with get meanwhile)'),
        ...(overrides.ownerLookupQueue !== undefined ? { maxQueued: overrides.ownerLookupQueue } : {}),
      })
    : undefined;
  const refused = new Counter({
    name: METRICS.webhookRefusedTotal,
    help: 'Alertmanager webhook calls whose alerts were not taken: reason unauthenticated (401: no valid bearer token, never retried), too_large (body over CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES, never parsed: 413 once kept for replay, else 503; see cortexops_webhook_oversized_total) or busy (503: over CORTEXOPS_INGESTION_WEBHOOK_BYTES_IN_FLIGHT); Alertmanager retries a 503',
    labelNames: ['reason'],
    registers: [context.registry],
  });
  for (const reason of ['unauthenticated', 'too_large', 'busy'] satisfies WebhookRefusal[]) refused.inc({ reason }, 0);
  const deferred = new Counter({
    name: METRICS.ownerLookupsDeferredTotal,
    help: `Alertmanager webhook calls answered 503 (Alertmanager retries) because the owners of pods they name were not known in time: reason timeout (not read within CORTEXOPS_INGESTION_OWNER_LOOKUP_TIMEOUT_MS; the read goes on and is remembered), queue_full (${MAX_QUEUED_READS} pods being read already) or unavailable (the API server failed the read and nothing was remembered of the pod)`,
    labelNames: ['reason'],
    registers: [context.registry],
  });
  for (const reason of ['timeout', 'queue_full', 'unavailable'] satisfies OwnerDeferral[]) deferred.inc({ reason }, 0);
  const oversizedKept = new Counter({
    name: METRICS.webhookOversizedTotal,
    help: `Alertmanager webhook bodies over CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES (none of their alerts published) by outcome: kept (whole, in the object store ${OBJECT_STORES.webhookOversized}, answered 413), truncated (its first ${OVERSIZED_BODY_KEEP_BYTES} bytes kept, 413), unkept (not kept: the store refused it or was busy; answered 503, Alertmanager retries)`,
    labelNames: ['outcome'],
    registers: [context.registry],
  });
  for (const outcome of OVERSIZED_OUTCOMES) oversizedKept.inc({ outcome }, 0);
  const oversized = await OversizedBodies.open(js, {
    ...(overrides.oversizedBucket !== undefined ? { bucket: overrides.oversizedBucket } : {}),
    ...(overrides.oversizedKeepBytes !== undefined ? { keepBytes: overrides.oversizedKeepBytes } : {}),
    ...(overrides.oversizedStoreBytes !== undefined ? { maxBytes: overrides.oversizedStoreBytes } : {}),
    ttlMs: config.deadLetterMaxAgeMs,
    storage: config.jsStorage,
  }).catch((error: unknown) => {
    // Missing, and this NATS user may not create it: bodies over the limit are refused with 503 (retried), not kept.
    context.logger.error({ err: error, bucket: overrides.oversizedBucket ?? OBJECT_STORES.webhookOversized }, 'oversized-body store unavailable: webhook bodies over the limit are answered 503 and not kept');
    return undefined;
  });
  const token = config.webhookTokenFile === undefined ? undefined : new WebhookToken(config.webhookTokenFile);
  if (token === undefined) context.logger.warn('Alertmanager webhook: no CORTEXOPS_INGESTION_WEBHOOK_TOKEN_FILE, so anyone who reaches the port can post alerts');
  else if (token.problem() !== undefined) context.logger.error({ problem: token.problem() }, 'Alertmanager webhook: the token file authenticates nobody; every call is refused until it does');
  registerAlertmanagerRoute(context.http, {
    js,
    layout,
    cluster: config.cluster,
    deadLetter: webhookDeadLetter,
    counters,
    maxBytes: config.webhookMaxBytes,
    bytesInFlight: config.webhookBytesInFlight,
    refused: (reason) => refused.inc({ reason }),
    deferred: (reason) => deferred.inc({ reason }),
    ...(oversized ? { oversized } : {}),
    oversizedKept: (outcome) => oversizedKept.inc({ outcome }),
    ...(token ? { token } : {}),
    ...(owners ? { owners: { resolver: owners, timeoutMs: config.ownerLookupTimeoutMs } } : {}),
  });

  let watcher: KubernetesEventWatcher | undefined;
  if (config.kubeconfig && config.watchEvents) {
    const kv = await bindKv(jsm, js, overrides.kvBucket ?? KV_BUCKETS.kubernetesWatch);
    watcher = KubernetesEventWatcher.create({ kubeconfigPath: config.kubeconfig, js, kv, layout, cluster: config.cluster, logger: context.logger, owners: owners as OwnerResolver });
    await watcher.start();
    context.logger.info({ kubeconfig: config.kubeconfig }, 'watching Kubernetes Warning events');
  }
  if (consumer) context.logger.info({ streams: layout.streams, durable: consumer.durable }, 'ingestion consuming TELEMETRY');
  else context.logger.info({ streams: layout.streams }, 'webhook-only replica: not consuming TELEMETRY (CORTEXOPS_INGESTION_CONSUME=false)');

  return {
    checks: [natsCheck(nc)],
    stop: async () => {
      await watcher?.stop();
      await owners?.stop();
      await consumer?.stop();
      await stopDeadLetterDrops();
      await nc.drain();
    },
  };
}
