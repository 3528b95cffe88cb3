import { every } from '@cortexops/observability';
import type { JetStreamManager, StreamInfo } from 'nats';

/** Which limit of the dead-letter stream discarded letters: its age limit (retention) or its byte limit (a flood). */
export type DeadLetterLimit = 'age' | 'bytes';
export const DEAD_LETTER_LIMITS = ['age', 'bytes'] as const satisfies readonly DeadLetterLimit[];

/** What one look at the stream's state holds, and when it was taken. */
export interface DeadLetterSnapshot {
  readonly at: number;
  /** The stream's first sequence still kept; everything below it was discarded. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly messages: number;
  /** Store time of the oldest letter kept (ms), when there is one. */
  readonly firstAt?: number;
  /** The stream's age limit (ms; 0: none). */
  readonly maxAgeMs: number;
}

export interface DeadLetterDropCount {
  readonly limit: DeadLetterLimit;
  readonly count: number;
}

export function snapshotOf(info: StreamInfo, at: number): DeadLetterSnapshot {
  const { state, config } = info;
  const firstAt = state.messages > 0 && state.first_ts ? Date.parse(state.first_ts) : Number.NaN;
  return {
    at,
    // An empty stream keeps nothing below its next sequence (a new stream says first_seq 0).
    firstSeq: state.messages === 0 ? state.last_seq + 1 : state.first_seq,
    lastSeq: state.last_seq,
    messages: state.messages,
    ...(Number.isFinite(firstAt) ? { firstAt } : {}),
    maxAgeMs: Math.floor((config.max_age ?? 0) / 1e6),
  };
}

/**
 * The letters discarded between two looks at the stream, and by which limit (pure). Discarded letters are the ones below
 * the first sequence kept (the stream only drops from its head: age and byte limits, discard old). None of them was
 * stored before the oldest letter of the earlier look (or, when it was empty, before that look): if even that time is
 * younger than the age limit now, none had expired and the byte limit discarded them all. Otherwise some expired and
 * all are counted as `age` (a mix of the two cannot be told apart from the state; the byte limit is never over-counted).
 * A stream that was recreated (sequences went back) counts nothing. A purge by an operator would count as `age`.
 */
export function droppedBetween(previous: DeadLetterSnapshot, next: DeadLetterSnapshot): DeadLetterDropCount | undefined {
  if (next.lastSeq < previous.lastSeq || next.firstSeq < previous.firstSeq) return undefined;
  const count = next.firstSeq - previous.firstSeq;
  if (count <= 0) return undefined;
  const oldestPossible = previous.firstAt ?? previous.at;
  const expired = next.maxAgeMs > 0 && oldestPossible + next.maxAgeMs <= next.at;
  return { limit: expired ? 'age' : 'bytes', count };
}

export interface DeadLetterDropWatchOptions {
  readonly jsm: JetStreamManager;
  /** The dead-letter stream's name (`layout.streams.deadLetter`). */
  readonly stream: string;
  /** How often the stream's state is read. */
  readonly intervalMs: number;
  /** Letters discarded since the previous look (never called with 0). */
  readonly dropped: (drop: DeadLetterDropCount) => void;
  readonly failed?: (error: unknown) => void;
  readonly now?: () => number;
}

/**
 * Counts the letters the dead-letter stream discards by its limits, from the stream's own state (first sequence kept),
 * read every `intervalMs`; what was discarded before it started is not counted (a counter from zero). Every process that
 * runs one sees the same stream: add up one of them, not all (max over instances).
 */
export class DeadLetterDropWatch {
  private previous: DeadLetterSnapshot | undefined;
  private stopTimer: (() => Promise<void>) | undefined;

  private constructor(private readonly options: DeadLetterDropWatchOptions) {}

  static async start(options: DeadLetterDropWatchOptions): Promise<DeadLetterDropWatch> {
    const watch = new DeadLetterDropWatch(options);
    await watch.look();
    watch.stopTimer = every(options.intervalMs, () => watch.look(), (error) => options.failed?.(error), { firstAfterMs: options.intervalMs });
    return watch;
  }

  /** Reads the stream once and reports what was discarded since the previous read. */
  async look(): Promise<void> {
    const next = snapshotOf(await this.options.jsm.streams.info(this.options.stream), this.options.now?.() ?? Date.now());
    const drop = this.previous === undefined ? undefined : droppedBetween(this.previous, next);
    this.previous = next;
    if (drop !== undefined) this.options.dropped(drop);
  }

  async stop(): Promise<void> {
    await this.stopTimer?.();
  }
}
