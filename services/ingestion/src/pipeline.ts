import { MAX_TELEMETRY_BYTES, TELEMETRY_SOURCES, TelemetryEnvelope, type Signal, type TelemetrySource } from '@cortexops/contracts';
import { PermanentMessageError, publishWithId, type DeadLetterPublisher, type JetStreamLayout } from '@cortexops/messaging';
import type { JetStreamClient, JsMsg } from 'nats';
import pLimit from 'p-limit';
import { normaliseTelemetry, type Normalised } from './normalise.js';

/** Decodes in place (Buffer.from(Uint8Array) would copy every message first); invalid UTF-8 becomes U+FFFD as before. */
const utf8 = new TextDecoder();

export const INGEST_OUTCOMES = ['accepted', 'duplicate', 'rejected', 'retried'] as const;
export type IngestOutcome = (typeof INGEST_OUTCOMES)[number];
/** Metric label of a message's source: one of the known sources or `unknown` (hostile subjects never become labels). */
export type SourceLabel = TelemetrySource | 'unknown';

export interface PipelineCounters {
  ingested(source: SourceLabel, outcome: IngestOutcome): void;
  dropped(count: number): void;
}

/**
 * Signals with an equal fingerprint and status inside the window are the same news: publish once.
 * Bounded: entries older than the window are pruned as new ones arrive.
 */
export class FingerprintWindow {
  private readonly seen = new Map<string, number>();
  /** Keys claimed whose publish has not answered yet. */
  private readonly publishing = new Set<string>();
  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  private key(signal: Signal): string {
    return `${signal.fingerprint}|${signal.status}`;
  }

  isDuplicate(signal: Signal, now = Date.now()): boolean {
    if (this.windowMs === 0) return false;
    const last = this.seen.get(this.key(signal));
    return last !== undefined && now - last < this.windowMs;
  }

  /**
   * Atomically checks and records (messages are handled concurrently): true when this signal is new and now
   * claimed, false when an equal one was seen inside the window. Release the claim if publishing fails.
   */
  claim(signal: Signal, now = Date.now()): boolean {
    if (this.isDuplicate(signal, now)) return false;
    this.remember(signal, now);
    this.publishing.add(this.key(signal));
    return true;
  }

  /**
   * True while an equal signal's claim waits for its publish. A redelivery of the same telemetry then (its ack wait
   * ran out while SIGNALS did not answer, e.g. across a NATS restart) must not count as a duplicate: if that publish
   * fails, nothing would be published.
   */
  isPublishing(signal: Signal): boolean {
    return this.publishing.has(this.key(signal));
  }

  /** The claimed signal is stored: later equal ones inside the window are duplicates. */
  confirm(signal: Signal): void {
    this.publishing.delete(this.key(signal));
  }

  /** The claimed signal was not stored: the next equal one is new. */
  release(signal: Signal): void {
    const key = this.key(signal);
    this.publishing.delete(key);
    this.seen.delete(key);
  }

  remember(signal: Signal, now = Date.now()): void {
    if (this.windowMs === 0) return;
    const key = this.key(signal);
    this.seen.delete(key);
    // A change of status ends the other status's window: firing → resolved → firing inside the window is a re-fire.
    this.seen.delete(this.key({ ...signal, status: signal.status === 'firing' ? 'resolved' : 'firing' }));
    this.seen.set(key, now);
    // Map iteration is insertion order: the oldest entries come first.
    for (const [k, at] of this.seen) {
      if (now - at < this.windowMs && this.seen.size <= this.maxEntries) break;
      this.seen.delete(k);
    }
  }
}

export function sourceOfSubject(layout: JetStreamLayout, subject: string): SourceLabel {
  const token = subject.slice(layout.subjectPrefixes.telemetry.length + 1);
  return (TELEMETRY_SOURCES as readonly string[]).includes(token) ? (token as TelemetrySource) : 'unknown';
}

export interface PipelineOptions {
  readonly js: JetStreamClient;
  readonly layout: JetStreamLayout;
  readonly cluster: string;
  readonly window: FingerprintWindow;
  readonly counters: PipelineCounters;
  /** Where an alert of a group refused on its own goes (a message refused whole is the consumer's to dead-letter). */
  readonly deadLetter: DeadLetterPublisher;
  /** SIGNALS publishes in flight in this process, whatever the messages they come from (memory stays bounded). */
  readonly publishesInFlight?: number;
  /** Sees every delivery first (drop accounting across replicas: `DropAccounting`). */
  readonly deliveries?: { observe(msg: JsMsg): void };
}

/**
 * Reads one TELEMETRY message to its signals (one, or one per alert of an Alertmanager group, with the alerts refused
 * alone), or throws `PermanentMessageError` with the reason and field. `receivedAt` must be deterministic for a given
 * stored message (its TELEMETRY timestamp): a redelivery then yields the same signal ids, and SIGNALS de-duplicates the
 * second publish.
 */
