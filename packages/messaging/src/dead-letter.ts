import { DeadLetter } from '@cortexops/contracts';
import type { JetStreamClient, JsMsg, PubAck } from 'nats';
import type { JetStreamLayout } from './layout.js';
import { publishWithId } from './publish.js';

export type DeadLetterStage = DeadLetter['stage'];

/** Hostile input must not bloat the dead letter: reasons are bounded. */
const MAX_REASON = 2048;

export interface DeadLetterInput {
  /** Subject (or route) the input arrived on. */
  readonly subject: string;
  /** The original bytes, exactly as received. */
  readonly original: Uint8Array;
  readonly reason: string;
  readonly field?: string;
  /** De-duplication id, so a redelivered message is dead-lettered once. */
  readonly msgId?: string;
}

/** Writes rejected input with its original bytes (base64) and the reason to the dead-letter stream. */
export class DeadLetterPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly layout: JetStreamLayout,
    readonly stage: DeadLetterStage,
  ) {}

  async publish(input: DeadLetterInput): Promise<PubAck> {
    const record = DeadLetter.parse({
      stage: this.stage,
      reason: input.reason.slice(0, MAX_REASON) || 'rejected',
      ...(input.field !== undefined ? { field: input.field.slice(0, 256) } : {}),
      subject: input.subject.slice(0, 256),
      receivedAt: new Date().toISOString(),
      originalBase64: Buffer.from(input.original).toString('base64'),
    });
    const msgId = input.msgId ?? `dl-${this.stage}-${crypto.randomUUID()}`;
    return publishWithId(this.js, this.layout.deadLetterSubject(this.stage), Buffer.from(JSON.stringify(record)), msgId, {
      expectStream: this.layout.streams.deadLetter,
    });
  }

  /** Dead-letters a JetStream message; its stream sequence makes the id, so a redelivery is stored once. */
  publishMessage(msg: JsMsg, reason: string, field?: string): Promise<PubAck> {
    return this.publish({
      subject: msg.subject,
      original: msg.data,
      reason,
      ...(field !== undefined ? { field } : {}),
      msgId: `dl-${msg.info.stream}-${msg.info.streamSequence}`,
    });
  }
}

/** Reads a dead-letter record back (for tests, tools and replays). */
export function decodeDeadLetter(data: Uint8Array): DeadLetter & { readonly original: Buffer } {
  const record = DeadLetter.parse(JSON.parse(Buffer.from(data).toString('utf8')));
  return { ...record, original: Buffer.from(record.originalBase64, 'base64') };
}
