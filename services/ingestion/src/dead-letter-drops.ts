import { deadLetterDropsSpec, loadConfig } from '@cortexops/config';
import { METRICS } from '@cortexops/contracts';
import { DEAD_LETTER_LIMITS, DeadLetterDropWatch, type JetStreamLayout } from '@cortexops/messaging';
import type { ServiceContext } from '@cortexops/observability';
import type { JetStreamManager } from 'nats';
import { Counter } from 'prom-client';

/**
 * cortexops_deadletters_dropped_total{limit}: letters the dead-letter stream discarded by its age limit (retention) or
 * its byte limit (a flood: rejected input lost), read from the stream's state; both series from zero. A stream this
 * process cannot read leaves the counter at zero and says so (ingestion itself goes on).
 */
export async function countDeadLetterDrops(jsm: JetStreamManager, layout: JetStreamLayout, context: Pick<ServiceContext, 'registry' | 'logger'>): Promise<() => Promise<void>> {
  const { deadLetterDropsIntervalMs } = loadConfig(deadLetterDropsSpec);
  const dropped = new Counter({
    name: METRICS.deadLettersDroppedTotal,
    help: 'Dead letters the dead-letter stream discarded by its limits: limit="bytes" (CORTEXOPS_DEADLETTER_MAX_BYTES: rejected input lost in a flood), limit="age" (CORTEXOPS_DEADLETTER_MAX_AGE_MS: retention). Every replica reads the same stream: take max over instances',
    labelNames: ['limit'],
    registers: [context.registry],
  });
  for (const limit of DEAD_LETTER_LIMITS) dropped.inc({ limit }, 0);
  try {
    const watch = await DeadLetterDropWatch.start({
      jsm,
      stream: layout.streams.deadLetter,
      intervalMs: deadLetterDropsIntervalMs,
      dropped: ({ limit, count }) => {
        dropped.inc({ limit }, count);
        if (limit === 'bytes') context.logger.warn({ count, stream: layout.streams.deadLetter }, 'the dead-letter stream discarded letters at its byte limit: rejected input was lost');
      },
      failed: (error) => context.logger.warn({ err: error }, 'dead-letter drops: cannot read the stream state'),
    });
    return () => watch.stop();
  } catch (error) {
    context.logger.error({ err: error, stream: layout.streams.deadLetter }, 'dead-letter drops are not counted: cannot read the stream state');
    return async () => {};
  }
}
