import { hash } from 'node:crypto';
import {
  AlertmanagerGroupTelemetry,
  AlertmanagerTelemetry,
  CustomTelemetry,
  KubernetesEventTelemetry,
  Signal,
  WORKLOAD_KINDS,
  type ContractValidationError,
  type ObjectRef,
  type Severity,
  type TelemetryEnvelope,
  type WorkloadKind,
} from '@cortexops/contracts';
import { PermanentMessageError } from '@cortexops/messaging';
import { alertObjectOf, kubernetesNameOf, namespaceOf } from './alert-object.js';

const MAX_MAP_ENTRIES = 128;
const MAX_KEY = 256;
const MAX_VALUE = 1024;
/** Control characters (other than tab/newline) and Unicode direction overrides have no place in a signal. */
// eslint-disable-next-line no-control-regex
const HOSTILE_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;

export function sha256Hex(text: string): string {
  // One-shot hashing: several times cheaper than createHash() for short inputs.
  return hash('sha256', text, 'hex');
}

/** Strips control and bidi-override characters and bounds the length. */
export function cleanText(value: string, max: number): string {
  return value.replace(HOSTILE_CHARS, '').slice(0, max);
}

/** Bounds a producer's map to what a Signal allows (keys sorted, so equal input gives equal output). */
function cleanMap(map: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(map).sort().slice(0, MAX_MAP_ENTRIES)) {
    const k = cleanText(key, MAX_KEY);
    if (k === '') continue;
    out[k] = cleanText(map[key] ?? '', MAX_VALUE);
  }
  return out;
}

function permanent(error: ContractValidationError, prefix: string): PermanentMessageError {
  const first = error.issues[0];
  const field = first ? (first.field === '(root)' ? prefix : `${prefix}.${first.field}`) : prefix;
  return new PermanentMessageError(`${field}: ${first?.problem ?? 'is invalid'}`, field, { cause: error });
}

function isoOrUndefined(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  // Alertmanager sends 0001-01-01T00:00:00Z as "no end".
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970) return undefined;
  return date.toISOString();
}

function isWorkloadKind(kind: string): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

function objectRefOf(kind: string, name: string | undefined): ObjectRef | undefined {
  const valid = kubernetesNameOf(name);
  return valid !== undefined && isWorkloadKind(kind) ? { kind, name: valid } : undefined;
}

function severityOf(value: string | undefined): Severity {
  switch (value?.toLowerCase()) {
    case 'critical':
    case 'page':
    case 'error':
      return 'critical';
    case 'warning':
    case 'warn':
      return 'warning';
    default:
      return 'info';
  }
}

/** Kubernetes Warning reasons that mean an outage rather than a nuisance. */
const CRITICAL_REASONS = new Set(['OOMKilling', 'OOMKilled', 'NodeNotReady', 'Evicted', 'SystemOOM', 'FailedMount', 'NodeHasDiskPressure']);

/** What a source contributes to a Signal; optional fields may be undefined (JSON drops them). */
type SignalFields = Omit<Signal, 'id' | 'source' | 'cluster' | 'fingerprint' | 'status' | 'startsAt' | 'receivedAt'>;

interface Draft {
  readonly source: TelemetryEnvelope['source'];
  readonly fingerprintParts: readonly string[];
  readonly status: 'firing' | 'resolved';
  readonly startsAt: string;
  readonly fields: SignalFields;
}

// Hot path (every telemetry message): plain object literals with every key listed, no spread chains —
// spreading conditional objects cost about 3 µs per signal.
function finish(envelope: TelemetryEnvelope, draft: Draft, receivedAt: string): Signal {
  const fingerprint = sha256Hex([draft.source, envelope.cluster, ...draft.fingerprintParts].join('\u0000')).slice(0, 32);
  const f = draft.fields;
  const candidate: Signal = {
    id: sha256Hex(`${fingerprint}|${draft.status}|${draft.startsAt}`).slice(0, 32),
    source: draft.source,
    cluster: envelope.cluster,
    namespace: f.namespace,
    object: f.object,
    ownerChain: f.ownerChain,
    node: f.node,
    severity: f.severity,
    status: draft.status,
    title: f.title,
    reason: f.reason,
    labels: f.labels,
    annotations: f.annotations,
    fingerprint,
    groupKey: f.groupKey,
    startsAt: draft.startsAt,
    endsAt: f.endsAt,
    receivedAt,
  };
  const result = Signal.validate(candidate);
  if (!result.ok) throw permanent(result.error, 'signal');
  return result.value;
}

