import { headers as natsHeaders, type JetStreamClient, type PubAck } from 'nats';
import { InvalidMessagingOptionError, PublishError } from './errors.js';

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

export interface OutgoingMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly msgId: string;
}

/**
 * Publishes every message with its `Nats-Msg-Id`, keeping up to `window` publishes in flight (pipelined on the one
 * connection instead of one awaited round trip each; memory bounded by the window). Resolves once the stream stored
 * them all; rejects with the first `PublishError`, after which no further message is started.
 */
export async function publishPipelined(js: JetStreamClient, messages: readonly OutgoingMessage[], options: PublishOptions & { readonly window?: number } = {}): Promise<void> {
  const window = options.window ?? 256;
  if (!Number.isInteger(window) || window < 1) throw new InvalidMessagingOptionError('window', 'must be a whole number ≥ 1');
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < messages.length) {
      const message = messages[next++] as OutgoingMessage;
      try {
        await publishWithId(js, message.subject, message.data, message.msgId, options);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, messages.length) }, lane));
}
