import type { ServiceConfig } from '@cortexops/config';
import { CONSUMERS, incidentResolvedSignal, incidentSignal, incidentWorkflowId, KV_BUCKETS, REMEDIATION_NOTICE_TOKEN, RemediationNotice, Signal, TASK_QUEUES, WORKFLOW_TYPES, type Incident, type RemediationWorkflowInput } from '@cortexops/contracts';
import {
  DeadLetterPublisher,
  ensureDurableConsumer,
  bindJetStreamLayout,
  connectNats,
  PermanentMessageError,
  runPullConsumer,
  type JetStreamLayoutOptions,
  type RunningConsumer,
} from '@cortexops/messaging';
import { natsCheck, temporalCheck, type RunningService, type ServiceContext } from '@cortexops/observability';
import { connectTemporal } from '@cortexops/temporal';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { JsMsg } from 'nats';
import pLimit from 'p-limit';
import { DEFAULT_MAX_SIGNAL_IDS, type CorrelationRules, type Decision, quietRefreshMs, stateTtlMs, targetGroupKey, type TickResult, UngroupableSignalError, workflowIncidentOf } from './engine.js';
import { GROUP_MEMO, startKeepAlive } from './keepalive.js';
import { KeyedQueue } from './keyed.js';
import { GroupStore, openGroupBuckets } from './store.js';

/** Names a test (or a second installation) overrides to run isolated on a shared NATS. */
export interface CorrelatorOverrides {
  readonly layout?: Omit<JetStreamLayoutOptions, 'settings'>;
  readonly durable?: string;
  readonly kvBucket?: string;
  readonly taskQueue?: string;
  /** Called after each signal's decision is stored and carried out (tests, benchmarks). */
  readonly onDecision?: (signal: Signal, decision: Decision, latencySeconds: number) => void;
  /** Called after a remediation notice is recorded (`applied`) or found stale (tests). */
  readonly onRemediation?: (notice: RemediationNotice, outcome: 'applied' | 'stale') => void;
  /** Called after each keep-alive pass with the groups of open incidents it wrote again (tests). */
  readonly onKeepAlive?: (kept: readonly string[]) => void;
  /** Called after the periodic tick resolved an incident and told its workflow (tests). */
  readonly onTick?: (result: TickResult, workflow: 'delivered' | 'closed') => void;
}

export interface RunningCorrelator extends RunningService {
  readonly store: GroupStore;
}

export function rulesOf(config: ServiceConfig<'correlator'>): CorrelationRules {
  return {
    windowMs: config.correlationWindowMs,
    minSignals: config.correlationMinSignals,
    flapWindowMs: config.flapWindowMs,
    cooldownMs: config.remediationCooldownMs,
    recurrenceWindowMs: config.recurrenceWindowMs,
    maxSignalIds: DEFAULT_MAX_SIGNAL_IDS,
    reopenAfterMs: config.reopenAfterMs,
    eventQuietMs: config.eventQuietMs,
    stateTtlMs: config.stateTtlMs,
  };
}

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (error) {
    throw new PermanentMessageError(`not JSON: ${error instanceof Error ? error.message : String(error)}`, '(root)');
  }
}

/** Parses and validates one SIGNALS message; bad input is a permanent failure naming the field. */
export function parseSignal(data: Uint8Array): Signal {
  const result = Signal.validate(parseJson(data));
  if (!result.ok) throw new PermanentMessageError(result.error.message, result.error.issues[0]?.field);
  return result.value;
}

/** Parses and validates a remediation notice (`signals.<cluster>._remediated`); bad input names the field. */
export function parseRemediationNotice(data: Uint8Array): RemediationNotice {
  const result = RemediationNotice.validate(parseJson(data));
  if (!result.ok) throw new PermanentMessageError(result.error.message, result.error.issues[0]?.field);
  return result.value;
}

/**
 * Starts the incident's workflow or signals the running one, in one call: signal-with-start with the workflow id
 * derived from the incident id. A running workflow only receives the signal (Temporal's signal-with-start never
 * starts a second run while one is running); `REJECT_DUPLICATE` means a closed run is never started again either,
 * so replays, redeliveries and a restarted correlator cannot start a second remediation.
 */
export async function deliverToWorkflow(client: Client, taskQueue: string, incident: Incident, signal: Signal, resolved = false): Promise<'delivered' | 'closed'> {
  const input: RemediationWorkflowInput = { incident };
  try {
    await client.workflow.signalWithStart(WORKFLOW_TYPES.remediation, {
      workflowId: incidentWorkflowId(incident.id),
      taskQueue,
      args: [input],
      // Every signal of the incident resolved: the workflow ends before an apply ("resolved by itself").
      signal: resolved ? incidentResolvedSignal : incidentSignal,
      signalArgs: [signal],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      // Set when the workflow starts: the keep-alive finds the group of a running workflow by it.
      memo: { [GROUP_MEMO]: targetGroupKey(incident.cluster, incident.target) },
    });
    return 'delivered';
  } catch (error) {
    // The incident's workflow already ran to completion: nothing new is started.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'closed';
    throw error;
  }
}