/** One alert with its group (`AlertmanagerTelemetry`): the envelope's payload, or one alert of a group's. */
function fromAlertmanager(envelope: TelemetryEnvelope, receivedAt: string, payload: unknown = envelope.payload): Signal {
  const parsed = AlertmanagerTelemetry.validate(payload);
  if (!parsed.ok) throw permanent(parsed.error, 'payload');
  const { alert, groupKey, ownerChain: resolvedOwners, node: podNode } = parsed.value;
  const labels = cleanMap(alert.labels);
  const annotations = cleanMap(alert.annotations);
  // Which object the alert is about: one table of the ecosystem's label conventions (alert-object.ts).
  const named = alertObjectOf(alert.labels);
  const { object, namespace, ownersFromLabels } = named;
  // Where a pod runs: its alert's node label, else the node the webhook read from the cluster (kubernetes-mixin's pod
  // alerts carry none), so the correlator's topology finds a NotReady node's pods.
  const node = named.node ?? (object?.kind === 'Pod' ? podNode : undefined);
  // A pod alert groups with its workload: owners read from the cluster by the webhook, else owner labels.
  const ownerChain = object?.kind !== 'Pod' ? [] : resolvedOwners.length > 0 ? resolvedOwners : [...ownersFromLabels];
  const startsAt = isoOrUndefined(alert.startsAt) ?? receivedAt;
  const endsAt = alert.status === 'resolved' ? isoOrUndefined(alert.endsAt) : undefined;
  const alertname = cleanText(alert.labels.alertname ?? 'alert', 128);
  return finish(
    envelope,
    {
      source: 'alertmanager',
      // Alertmanager identifies an alert by its label set; firing and resolved share it.
      fingerprintParts: Object.keys(alert.labels)
        .sort()
        .map((k) => `${k}=${alert.labels[k] ?? ''}`),
      status: alert.status,
      startsAt,
      fields: {
        namespace,
        object,
        ownerChain,
        node,
        severity: severityOf(alert.labels.severity),
        title: cleanText(annotations.summary ?? alertname, 512) || alertname,
        reason: alertname,
        labels,
        annotations,
        groupKey: cleanText(groupKey, 1024),
        endsAt,
      },
    },
    receivedAt,
  );
}

function fromKubernetes(envelope: TelemetryEnvelope, receivedAt: string): Signal {
  const parsed = KubernetesEventTelemetry.validate(envelope.payload);
  if (!parsed.ok) throw permanent(parsed.error, 'payload');
  const { event, ownerChain } = parsed.value;
  const involved = event.involvedObject;
  // Whoever may create events in one namespace must not speak for objects of another: the API server does not check
  // that an event's involved object is in the event's namespace (cluster-scoped objects name none).
  if (involved.namespace && involved.namespace !== event.metadata.namespace) {
    throw new PermanentMessageError(
      `payload.event.involvedObject.namespace: ${JSON.stringify(involved.namespace)} is not the event's own namespace ${JSON.stringify(event.metadata.namespace ?? '')}; an event may only name objects of its namespace`,
      'payload.event.involvedObject.namespace',
    );
  }
  const namespace = namespaceOf(involved.namespace ?? event.metadata.namespace);
  const object = objectRefOf(involved.kind, involved.name);
  const node = involved.kind === 'Node' ? kubernetesNameOf(involved.name) : kubernetesNameOf(event.source?.host ?? event.reportingInstance);
  const reason = cleanText(event.reason, 128);
  const message = cleanText(event.message ?? '', 480);
  const startsAt = isoOrUndefined(event.firstTimestamp) ?? isoOrUndefined(event.eventTime) ?? isoOrUndefined(event.lastTimestamp) ?? receivedAt;
  return finish(
    envelope,
    {
      source: 'kubernetes',
      // The same reason on the same object is the same problem, however often the event repeats.
      fingerprintParts: [involved.kind, involved.namespace ?? '', involved.name, event.reason],
      status: 'firing',
      startsAt,
      fields: {
        namespace,
        object,
        ownerChain,
        node,
        severity: CRITICAL_REASONS.has(event.reason) ? 'critical' : 'warning',
        title: `${reason}: ${cleanText(involved.kind, 64)}/${cleanText(involved.name, 253)}${message ? ` ${message}` : ''}`.slice(0, 512),
        reason,
        labels: cleanMap({ 'k8s.event.type': event.type ?? 'Warning', 'k8s.involved.kind': involved.kind, 'k8s.involved.name': involved.name }),
        annotations: cleanMap({
          ...(event.message ? { message: event.message } : {}),
          ...(event.count !== undefined ? { count: String(event.count) } : {}),
          'k8s.event.uid': event.metadata.uid,
          ...(event.source?.component ? { component: event.source.component } : {}),
        }),
      },
    },
    receivedAt,
  );
}

