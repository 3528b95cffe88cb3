import { Readable } from 'node:stream';
import { AlertmanagerWebhookGroup, HTTP_PATHS, kubernetesName, kubernetesNamespace, type ObjectRef } from '@cortexops/contracts';
import { publishPipelined, type DeadLetterPublisher, type JetStreamLayout, type OutgoingMessage } from '@cortexops/messaging';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JetStreamClient } from 'nats';
import { sliceAlert, sliceAlerts } from './alert-slices.js';
import { ByteBudget, discardRest, readBounded, unread, type OverLimitBody } from './body.js';
import { sha256Hex } from './normalise.js';
import { LOOKUP_PENDING, OwnerLookupQueueFullError, OwnerLookupUnavailableError, type OwnerResolver } from './owners.js';
import type { PipelineCounters } from './pipeline.js';
import type { OversizedBodies, OversizedOutcome } from './oversized.js';
import type { WebhookToken } from './webhook-auth.js';

/** Why a call was refused whole, unread: no valid credential, its body is over the limit, or the bytes in flight are. */
export type WebhookRefusal = 'unauthenticated' | 'too_large' | 'busy';

export interface AlertmanagerRouteOptions {
  readonly js: JetStreamClient;
  readonly layout: JetStreamLayout;
  readonly cluster: string;
  readonly deadLetter: DeadLetterPublisher;
  readonly counters: PipelineCounters;
  /** Largest body handled (bytes); a larger one is kept in `oversized` for replay and refused, and counted. */
  readonly maxBytes: number;
  /** Where bodies over `maxBytes` are kept; without it they are refused unread with 503. */
  readonly oversized?: OversizedBodies;
  /** What became of a body over the limit. */
  readonly oversizedKept?: (outcome: OversizedOutcome) => void;
  /** Bytes of bodies handled at once; beyond it a call is refused with 503 (Alertmanager retries). */
  readonly bytesInFlight: number;
  readonly refused: (reason: WebhookRefusal, bytes: number) => void;
  /** Reads the owners of the pod an alert names (when this process has a kubeconfig), within the timeout. */
  readonly owners?: { readonly resolver: OwnerResolver; readonly timeoutMs: number };
  /** A call answered 503 because the owners of pods it names are not known yet (timeout) or their lookups are refused (queue_full). */
  readonly deferred?: (reason: OwnerDeferral) => void;
  /** TELEMETRY publishes in flight per call. */
  readonly publishWindow?: number;
  /** The bearer token every call must carry; without it the webhook takes unauthenticated calls. */
  readonly token?: WebhookToken;
}

type Rejection = { readonly status: number; readonly reason: string; readonly field: string };

/** Why a call's alerts were not published: an owner lookup did not answer in time, its queue was full, or the API server failed it. */
export type OwnerDeferral = 'timeout' | 'queue_full' | 'unavailable';

/** The namespace and pod an alert names, when both are valid names. */
function podNamed(alert: Record<string, unknown>): { readonly namespace: string; readonly pod: string } | undefined {
  const labels = alert.labels as Record<string, unknown> | undefined;
  if (typeof labels !== 'object' || labels === null || labels.pod === undefined || labels.namespace === undefined) return undefined;
  const namespace = kubernetesNamespace.safeParse(labels.namespace);
  const pod = kubernetesName.safeParse(labels.pod);
  return namespace.success && pod.success ? { namespace: namespace.data, pod: pod.data } : undefined;
}

/**
 * The owners of the pod an alert names: at once from the informer's cache; a pod it has not shown waits for the API
 * up to the deadline — not answered by then (or refused by a full lookup queue) is a deferral, never "no owners":
 * the alert must group as its later signals will (the resolved one finds the lookup's answer).
 */
function podOwners(pod: ReturnType<typeof podNamed>, owners: AlertmanagerRouteOptions['owners']): ObjectRef[] | Promise<ObjectRef[] | OwnerDeferral> {
  if (!owners || pod === undefined) return [];
  const cached = owners.resolver.fromCache(pod.namespace, pod.pod);
  if (cached) return cached;
  return owners.resolver.ofPodWithin(pod.namespace, pod.pod, owners.timeoutMs).then(
    (chain) => (chain === LOOKUP_PENDING ? 'timeout' : chain),
    (error: unknown) => {
      if (error instanceof OwnerLookupQueueFullError) return 'queue_full';
      if (error instanceof OwnerLookupUnavailableError) return 'unavailable';
      throw error;
    },
  );
}

function parse(body: Buffer): { ok: true; value: AlertmanagerWebhookGroup } | { ok: false; rejection: Rejection } {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { ok: false, rejection: { status: 400, reason: `malformed JSON: ${(error as Error).message.slice(0, 200)}`, field: '(root)' } };
  }
  const parsed = AlertmanagerWebhookGroup.validate(json);
  if (!parsed.ok) {
    const first = parsed.error.issues[0];
    const field = first?.field ?? '(root)';
    return { ok: false, rejection: { status: 400, reason: `${field}: ${first?.problem ?? 'is invalid'}`, field } };
  }
  return { ok: true, value: parsed.value };
}