/**
 * The correlator: consumes SIGNALS through one durable pull consumer shared by every replica (each message goes
 * to one replica), keeps group state in KV with compare-and-set, and carries out each decision on Temporal only
 * after the state is stored; the message is acked last. A crash anywhere before the ack means redelivery, which
 * the engine recognises by signal id and answers by repeating the (idempotent) signal-with-start.
 */
export async function startCorrelator(config: ServiceConfig<'correlator'>, context: ServiceContext, overrides: CorrelatorOverrides = {}): Promise<RunningCorrelator> {
  const nc = await connectNats(config, 'correlator', (message) => context.logger.warn(message));
  const connection = await connectTemporal(config);
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  // Bound, never created: the admin step made the streams (the correlator's NATS user may not).
  const layout = await bindJetStreamLayout(jsm, { ...overrides.layout, settings: config }, ['signals', 'deadLetter']);
  const durable = overrides.durable ?? CONSUMERS.correlator;
  const maxAckPending = Math.max(config.batchSize, config.consumerConcurrency) * 4;
  await ensureDurableConsumer(jsm, {
    stream: layout.streams.signals,
    durable,
    ackWaitMs: config.ackWaitMs,
    maxDeliver: config.maxDeliver,
    maxAckPending,
    description: 'correlator: signals → incidents',
  });
  const rules = rulesOf(config);
  // Bounded: a group (and a fingerprint's index entry) not written for the TTL is gone; open incidents are written
  // while their signals go on, remediations are kept as long as the recurrence window looks back.
  const ttlMs = stateTtlMs(rules);
  const buckets = await openGroupBuckets(js, jsm, overrides.kvBucket ?? KV_BUCKETS.correlator, ttlMs);
  const store = await GroupStore.create(buckets.groups, {
    follow: true,
    fingerprints: { kv: buckets.fingerprints, refreshMs: Math.floor(ttlMs / 2) },
    ttlMs,
    onWatchError: (error) => context.logger.warn({ err: error }, 'KV watch stopped; the correlator reads node groups and writes every decision from now on'),
  });
  const taskQueue = overrides.taskQueue ?? TASK_QUEUES.remediation;
  // Open incidents whose workflow runs are written again before the TTL could forget them (a repeat would open a duplicate).
  const keepAlive = startKeepAlive({ client, taskQueue, store, ttlMs, onError: (error) => context.logger.warn({ err: error }, 'keeping open incidents alive failed; the next pass tries again'), ...(overrides.onKeepAlive ? { onPass: overrides.onKeepAlive } : {}) });
  const deadLetter = new DeadLetterPublisher(js, layout, 'correlator');
  // Its own metric: cortexops_workflows_total counts remediation workflows that ended (the worker sets it).
  const decisions = context.metrics.correlatorDecisions;

  // Two lanes: deciding (KV) is bounded by the consumer concurrency, workflow calls (Temporal) by their own limit.
  // A signal waiting for Temporal keeps its message unacknowledged but no longer holds up the signals behind it
  // that need no workflow call; max_ack_pending bounds how many wait (the server then stops delivering).
  const deciding = pLimit(config.consumerConcurrency);
  const calling = pLimit(config.workflowConcurrency);
  // One workflow call at a time per incident, in decision order (its signals arrive in the order decided).
  const perIncident = new KeyedQueue();
  const decide = async (msg: JsMsg, received: number): Promise<{ signal: Signal; decision: Decision; latency: number }> => {
    const signal = parseSignal(msg.data);
    const eventMs = Date.parse(signal.receivedAt);
    let result;
    try {
      result = await store.apply(signal, eventMs, rules);
    } catch (error) {
      if (error instanceof UngroupableSignalError) throw new PermanentMessageError(error.message, error.field);
      throw error;
    }
    const latency = (performance.now() - received) / 1000;
    context.metrics.correlationLatency.observe(latency);
    return { signal, decision: result.decision, latency };
  };

  /** A remediation was applied: the target cools down and its fingerprints coming back escalate. */
  const remediated = async (msg: JsMsg): Promise<void> => {
    const notice = parseRemediationNotice(msg.data);
    const outcome = await store.markRemediated({ id: notice.incidentId, cluster: notice.cluster, target: notice.target }, Date.parse(notice.remediatedAt));
    if (outcome === 'unknown') throw new PermanentMessageError(`remediation notice for incident ${notice.incidentId}: no group for its target`, 'target');
    if (outcome === 'stale') {
      // A late notice of an earlier incident: marking the current problem's fingerprints would escalate the wrong problem.
      context.logger.warn({ incident: notice.incidentId, target: notice.target, remediatedAt: notice.remediatedAt }, 'stale remediation notice: its incident is not the current incident of its target; not applied');
    } else {
      context.logger.info({ incident: notice.incidentId, target: notice.target }, 'remediation recorded: target cooling down');
    }
    overrides.onRemediation?.(notice, outcome);
  };

  /**
   * Kubernetes events never resolve by a signal: on a timer, incidents of remembered groups whose events have been
   * quiet for CORTEXOPS_CORRELATOR_EVENT_QUIET_MS resolve (engine `tick`), and their workflows are told as for any
   * resolve. One tick at a time; the state is stored before the workflow call. A call that fails is tried again on
   * the next ticks (kept in this replica's memory, at most 1024: no message is redelivered for a tick).
   */
  let ticking: Promise<void> | undefined;
  const untold = new Map<string, TickResult>();
  const runTick = async (): Promise<void> => {
    const results = [...untold.values(), ...(await store.tick(Date.now(), rules))];
    untold.clear();
    for (const result of results) {
      const incident = result.decision.incident;
      try {
        const outcome = await perIncident.run(incident.id, () => calling(() => deliverToWorkflow(client, taskQueue, incident, result.signal, true)));
        decisions.inc({ decision: 'resolve', workflow: outcome === 'closed' ? 'already_closed' : 'delivered' });
        context.logger.info({ incident: incident.id, target: incident.target, signal: result.signal.id }, 'incident resolved: its Kubernetes events have been quiet');
        overrides.onTick?.(result, outcome);
      } catch (error) {
        if (untold.size < 1024) untold.set(incident.id, result);
        context.logger.warn({ err: error, incident: incident.id }, 'incident resolved by quiet, but its workflow could not be told; the next tick tries again');
      }
    }
  };
  const tickTimer = setInterval(() => {
    ticking ??= runTick()
      .catch((error: unknown) => context.logger.warn({ err: error }, 'quiet tick failed; the next tick tries again'))
      .finally(() => (ticking = undefined));
  }, Math.min(30_000, Math.max(1000, quietRefreshMs(rules))));
  tickTimer.unref();

  const handler = async (msg: JsMsg): Promise<void> => {
    if (msg.subject.endsWith(`.${REMEDIATION_NOTICE_TOKEN}`)) return deciding(() => remediated(msg));
    // Latency from the moment a decide slot takes the signal (as the consumer's bounded handlers did before the
    // lanes); time spent queued behind a full lane shows as the consumer's pending count, not in this histogram.
    const { signal, decision, latency } = await deciding(() => decide(msg, performance.now()));
    // A repeat (deduplicated) reaches the workflow only as a liveness probe: a closed one then takes the `ended` way.
    const incident = workflowIncidentOf(decision);
    if (incident !== undefined) {
      const outcome = await perIncident.run(incident.id, () => calling(() => deliverToWorkflow(client, taskQueue, incident, signal, decision.kind === 'resolve')));
      decisions.inc({ decision: decision.kind, workflow: outcome === 'closed' ? 'already_closed' : 'delivered' });
      // Its workflow is over but the group still held the incident open: hold its signals, then open a new one.
      if (outcome === 'closed' && (await store.markEnded(incident, Date.parse(signal.receivedAt)))) {
        context.logger.info({ incident: incident.id, target: incident.target, reopenAfterMs: rules.reopenAfterMs }, "incident's workflow has ended while the problem goes on: its signals are held, then a new incident opens");
      }
      if (decision.kind === 'open' || decision.kind === 'escalate') {
        context.logger.info({ incident: incident.id, target: incident.target, status: incident.status, signals: incident.signalIds.length }, `incident ${decision.kind}`);
      }
    } else {
      decisions.inc({ decision: decision.kind, workflow: 'none' });
    }
    overrides.onDecision?.(signal, decision, latency);
  };

  const consumer: RunningConsumer = await runPullConsumer(js, {
    stream: layout.streams.signals,
    durable,
    batchSize: config.batchSize,
    // Every delivered message may be in flight; the lanes above bound the actual work.
    concurrency: maxAckPending,
    nakDelayMs: config.nakDelayMs,
    maxDeliver: config.maxDeliver,
    deadLetter,
    handler,
    hooks: {
      deadLettered: (msg, reason, field) => context.logger.warn({ subject: msg.subject.slice(0, 200), seq: msg.info.streamSequence, reason, field }, 'signal dead-lettered'),
      retried: (msg, error) => context.logger.warn({ seq: msg.info.streamSequence, err: error }, 'signal will be redelivered'),
      failed: (error) => context.logger.error({ err: error }, 'signal consumer stopped'),
    },
  });
  void consumer.done.then(() => undefined);
  context.logger.info({ nats: nc.getServer(), temporal: config.temporalAddress, namespace: client.options.namespace, stream: layout.streams.signals, durable }, 'correlator consuming SIGNALS');

  return {
    store,
    checks: [natsCheck(nc), temporalCheck(connection)],
    stop: async () => {
      clearInterval(tickTimer);
      await keepAlive.stop();
      await ticking;
      await consumer.stop();
      store.close();
      await nc.drain();
      await connection.close();
    },
  };
}
