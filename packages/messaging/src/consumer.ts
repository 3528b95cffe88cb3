import { AckPolicy, DeliverPolicy, nanos, NatsError, type ConsumerConfig, type ConsumerInfo, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';
import type { DeadLetterPublisher } from './dead-letter.js';
import { InvalidMessagingOptionError, JetStreamLayoutError, PermanentMessageError } from './errors.js';
import { JETSTREAM_ERR_CODES } from './layout.js';

export interface DurableConsumerOptions {
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject?: string;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  /** Upper bound of unacknowledged messages across all replicas; default 4 × batch is set by callers. */
  readonly maxAckPending: number;
  readonly description?: string;
}

/** Creates or updates a durable pull consumer with explicit acks (idempotent; every replica may call it). */
export async function ensureDurableConsumer(jsm: JetStreamManager, options: DurableConsumerOptions): Promise<ConsumerInfo> {
  const config: Partial<ConsumerConfig> = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs),
    // One more than our own limit: the handler dead-letters on the last delivery itself.
    max_deliver: options.maxDeliver + 1,
    max_ack_pending: options.maxAckPending,
    ...(options.filterSubject ? { filter_subject: options.filterSubject } : {}),
    ...(options.description ? { description: options.description } : {}),
  };
  try {
    try {
      await jsm.consumers.info(options.stream, options.durable);
      const { durable_name: _d, deliver_policy: _p, ...updatable } = config;
      return await jsm.consumers.update(options.stream, options.durable, updatable);
    } catch (error) {
      if (!(error instanceof NatsError && error.api_error?.err_code === JETSTREAM_ERR_CODES.consumerNotFound)) throw error;
      return await jsm.consumers.add(options.stream, config);
    }
  } catch (error) {
    throw new JetStreamLayoutError(`consumer ${options.stream}/${options.durable}`, { cause: error });
  }
}

export type MessageHandler = (msg: JsMsg) => Promise<void>;

export interface PullConsumerHooks {
  /** After the handler's effect is stored and the message acknowledged. */
  acked?(msg: JsMsg): void;
  /** A transient failure; the message will be redelivered after `nakDelayMs`. */
  retried?(msg: JsMsg, error: unknown): void;
  /** A permanent failure (or retries exhausted): written to the dead letter and terminated. */
  deadLettered?(msg: JsMsg, reason: string, field: string | undefined): void;
  /** The consume loop itself failed (the consumer was deleted, the connection closed ...). */
  failed?(error: unknown): void;
}

export interface PullConsumerOptions {
  readonly stream: string;
  readonly durable: string;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly nakDelayMs: number;
  /** Deliveries after which a transiently failing message is dead-lettered. */
  readonly maxDeliver: number;
  readonly deadLetter: DeadLetterPublisher;
  readonly handler: MessageHandler;
  readonly hooks?: PullConsumerHooks;
}

export interface RunningConsumer {
  /** Stops pulling, lets in-flight handlers finish (and ack), then resolves. */
  stop(): Promise<void>;
  /** Resolves when the consume loop ends (after `stop` or a failure). */
  readonly done: Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Consumes a durable pull consumer with at most `concurrency` handlers at a time (bounded memory: the server
 * stops delivering at the consumer's `max_ack_pending`). The handler's promise
 * resolving means its effect is stored: only then is the message acked. `PermanentMessageError` (or the
 * last allowed delivery failing) dead-letters the original bytes with the reason and terminates the message;
 * any other error naks it with a delay. A crash before the ack means redelivery after the ack wait.
 */
export async function runPullConsumer(js: JetStreamClient, options: PullConsumerOptions): Promise<RunningConsumer> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new InvalidMessagingOptionError('concurrency', 'must be a whole number ≥ 1');
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new InvalidMessagingOptionError('batchSize', 'must be a whole number ≥ 1');
  const consumer = await js.consumers.get(options.stream, options.durable);
  const hooks = options.hooks ?? {};
  const inFlight = new Set<Promise<void>>();
  // Delivered but not started yet; bounded by the consumer's max_ack_pending (the server sends no more).
  const waiting: JsMsg[] = [];
  let stopped = false;

  const deadLetter = async (msg: JsMsg, reason: string, field: string | undefined): Promise<void> => {
    try {
      await options.deadLetter.publishMessage(msg, reason, field);
    } catch (error) {
      // The dead letter itself is unavailable: keep the message and try again later.
      hooks.retried?.(msg, error);
      msg.nak(options.nakDelayMs);
      return;
    }
    msg.term(reason.slice(0, 256));
    hooks.deadLettered?.(msg, reason, field);
  };

  const handle = async (msg: JsMsg): Promise<void> => {
    try {
      await options.handler(msg);
    } catch (error) {
      if (error instanceof PermanentMessageError) {
        await deadLetter(msg, error.reason, error.field);
      } else if (msg.info.deliveryCount >= options.maxDeliver) {
        await deadLetter(msg, `gave up after ${msg.info.deliveryCount} deliveries: ${describe(error)}`, undefined);
      } else {
        msg.nak(options.nakDelayMs);
        hooks.retried?.(msg, error);
      }
      return;
    }
    msg.ack();
    hooks.acked?.(msg);
  };

  const pump = (): void => {
    while (!stopped && inFlight.size < options.concurrency && waiting.length > 0) {
      const msg = waiting.shift() as JsMsg;
      const task: Promise<void> = handle(msg).finally(() => {
        inFlight.delete(task);
        pump();
      });
      inFlight.add(task);
    }
  };

  // Callback mode: every message of a socket read is dispatched in one synchronous pass, so the handlers'
  // publishes (and later the acks) leave in one write instead of one write each.
  const messages: ConsumerMessages = await consumer.consume({
    max_messages: options.batchSize,
    callback: (msg) => {
      waiting.push(msg);
      pump();
    },
  });

  const done = (async () => {
    try {
      const closed = await messages.closed();
      if (closed instanceof Error) hooks.failed?.(closed);
    } catch (error) {
      hooks.failed?.(error);
    } finally {
      stopped = true;
      // Not started: hand back at once so another consumer (or our successor) gets them without the ack wait.
      for (const msg of waiting.splice(0)) msg.nak();
      await Promise.allSettled([...inFlight]);
    }
  })();

  let stopping: Promise<void> | undefined;
  return {
    done,
    stop: () => {
      stopping ??= (async () => {
        messages.stop();
        await done;
      })();
      return stopping;
    },
  };
}
