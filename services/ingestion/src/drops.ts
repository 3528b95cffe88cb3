import { randomBytes } from 'node:crypto';
import { JETSTREAM_ERR_CODES } from '@cortexops/messaging';
import { NatsError, type JsMsg, type KV, type KvEntry, type QueuedIterator } from 'nats';

/** Redelivery consumer sequences per KV value (a segment); a full one is never written again. */
const SEGMENT = 10_000;

function countBelow(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface DropAccountingOptions {
  readonly kv: KV;
  readonly durable: string;
  /** What the consumer had already passed when no replica counted before (see {@link DropAccounting.start}). */
  readonly baseline: number;
  /** This replica's share of newly found drops (each drop is reported by exactly one replica). */
  readonly dropped: (count: number) => void;
  readonly failed?: (error: unknown) => void;
}

/**
 * Telemetry TELEMETRY discarded before the durable consumer delivered it, counted once across every replica that
 * shares the consumer. The consumer's own counters give it: a first delivery of stream sequence `s` with consumer
 * sequence `c` has had `c - 1` deliveries before it, of which `R(<c)` were redeliveries, so the stream sequences it
 * passed without delivering are `s - c + R(<c)`. Every replica records the redeliveries it receives (their consumer
 * sequences) in a KV bucket and reads the others'; a redelivery not yet read only makes the value smaller, never larger.
 * The drops already counted are a compare-and-set value in the same bucket: a replica that finds more claims the
 * difference and adds it to its own counter, so the replicas' counters sum to the drops. (Per-replica sequence gaps,
 * the old way, counted the other replicas' messages as drops.)
 */
export class DropAccounting {
  private readonly segments = new Map<string, number[]>();
  private readonly own: number[][] = [[]];
  private readonly replica = randomBytes(6).toString('hex');
  private counted = 0;
  private target = 0;
  private claiming: Promise<void> | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private watch: QueuedIterator<KvEntry> | undefined;

  private constructor(private readonly options: DropAccountingOptions) {}

  private get countedKey(): string {
    return `${this.options.durable}.counted`;
  }

  private get redeliveryPrefix(): string {
    return `${this.options.durable}.redeliveries`;
  }

  /**
   * Starts reading the replicas' redeliveries. `baseline` is used only when no replica counted yet: 0 for a consumer
   * that never delivered (telemetry discarded before ingestion first ran counts too), else the consumer's delivered
   * stream sequence minus its delivered consumer sequence (redeliveries before then are unknown; the same offset is
   * missing from every later value, so nothing is counted twice).
   */
  static async start(options: DropAccountingOptions): Promise<DropAccounting> {
    const accounting = new DropAccounting(options);
    try {
      await options.kv.create(accounting.countedKey, String(options.baseline));
    } catch {
      // Counted before (by this consumer's replicas): continue from there.
    }
    const entry = await options.kv.get(accounting.countedKey);
    accounting.counted = entry ? Number(entry.string()) || 0 : options.baseline;
    accounting.target = accounting.counted;
    const watch = await options.kv.watch({ key: `${accounting.redeliveryPrefix}.>` });
    accounting.watch = watch;
    void (async () => {
      for await (const e of watch) accounting.read(e);
    })().catch((error: unknown) => options.failed?.(error));
    return accounting;
  }

  private read(entry: KvEntry): void {
    if (entry.key.startsWith(`${this.redeliveryPrefix}.${this.replica}.`)) return;
    try {
      const value = entry.operation === 'PUT' ? entry.json<unknown>() : [];
      if (!Array.isArray(value)) return;
      const sequences = value.filter((v): v is number => Number.isSafeInteger(v)).sort((a, b) => a - b);
      this.segments.set(entry.key, sequences);
    } catch {
      // Not ours to trust: a value that is no list of numbers is ignored.
    }
  }

  private redeliveriesBefore(consumerSeq: number): number {
    let total = 0;
    for (const sequences of this.segments.values()) total += countBelow(sequences, consumerSeq);
    for (const sequences of this.own) total += countBelow(sequences, consumerSeq);
    return total;
  }

  /** Called with every delivery, in the order the consumer delivered them to this replica. */
  observe(msg: JsMsg): void {
    const { deliverySequence, streamSequence, deliveryCount } = msg.info;
    if (deliveryCount > 1) {
      this.recordRedelivery(deliverySequence);
      return;
    }
    const passed = streamSequence - deliverySequence + this.redeliveriesBefore(deliverySequence);
    if (passed > this.target) this.target = passed;
    if (this.target > this.counted)
      this.claiming ??= this.claim().finally(() => {
        this.claiming = undefined;
      });
  }

  private recordRedelivery(consumerSeq: number): void {
    let segment = this.own[this.own.length - 1] as number[];
    if (segment.length >= SEGMENT) {
      segment = [];
      this.own.push(segment);
    }
    segment.push(consumerSeq);
    this.dirty = true;
    this.writing ??= this.write().finally(() => {
      this.writing = undefined;
    });
  }

  /** Writes this replica's open segment (and one that just filled up) until nothing new is left. */
  private async write(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const last = this.own.length - 1;
      for (const index of last > 0 ? [last - 1, last] : [last]) {
        try {
          await this.options.kv.put(`${this.redeliveryPrefix}.${this.replica}.${index}`, JSON.stringify(this.own[index]));
        } catch (error) {
          this.options.failed?.(error);
        }
      }
    }
  }

  /** Raises the shared count to the target by compare-and-set; the difference this replica set is its share. */
  private async claim(): Promise<void> {
    for (let attempt = 0; attempt < 100 && this.target > this.counted; attempt++) {
      try {
        const entry = await this.options.kv.get(this.countedKey);
        const current = entry ? Number(entry.string()) || 0 : 0;
        if (current >= this.target) {
          this.counted = current;
          return;
        }
        const target = this.target;
        await this.options.kv.update(this.countedKey, String(target), entry?.revision ?? 0);
        this.counted = target;
        this.options.dropped(target - current);
      } catch (error) {
        // Another replica counted in between: read again. Anything else is reported; the next first delivery retries.
        if (error instanceof NatsError && error.api_error?.err_code === JETSTREAM_ERR_CODES.wrongLastSequence) continue;
        this.options.failed?.(error);
        return;
      }
    }
  }

  async stop(): Promise<void> {
    await this.claiming;
    await this.writing;
    this.watch?.stop();
  }
}
