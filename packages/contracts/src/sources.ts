import { z } from 'zod';
import { isoTimestamp, severity } from './common.js';
import { kubernetesName, kubernetesNamespace, objectRef, ownerChain } from './kubernetes.js';
import { defineContract } from './validation.js';

/** Bounded label/annotation maps as producers send them (normalisation bounds them further). */
const looseStringMap = z.record(z.string().max(256), z.string().max(16 * 1024)).refine((m) => Object.keys(m).length <= 256, 'must have at most 256 entries');

const jsonObject = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be an object');

/** One alert of an Alertmanager webhook notification (payload version 4). */
export const alertmanagerAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: looseStringMap.refine((m) => typeof m.alertname === 'string' && m.alertname.length > 0, 'must contain alertname'),
  annotations: looseStringMap.default({}),
  startsAt: isoTimestamp,
  endsAt: isoTimestamp.optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().max(64).optional(),
});
export type AlertmanagerAlert = z.output<typeof alertmanagerAlertSchema>;

/** Alertmanager's webhook body, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export const alertmanagerWebhookSchema = z.object({
  version: z.literal('4', { error: 'must be "4"' }),
  groupKey: z.string().min(1).max(1024),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(256),
  groupLabels: looseStringMap.default({}),
  commonLabels: looseStringMap.default({}),
  commonAnnotations: looseStringMap.default({}),
  externalURL: z.string().max(4096).optional(),
  // No count limit: the webhook bounds the body's bytes and each alert.
  alerts: z.array(alertmanagerAlertSchema).min(1),
});
export type AlertmanagerWebhook = z.output<typeof alertmanagerWebhookSchema>;
export const AlertmanagerWebhook = defineContract('AlertmanagerWebhook', alertmanagerWebhookSchema);

/**
 * The webhook body as the receiver splits it: the group's fields checked, each alert only a JSON object here — each
 * is checked by the consumer as `AlertmanagerTelemetry` (a bad alert is dead-lettered alone).
 */
export const alertmanagerWebhookGroupSchema = alertmanagerWebhookSchema.extend({
  alerts: z.array(jsonObject).min(1),
});
export type AlertmanagerWebhookGroup = z.output<typeof alertmanagerWebhookGroupSchema>;
export const AlertmanagerWebhookGroup = defineContract('AlertmanagerWebhookGroup', alertmanagerWebhookGroupSchema);

/** Most alerts in one TELEMETRY message of source `alertmanager` (its bytes are bounded by `MAX_TELEMETRY_BYTES` too). */
export const MAX_ALERTS_PER_TELEMETRY = 1000;

/**
 * TELEMETRY payload of source `alertmanager` as the webhook stores a group: a slice of its alerts, each
 * `{ alert, ownerChain?, node? }` and checked alone as `AlertmanagerTelemetry` with the group's key and receiver (a bad
 * one is dead-lettered alone, the others become signals). One message per slice, not per alert: each JetStream publish
 * is a stored, acknowledged round trip, and a large outage's group must be stored before Alertmanager hears 200.
 */
export const alertmanagerGroupTelemetrySchema = z.object({
  groupKey: z.string().min(1).max(1024),
  receiver: z.string().max(256).optional(),
  alerts: z.array(jsonObject).min(1).max(MAX_ALERTS_PER_TELEMETRY),
});
export type AlertmanagerGroupTelemetry = z.output<typeof alertmanagerGroupTelemetrySchema>;
export const AlertmanagerGroupTelemetry = defineContract('AlertmanagerGroupTelemetry', alertmanagerGroupTelemetrySchema);

/** One alert with its group: an entry of `AlertmanagerGroupTelemetry`, or a whole payload as stored before groups were. */
export const alertmanagerTelemetrySchema = z.object({
  groupKey: z.string().min(1).max(1024),
  receiver: z.string().max(256).optional(),
  alert: alertmanagerAlertSchema,
  /** Owners of the pod the alert names, from the pod upwards, when the webhook could read them from the cluster. */
  ownerChain: ownerChain.default([]),
  /** The node the pod the alert names runs on (its `spec.nodeName`), when the webhook could read it from the cluster. */
  node: kubernetesName.optional(),
});
export type AlertmanagerTelemetry = z.output<typeof alertmanagerTelemetrySchema>;
export const AlertmanagerTelemetry = defineContract('AlertmanagerTelemetry', alertmanagerTelemetrySchema);

/** TELEMETRY payload of source `kubernetes`: a core/v1 Event (the fields we read) plus the owner chain the watcher resolved. */
export const kubernetesEventTelemetrySchema = z.object({
  event: z.object({
    metadata: z.object({ uid: z.string().min(1).max(128), name: z.string().max(253), namespace: z.string().max(63).optional(), resourceVersion: z.string().max(64).optional() }),
    type: z.string().max(32).optional(),
    reason: z.string().min(1).max(128),
    message: z.string().max(16 * 1024).optional(),
    involvedObject: z.object({ kind: z.string().min(1).max(64), name: z.string().min(1).max(253), namespace: z.string().max(63).optional() }),
    count: z.number().int().min(0).optional(),
    firstTimestamp: isoTimestamp.nullish(),
    lastTimestamp: isoTimestamp.nullish(),
    eventTime: isoTimestamp.nullish(),
    source: z.object({ component: z.string().max(256).optional(), host: z.string().max(253).optional() }).partial().optional(),
    reportingInstance: z.string().max(253).optional(),
  }),
  ownerChain: ownerChain.default([]),
});
export type KubernetesEventTelemetry = z.output<typeof kubernetesEventTelemetrySchema>;
export const KubernetesEventTelemetry = defineContract('KubernetesEventTelemetry', kubernetesEventTelemetrySchema);

/** TELEMETRY payload of source `custom`: any JSON producer describing a problem directly. */
export const customTelemetrySchema = z.object({
  title: z.string().min(1).max(512),
  severity,
  status: z.enum(['firing', 'resolved']).default('firing'),
  namespace: kubernetesNamespace.optional(),
  object: objectRef.optional(),
  ownerChain: ownerChain.default([]),
  node: kubernetesName.optional(),
  reason: z.string().max(128).optional(),
  labels: looseStringMap.default({}),
  annotations: looseStringMap.default({}),
  /** Producer's own identity of the problem; hashed into the fingerprint. */
  key: z.string().min(1).max(512).optional(),
  startsAt: isoTimestamp.optional(),
  endsAt: isoTimestamp.optional(),
});
export type CustomTelemetry = z.output<typeof customTelemetrySchema>;
export const CustomTelemetry = defineContract('CustomTelemetry', customTelemetrySchema);