export function toSignals(layout: JetStreamLayout, subject: string, data: Uint8Array, cluster: string, receivedAt: string): Normalised {
  if (data.length > MAX_TELEMETRY_BYTES) throw new PermanentMessageError(`body of ${data.length} bytes exceeds the limit of ${MAX_TELEMETRY_BYTES} bytes`, '(root)');
  const source = sourceOfSubject(layout, subject);
  if (source === 'unknown') throw new PermanentMessageError(`unknown source in subject ${JSON.stringify(subject.slice(0, 200))}; known: ${TELEMETRY_SOURCES.join(', ')}`, 'source');
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(data));
  } catch (error) {
    throw new PermanentMessageError(`malformed JSON: ${(error as Error).message.slice(0, 200)}`, '(root)');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new PermanentMessageError('must be a JSON object (a TelemetryEnvelope)', '(root)');
  // The installation's cluster is configuration, never the producer's to choose: a producer naming another is refused.
  const named = (json as { cluster?: unknown }).cluster;
  if (named !== undefined && named !== cluster) throw new PermanentMessageError(`cluster: ${JSON.stringify(named).slice(0, 100)} is not this installation's cluster ${JSON.stringify(cluster)} (CORTEXOPS_CLUSTER)`, 'cluster');
  const parsed = TelemetryEnvelope.validate({ ...json, cluster });
  if (!parsed.ok) {
    const first = parsed.error.issues[0];
    throw new PermanentMessageError(`${first?.field ?? '(root)'}: ${first?.problem ?? 'is invalid'}`, first?.field ?? '(root)');
  }
  if (parsed.value.source !== source) throw new PermanentMessageError(`source: ${JSON.stringify(parsed.value.source)} does not match the subject's source ${JSON.stringify(source)}`, 'source');
  return normaliseTelemetry(parsed.value, receivedAt);
}

/**
 * The TELEMETRY handler: validate, normalise, de-duplicate, publish to SIGNALS. It resolves only after SIGNALS has
 * stored each of the message's signals (or it was a known duplicate) and each alert refused alone is dead-lettered, so
 * the consumer acks after the effect; any failure redelivers the message (what was stored is then a duplicate).
 */
export function createTelemetryHandler(options: PipelineOptions): (msg: JsMsg) => Promise<void> {
  const { js, layout, cluster, window, counters, deliveries, deadLetter } = options;
  const publishSlots = pLimit(options.publishesInFlight ?? 512);
  return async (msg) => {
    deliveries?.observe(msg);
    const source = sourceOfSubject(layout, msg.subject);
    let normalised: Normalised;
    try {
      normalised = toSignals(layout, msg.subject, msg.data, cluster, new Date(Math.floor(msg.info.timestampNanos / 1e6)).toISOString());
    } catch (error) {
      counters.ingested(source, 'rejected');
      throw error;
    }
    for (const part of normalised.refused) {
      // The message's sequence and the part's index make the id: a redelivery dead-letters it once.
      await deadLetter.publish({ subject: msg.subject, original: part.original, reason: part.error.reason, field: part.error.field, msgId: `dl-${msg.info.stream}-${msg.info.streamSequence}-${part.index}` });
      counters.ingested(source, 'rejected');
    }
    const signals = normalised.signals;
    const waiting = signals.find((signal) => window.isPublishing(signal));
    if (waiting !== undefined) {
      // Acking this as a duplicate would lose it if the publish in flight fails: redelivered after its outcome.
      counters.ingested(source, 'retried');
      throw new Error(`signal ${waiting.id}: an equal signal's publish to SIGNALS has not answered yet`);
    }
    const claimed = signals.filter((signal) => {
      if (window.claim(signal)) return true;
      counters.ingested(source, 'duplicate');
      return false;
    });
    // No expected-stream header on the hot path: the server refuses overlapping stream subjects, so the signals prefix
    // can only belong to SIGNALS.
    const outcomes = await Promise.allSettled(
      claimed.map((signal) => publishSlots(() => publishWithId(js, layout.signalSubject(signal.cluster, signal.namespace), Buffer.from(JSON.stringify(signal)), signal.id))),
    );
    let failure: Error | undefined;
    outcomes.forEach((outcome, i) => {
      const signal = claimed[i] as Signal;
      if (outcome.status === 'fulfilled') {
        window.confirm(signal);
        counters.ingested(source, outcome.value.duplicate ? 'duplicate' : 'accepted');
      } else {
        window.release(signal);
        counters.ingested(source, 'retried');
        failure ??= outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason));
      }
    });
    if (failure !== undefined) throw failure;
  };
}