/** An alert too large for one TELEMETRY message: dead-lettered alone, with its own bytes. */
interface OversizedAlert {
  readonly field: string;
  readonly msgId: string;
  readonly original: Buffer;
  readonly reason: string;
}

/**
 * The group's alerts with the owners (and node) of the pod each names, packed into bounded TELEMETRY messages
 * (`AlertmanagerGroupTelemetry`); each alert is checked by the consumer on its own (`AlertmanagerTelemetry`: a bad alert
 * is dead-lettered alone). An alert too large for a message even alone is dead-lettered here.
 */
async function split(
  webhook: AlertmanagerWebhookGroup,
  subject: string,
  cluster: string,
  owners: AlertmanagerRouteOptions['owners'],
): Promise<{ messages: OutgoingMessage[]; oversized: OversizedAlert[] } | { deferred: OwnerDeferral; pods: number }> {
  const pods = webhook.alerts.map(podNamed);
  // Every lookup the cache cannot answer is started before any is awaited: the call waits for the slowest only.
  const chains = pods.map((pod) => podOwners(pod, owners));
  const answers = await Promise.all(chains.filter((chain): chain is Promise<ObjectRef[] | OwnerDeferral> => !Array.isArray(chain)));
  const deferred = answers.filter((answer) => !Array.isArray(answer));
  if (deferred.length > 0) return { deferred: deferred.includes('queue_full') ? 'queue_full' : deferred.includes('unavailable') ? 'unavailable' : 'timeout', pods: deferred.length };
  let answered = 0;
  const sliced = webhook.alerts.map((alert, index) => {
    const chain = chains[index];
    const ownerChain = Array.isArray(chain) ? chain : (answers[answered++] as ObjectRef[]);
    const pod = pods[index];
    // Where the pod runs (kubernetes-mixin's pod alerts carry no node label): the correlator's topology reads it.
    const node = pod === undefined || owners === undefined ? undefined : owners.resolver.nodeOfPod(pod.namespace, pod.pod);
    return sliceAlert(index, alert, { ownerChain, node });
  });
  const { messages, tooLarge } = sliceAlerts({ groupKey: webhook.groupKey, receiver: webhook.receiver }, cluster, subject, sliced);
  const oversized = tooLarge.map(({ alert, bytes, limit }) => ({
    field: `alerts[${alert.index}]`,
    msgId: `dl-am-${sha256Hex(`${webhook.groupKey}\n${alert.identity}`).slice(0, 32)}`,
    original: Buffer.from(JSON.stringify(webhook.alerts[alert.index])),
    reason: `alert of ${bytes} bytes exceeds the limit of ${limit} bytes per alert`,
  }));
  return { messages, oversized };
}

/**
 * Alertmanager's webhook receiver (payload version 4), every request handled here. A body of up to `maxBytes` (a
 * 10,000-alert group is 2–8 MB) is packed into bounded `telemetry.alertmanager` messages of its alerts, firing or
 * resolved, published pipelined; 200 only once TELEMETRY stored them all, else 503 so Alertmanager retries. Each alert is
 * bounded on its own: one too large for a TELEMETRY message is dead-lettered alone, one that breaks the alert contract
 * is dead-lettered alone by the consumer; the others go on. A bad body (not JSON, not version 4, no alerts ...) is
 * dead-lettered with the reason and answered 400. A body over the limit, or one that does not fit the bytes in
 * flight, is refused unread with 503 (Alertmanager retries; counted in `cortexops_webhook_refused_total`, logged).
 * With a token configured, a call without it is refused first: 401, nothing read, published or dead-lettered.
 */
