import { AlertmanagerWebhook, HTTP_PATHS, kubernetesName, kubernetesNamespace, MAX_TELEMETRY_BYTES, type AlertmanagerAlert, type ObjectRef, type TelemetryEnvelope } from '@cortexops/contracts';
import { publishWithId, TELEMETRY_STREAM_MAX_MSG_BYTES, type DeadLetterPublisher, type JetStreamLayout } from '@cortexops/messaging';
import type { FastifyInstance } from 'fastify';
import type { JetStreamClient } from 'nats';
import { sha256Hex } from './normalise.js';
import type { OwnerResolver } from './owners.js';
import type { PipelineCounters } from './pipeline.js';

export interface AlertmanagerRouteOptions {
  readonly js: JetStreamClient;
  readonly layout: JetStreamLayout;
  readonly cluster: string;
  readonly deadLetter: DeadLetterPublisher;
  readonly counters: PipelineCounters;
  /** Reads the owners of the pod an alert names (when this process has a kubeconfig), within the timeout. */
  readonly owners?: { readonly resolver: OwnerResolver; readonly timeoutMs: number };
}

/** The pod's owners when the alert names a valid namespace and pod and the cluster answers in time; else none. */
async function podOwners(alert: AlertmanagerAlert, owners: AlertmanagerRouteOptions['owners']): Promise<ObjectRef[]> {
  const namespace = kubernetesNamespace.safeParse(alert.labels.namespace);
  const pod = kubernetesName.safeParse(alert.labels.pod);
  if (!owners || !namespace.success || !pod.success) return [];
  return owners.resolver.ofPodWithin(namespace.data, pod.data, owners.timeoutMs);
}

type Rejection = { readonly status: number; readonly reason: string; readonly field: string };

function check(body: Buffer): { ok: true; value: AlertmanagerWebhook } | { ok: false; rejection: Rejection } {
  if (body.length > MAX_TELEMETRY_BYTES) {
    return { ok: false, rejection: { status: 413, reason: `body of ${body.length} bytes exceeds the limit of ${MAX_TELEMETRY_BYTES} bytes`, field: '(root)' } };
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { ok: false, rejection: { status: 400, reason: `malformed JSON: ${(error as Error).message.slice(0, 200)}`, field: '(root)' } };
  }
  const parsed = AlertmanagerWebhook.validate(json);
  if (!parsed.ok) {
    const first = parsed.error.issues[0];
    const field = first?.field ?? '(root)';
    return { ok: false, rejection: { status: 400, reason: `${field}: ${first?.problem ?? 'is invalid'}`, field } };
  }
  return { ok: true, value: parsed.value };
}

/**
 * Alertmanager's webhook receiver (payload version 4): every alert, firing or resolved, becomes one
 * `telemetry.alertmanager` message carrying its groupKey (and, with a kubeconfig, the owners of the pod it names,
 * so that it groups with its workload; stored with the message, so a redelivery decides the same). Answers 200 only once TELEMETRY stored them all,
 * so Alertmanager retries otherwise; a bad body is dead-lettered with the reason and answered 4xx.
 */
export function registerAlertmanagerRoute(http: FastifyInstance, options: AlertmanagerRouteOptions): void {
  const { js, layout, cluster, deadLetter, counters, owners } = options;
  const subject = layout.telemetrySubject('alertmanager');
  void http.register(async (scope) => {
    // Raw bytes, whatever the content type: the dead letter keeps the body exactly as received.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: TELEMETRY_STREAM_MAX_MSG_BYTES }, (_req, body, done) => done(null, body));
    scope.post(HTTP_PATHS.alertmanagerWebhook, async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const checked = check(body);
      if (!checked.ok) {
        counters.ingested('alertmanager', 'rejected');
        try {
          await deadLetter.publish({ subject: `http:${HTTP_PATHS.alertmanagerWebhook}`, original: body, reason: checked.rejection.reason, field: checked.rejection.field });
        } catch (error) {
          request.log.error({ err: error }, 'dead letter unavailable');
          return reply.code(503).send({ error: 'dead letter unavailable' });
        }
        return reply.code(checked.rejection.status).send({ error: checked.rejection.reason, field: checked.rejection.field });
      }
      const webhook = checked.value;
      try {
        await Promise.all(
          webhook.alerts.map(async (alert) => {
            const ownerChain = await podOwners(alert, owners);
            const identity = `${webhook.groupKey}|${alert.fingerprint ?? JSON.stringify(alert.labels)}|${alert.status}|${alert.startsAt}|${alert.endsAt ?? ''}`;
            const id = sha256Hex(identity).slice(0, 32);
            const envelope: TelemetryEnvelope = {
              id,
              source: 'alertmanager',
              cluster,
              occurredAt: alert.startsAt,
              payload: { groupKey: webhook.groupKey, receiver: webhook.receiver, alert, ...(ownerChain.length > 0 ? { ownerChain } : {}) },
            };
            return publishWithId(js, subject, Buffer.from(JSON.stringify(envelope)), `am-${id}`, { expectStream: layout.streams.telemetry });
          }),
        );
      } catch (error) {
        request.log.error({ err: error }, 'TELEMETRY unavailable; Alertmanager will retry');
        return reply.code(503).send({ error: 'telemetry stream unavailable' });
      }
      return reply.code(200).send({ accepted: webhook.alerts.length });
    });
  });
}
