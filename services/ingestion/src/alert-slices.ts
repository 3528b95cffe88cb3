import { MAX_ALERTS_PER_TELEMETRY, MAX_TELEMETRY_BYTES, type ObjectRef } from '@cortexops/contracts';
import type { OutgoingMessage } from '@cortexops/messaging';
import { sha256Hex } from './normalise.js';

/** One alert of a group as TELEMETRY stores it: its `{ alert, ownerChain?, node? }` JSON, and what identifies it. */
export interface SlicedAlert {
  /** Index of the alert in the webhook body (for the dead letter's field). */
  readonly index: number;
  readonly json: string;
  /** Equal for the same alert re-sent (Alertmanager retried the call): a retried call's messages are stored once. */
  readonly identity: string;
}

/**
 * One alert as a TELEMETRY message carries it — with the owners and node of the pod it names — and its identity: the
 * alert's fingerprint (else its labels), status and times, equal when Alertmanager sends the same alert again.
 */
export function sliceAlert(index: number, alert: Readonly<Record<string, unknown>>, pod: { readonly ownerChain?: readonly ObjectRef[]; readonly node?: string | undefined } = {}): SlicedAlert {
  const ownerChain = pod.ownerChain ?? [];
  return {
    index,
    json: JSON.stringify({ alert, ...(ownerChain.length > 0 ? { ownerChain } : {}), ...(pod.node !== undefined ? { node: pod.node } : {}) }),
    identity: JSON.stringify([alert.fingerprint ?? alert.labels, alert.status, alert.startsAt, alert.endsAt ?? '']),
  };
}

export interface AlertSlices {
  readonly messages: OutgoingMessage[];
  /** Alerts too large for a TELEMETRY message even alone, with their size: dead-lettered by the caller. */
  readonly tooLarge: readonly { readonly alert: SlicedAlert; readonly bytes: number; readonly limit: number }[];
}

export interface SliceLimits {
  readonly maxBytes: number;
  readonly maxAlerts: number;
}

export const DEFAULT_SLICE_LIMITS: SliceLimits = { maxBytes: MAX_TELEMETRY_BYTES, maxAlerts: MAX_ALERTS_PER_TELEMETRY };

const ID_LENGTH = 32;

/**
 * Packs a group's alerts, in order, into as few TELEMETRY messages (`AlertmanagerGroupTelemetry` envelopes) as the
 * limits allow. The envelope is written around the alerts' JSON, never re-serialised; each message's id is the hash of
 * the group key and its alerts' identities, so packing the same call again yields the same ids.
 */
export function sliceAlerts(
  group: { readonly groupKey: string; readonly receiver?: string | undefined },
  cluster: string,
  subject: string,
  alerts: readonly SlicedAlert[],
  limits: SliceLimits = DEFAULT_SLICE_LIMITS,
): AlertSlices {
  const receiver = group.receiver === undefined ? '' : `,"receiver":${JSON.stringify(group.receiver)}`;
  const head = (id: string) => `{"id":"${id}","source":"alertmanager","cluster":${JSON.stringify(cluster)},"payload":{"groupKey":${JSON.stringify(group.groupKey)}${receiver},"alerts":[`;
  const tail = ']}}';
  // The id is a fixed-length hex string: the envelope's overhead is known before the id is.
  const overhead = Buffer.byteLength(head('0'.repeat(ID_LENGTH))) + tail.length;
  const messages: OutgoingMessage[] = [];
  const tooLarge: { alert: SlicedAlert; bytes: number; limit: number }[] = [];
  let slice: SlicedAlert[] = [];
  let bytes = overhead;
  const flush = () => {
    if (slice.length === 0) return;
    const id = sha256Hex([group.groupKey, ...slice.map((a) => a.identity)].join('\n')).slice(0, ID_LENGTH);
    messages.push({ subject, data: Buffer.from(`${head(id)}${slice.map((a) => a.json).join(',')}${tail}`), msgId: `am-${id}` });
    slice = [];
    bytes = overhead;
  };
  for (const alert of alerts) {
    const size = Buffer.byteLength(alert.json);
    if (overhead + size > limits.maxBytes) {
      tooLarge.push({ alert, bytes: overhead + size, limit: limits.maxBytes });
      continue;
    }
    // One comma between alerts.
    if (slice.length >= limits.maxAlerts || bytes + size + (slice.length > 0 ? 1 : 0) > limits.maxBytes) flush();
    bytes += size + (slice.length > 0 ? 1 : 0);
    slice.push(alert);
  }
  flush();
  return { messages, tooLarge };
}
