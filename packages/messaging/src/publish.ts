import { headers as natsHeaders, type JetStreamClient, type PubAck } from 'nats';
import { PublishError } from './errors.js';

export interface PublishOptions {
  /** Stream that must store the message (guards against a subject captured by another stream). */
  readonly expectStream?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/**
 * Publishes with `Nats-Msg-Id` = `msgId`: a second publish of the same id inside the stream's duplicate window
 * is stored once (`PubAck.duplicate` is then true). Resolves only after the stream has stored the message.
 */
export async function publishWithId(js: JetStreamClient, subject: string, data: Uint8Array, msgId: string, options: PublishOptions = {}): Promise<PubAck> {
  let hdrs;
  if (options.headers) {
    hdrs = natsHeaders();
    for (const [k, v] of Object.entries(options.headers)) hdrs.set(k, v);
  }
  try {
    return await js.publish(subject, data, {
      msgID: msgId,
      ...(options.expectStream ? { expect: { streamName: options.expectStream } } : {}),
      ...(hdrs ? { headers: hdrs } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    });
  } catch (error) {
    throw new PublishError(subject, { cause: error });
  }
}