export function registerAlertmanagerRoute(http: FastifyInstance, options: AlertmanagerRouteOptions): void {
  const { js, layout, cluster, deadLetter, counters, owners, maxBytes, refused } = options;
  const subject = layout.telemetrySubject('alertmanager');
  // At least one body of the largest size fits, whatever the settings say.
  const budget = new ByteBudget(Math.max(options.bytesInFlight, maxBytes));

  const refuse = (request: FastifyRequest, reply: FastifyReply, reason: WebhookRefusal, bytes: number) => {
    refused(reason, bytes);
    request.log.error({ bytes, limit: maxBytes, bytesInFlight: options.bytesInFlight, reason }, 'Alertmanager webhook call refused unread; Alertmanager will retry');
    const error = reason === 'too_large' ? `body of ${bytes} bytes exceeds the limit of ${maxBytes} bytes` : 'too many webhook bytes in flight';
    return reply.code(503).header('retry-after', '10').send({ error });
  };

  /**
   * A body over the limit is never parsed. It is kept (up to the cap) in the oversized-body store and answered 413:
   * Alertmanager does not retry a 4xx, and a retry could only be refused again — the kept body is what an operator
   * replays. Not kept (no store, one being kept already, the store refused it): read to its end, answered 503, so
   * Alertmanager retries. Either way counted and logged.
   */
  const overLimit = async (request: FastifyRequest, reply: FastifyReply, body: OverLimitBody) => {
    const store = options.oversized;
    if (store === undefined || store.busy) {
      const bytes = body.read + (await discardRest(body.rest));
      if (store !== undefined) options.oversizedKept?.('unkept');
      return refuse(request, reply, 'too_large', bytes);
    }
    try {
      const kept = await store.keep(body, { limit: maxBytes, remote: request.ip, receivedAt: new Date() });
      refused('too_large', kept.bytes);
      options.oversizedKept?.(kept.truncated ? 'truncated' : 'kept');
      request.log.error(
        { bytes: kept.bytes, limit: maxBytes, kept: kept.kept, truncated: kept.truncated, bucket: kept.bucket, object: kept.name },
        `Alertmanager webhook body over the limit: none of its alerts published; kept for replay (nats object get ${kept.bucket} ${kept.name})`,
      );
      return reply.code(413).send({ error: `body of ${kept.bytes} bytes exceeds the limit of ${maxBytes} bytes; kept for replay`, kept: { bucket: kept.bucket, name: kept.name, bytes: kept.kept, truncated: kept.truncated } });
    } catch (error) {
      options.oversizedKept?.('unkept');
      request.log.error({ err: error }, 'Alertmanager webhook body over the limit could not be kept');
      return refuse(request, reply, 'too_large', body.read);
    }
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    // No body at all (no content type) reads as empty: malformed JSON, like any other bad body.
    const stream = request.body instanceof Readable ? request.body : Readable.from([]);
    if (options.token && !options.token.accepts(request.headers.authorization)) {
      // Nothing of an unauthenticated call is read, published or dead-lettered; it is counted and logged.
      stream.resume();
      refused('unauthenticated', 0);
      request.log.warn({ remote: request.ip, credential: request.headers.authorization === undefined ? 'none' : 'wrong' }, 'Alertmanager webhook call refused: no valid bearer token');
      return reply.code(401).header('www-authenticate', 'Bearer realm="cortexops-ingestion"').send({ error: 'unauthenticated: the webhook needs Authorization: Bearer <token>' });
    }
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (declared > maxBytes) return overLimit(request, reply, unread(stream));
    const reserved = Number.isFinite(declared) ? declared : maxBytes;
    if (!budget.tryReserve(reserved)) {
      stream.resume();
      return refuse(request, reply, 'busy', reserved);
    }
    try {
      const read = await readBounded(stream, maxBytes);
      if (!read.ok) return await overLimit(request, reply, read.over);
      const body = read.body;
      const parsed = parse(body);
      if (!parsed.ok) {
        counters.ingested('alertmanager', 'rejected');
        try {
          await deadLetter.publish({ subject: `http:${HTTP_PATHS.alertmanagerWebhook}`, original: body, reason: parsed.rejection.reason, field: parsed.rejection.field });
        } catch (error) {
          request.log.error({ err: error }, 'dead letter unavailable');
          return reply.code(503).send({ error: 'dead letter unavailable' });
        }
        return reply.code(parsed.rejection.status).send({ error: parsed.rejection.reason, field: parsed.rejection.field });
      }
      const alerts = await split(parsed.value, subject, cluster, owners);
      if ('deferred' in alerts) {
        // Nothing published: every alert of the call is published once its pods' owners are known (the lookups go on).
        options.deferred?.(alerts.deferred);
        request.log.warn({ reason: alerts.deferred, pods: alerts.pods, timeoutMs: owners?.timeoutMs }, 'Alertmanager webhook call deferred: owners of pods it names not known yet; Alertmanager will retry');
        return reply.code(503).header('retry-after', '5').send({ error: `owners of ${alerts.pods} pods not known yet (${alerts.deferred})` });
      }
      const { messages, oversized } = alerts;
      try {
        for (const alert of oversized) {
          counters.ingested('alertmanager', 'rejected');
          await deadLetter.publish({ subject: `http:${HTTP_PATHS.alertmanagerWebhook}`, ...alert });
        }
        // No expected-stream header per message: the server refuses overlapping stream subjects, so the telemetry
        // prefix can only belong to TELEMETRY.
        await publishPipelined(js, messages, { window: options.publishWindow ?? 512 });
      } catch (error) {
        request.log.error({ err: error }, 'TELEMETRY or the dead letter unavailable; Alertmanager will retry');
        return reply.code(503).send({ error: 'telemetry stream unavailable' });
      }
      return reply.code(200).send({ accepted: parsed.value.alerts.length - oversized.length, messages: messages.length, deadLettered: oversized.length });
    } finally {
      budget.release(reserved);
    }
  };

  void http.register(async (scope) => {
    // The raw stream, whatever the content type: read here within the limit; the dead letter keeps the bytes as received.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.post(HTTP_PATHS.alertmanagerWebhook, handle);
  });
}