function fromCustom(envelope: TelemetryEnvelope, receivedAt: string): Signal {
  const parsed = CustomTelemetry.validate(envelope.payload);
  if (!parsed.ok) throw permanent(parsed.error, 'payload');
  const p = parsed.value;
  const startsAt = isoOrUndefined(p.startsAt) ?? isoOrUndefined(envelope.occurredAt) ?? receivedAt;
  const endsAt = isoOrUndefined(p.endsAt);
  return finish(
    envelope,
    {
      source: 'custom',
      fingerprintParts: p.key ? [p.key] : [p.namespace ?? '', p.object?.kind ?? '', p.object?.name ?? '', p.reason ?? '', p.title],
      status: p.status,
      startsAt,
      fields: {
        namespace: p.namespace,
        object: p.object,
        ownerChain: p.ownerChain,
        node: p.node,
        severity: p.severity,
        title: cleanText(p.title, 512) || 'untitled',
        reason: p.reason ? cleanText(p.reason, 128) : undefined,
        labels: cleanMap(p.labels),
        annotations: cleanMap(p.annotations),
        endsAt,
      },
    },
    receivedAt,
  );
}

/** A part of a TELEMETRY message refused on its own (one alert of a group): the others go on. */
export interface RefusedPart {
  readonly index: number;
  readonly error: PermanentMessageError;
  /** The part alone, as the single-signal TELEMETRY message it stands for (its dead letter's original). */
  readonly original: Buffer;
}

/** What one TELEMETRY message yields: its signals, and the parts refused alone. */
export interface Normalised {
  readonly signals: Signal[];
  readonly refused: RefusedPart[];
}

function isAlertGroup(envelope: TelemetryEnvelope): boolean {
  const payload = envelope.payload;
  return envelope.source === 'alertmanager' && typeof payload === 'object' && payload !== null && 'alerts' in payload;
}

/** A group's alerts (`AlertmanagerGroupTelemetry`), each read alone: a bad alert is refused, the others become signals. */
function fromAlertmanagerGroup(envelope: TelemetryEnvelope, receivedAt: string): Normalised {
  const parsed = AlertmanagerGroupTelemetry.validate(envelope.payload);
  if (!parsed.ok) throw permanent(parsed.error, 'payload');
  const { groupKey, receiver, alerts } = parsed.value;
  const signals: Signal[] = [];
  const refused: RefusedPart[] = [];
  alerts.forEach((entry, index) => {
    // The group's key and receiver are the group's: an entry cannot name others.
    const payload = { ...entry, groupKey, receiver };
    try {
      // Errors name the field as in the refused part's own message (its dead letter's original).
      signals.push(fromAlertmanager(envelope, receivedAt, payload));
    } catch (error) {
      if (!(error instanceof PermanentMessageError)) throw error;
      // Kept as the one-alert TELEMETRY message it stands for: republished to telemetry.alertmanager, it is read alone.
      refused.push({ index, error, original: Buffer.from(JSON.stringify({ source: envelope.source, cluster: envelope.cluster, payload })) });
    }
  });
  return { signals, refused };
}

/**
 * Turns a validated envelope into its signals — one, or one per alert of an Alertmanager group — or throws
 * `PermanentMessageError` naming the field when the message as a whole is bad.
 */
export function normaliseTelemetry(envelope: TelemetryEnvelope, receivedAt: string = new Date().toISOString()): Normalised {
  if (isAlertGroup(envelope)) return fromAlertmanagerGroup(envelope, receivedAt);
  return { signals: [normalise(envelope, receivedAt)], refused: [] };
}

/** Turns a validated single-signal envelope into a Signal, or throws `PermanentMessageError` naming the field. */
export function normalise(envelope: TelemetryEnvelope, receivedAt: string = new Date().toISOString()): Signal {
  switch (envelope.source) {
    case 'alertmanager':
      return fromAlertmanager(envelope, receivedAt);
    case 'kubernetes':
      return fromKubernetes(envelope, receivedAt);
    case 'custom':
      return fromCustom(envelope, receivedAt);
  }
}
