import { CoreV1Api, KubeConfig, Watch, type CoreV1Event } from '@kubernetes/client-node';
import type { ObjectRef, TelemetryEnvelope } from '@cortexops/contracts';
import { publishWithId, type JetStreamLayout } from '@cortexops/messaging';
import type { JetStreamClient, KV } from 'nats';
import type { ServiceContext } from '@cortexops/observability';
import { sha256Hex } from './normalise.js';
import type { OwnerResolver } from './owners.js';

/** Where the watcher resumes: the last resourceVersion it published and the newest event time it saw. */
export interface WatchCheckpoint {
  readonly resourceVersion: string;
  readonly lastEventTime?: string;
}

export interface KubernetesWatcherOptions {
  readonly kubeconfigPath: string;
  readonly js: JetStreamClient;
  readonly kv: KV;
  readonly layout: JetStreamLayout;
  readonly cluster: string;
  readonly logger: ServiceContext['logger'];
  /** Called after each event is stored on TELEMETRY (tests, metrics). */
  readonly onPublished?: (event: CoreV1Event) => void;
  readonly retryDelayMs?: number;
  /** Owner chains of the pods events name (shared with the Alertmanager webhook: one cache per process). */
  readonly owners: OwnerResolver;
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

const WARNING_SELECTOR = 'type=Warning';

class GoneError extends Error {
  constructor() {
    super('resourceVersion too old (410 Gone)');
    this.name = 'GoneError';
  }
}

function eventTime(event: CoreV1Event): string | undefined {
  const t = event.series?.lastObservedTime ?? event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp;
  return t ? new Date(t).toISOString() : undefined;
}

function isGone(error: unknown): boolean {
  const e = error as { code?: number; statusCode?: number; body?: unknown } | undefined;
  return e?.code === 410 || e?.statusCode === 410 || (typeof e?.body === 'string' && e.body.includes('"code":410'));
}

/**
 * Watches core/v1 Warning events (BackOff, OOMKilling, FailedScheduling, Unhealthy, NodeNotReady ...) and
 * publishes each to `telemetry.kubernetes` with the owner chain of its object. The checkpoint in a NATS KV
 * bucket is written only after TELEMETRY stored the event, so a restart resumes without loss; a 410 Gone
 * relists and publishes what is newer than the checkpoint.
 */
export class KubernetesEventWatcher {
  private stopped = false;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private checkpoint: WatchCheckpoint | undefined;

  private constructor(
    private readonly options: KubernetesWatcherOptions,
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly owners: OwnerResolver,
    private readonly key: string,
  ) {}

  static create(options: KubernetesWatcherOptions): KubernetesEventWatcher {
    const kc = loadKubeConfig(options.kubeconfigPath);
    const key = `events.${options.cluster.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    return new KubernetesEventWatcher(options, kc, kc.makeApiClient(CoreV1Api), options.owners, key);
  }

  /** Verifies the API server answers (a start-up failure is loud), then watches in the background. */
  async start(): Promise<void> {
    const entry = await this.options.kv.get(this.key);
    if (entry && entry.value.length > 0) this.checkpoint = entry.json<WatchCheckpoint>();
    await this.core.getAPIResources();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    while (!this.stopped) {
      try {
        if (!this.checkpoint) await this.relist();
        await this.watchOnce();
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof GoneError || isGone(error)) {
          logger.warn({ resourceVersion: this.checkpoint?.resourceVersion }, 'watch resourceVersion expired; relisting');
          this.checkpoint = this.checkpoint?.lastEventTime ? { resourceVersion: '', lastEventTime: this.checkpoint.lastEventTime } : undefined;
          if (this.checkpoint) await this.relist().catch((e: unknown) => logger.error({ err: e }, 'relist failed'));
          continue;
        }
        logger.error({ err: error }, 'Kubernetes event watch failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 2000));
      }
    }
  }

  /** Lists current Warning events, publishes those newer than the checkpoint, and resumes from the list's version. */
  private async relist(): Promise<void> {
    const list = await this.core.listEventForAllNamespaces({ fieldSelector: WARNING_SELECTOR });
    const since = this.checkpoint?.lastEventTime;
    const items = [...list.items].sort((a, b) => (eventTime(a) ?? '').localeCompare(eventTime(b) ?? ''));
    for (const event of items) {
      const t = eventTime(event);
      if (since && t && t <= since) continue;
      await this.publish(event);
    }
    await this.save({ resourceVersion: list.metadata?.resourceVersion ?? '', lastEventTime: this.newest(items.map(eventTime)) });
  }

  private newest(times: readonly (string | undefined)[]): string | undefined {
    let newest = this.checkpoint?.lastEventTime;
    for (const t of times) if (t && (!newest || t > newest)) newest = t;
    return newest;
  }

  private async save(checkpoint: WatchCheckpoint): Promise<void> {
    this.checkpoint = checkpoint;
    await this.options.kv.put(this.key, JSON.stringify(checkpoint));
  }

  private watchOnce(): Promise<void> {
    const watch = new Watch(this.kc);
    let chain = Promise.resolve();
    let failure: unknown;
    return new Promise<void>((resolve, reject) => {
      const finish = (err: unknown) => {
        chain = chain.then(() => {
          const error = failure ?? (err && !(err instanceof Error && err.name === 'AbortError') ? err : undefined);
          if (error && !this.stopped) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
          else resolve();
        });
      };
      const onEvent = (phase: string, obj: unknown) => {
        chain = chain.then(async () => {
          if (failure) return;
          try {
            if (phase === 'ERROR') {
              const status = obj as { code?: number; message?: string };
              failure = status.code === 410 ? new GoneError() : new Error(`watch error ${status.code}: ${status.message}`);
              this.abort?.abort();
              return;
            }
            const event = obj as CoreV1Event;
            const resourceVersion = event.metadata?.resourceVersion ?? '';
            if (phase === 'ADDED' || phase === 'MODIFIED') {
              if (event.type === 'Warning') await this.publish(event);
              await this.save({ resourceVersion, lastEventTime: this.newest([eventTime(event)]) });
            } else if (phase === 'BOOKMARK') {
              await this.save({ resourceVersion, ...(this.checkpoint?.lastEventTime ? { lastEventTime: this.checkpoint.lastEventTime } : {}) });
            }
          } catch (error) {
            // Not stored: stop this watch; the next one resumes from the last saved checkpoint.
            failure = error;
            this.abort?.abort();
          }
        });
      };
      const query: Record<string, string | boolean> = { fieldSelector: WARNING_SELECTOR, allowWatchBookmarks: true };
      if (this.checkpoint?.resourceVersion) query.resourceVersion = this.checkpoint.resourceVersion;
      watch.watch('/api/v1/events', query, onEvent, finish).then(
        (controller) => {
          this.abort = controller;
          if (this.stopped) controller.abort();
        },
        (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  private async ownerChain(event: CoreV1Event): Promise<ObjectRef[]> {
    const { kind, name, namespace } = event.involvedObject;
    return kind === 'Pod' && name && namespace ? this.owners.ofPod(namespace, name) : [];
  }

  private async publish(event: CoreV1Event): Promise<void> {
    const uid = event.metadata.uid ?? `${event.metadata.namespace}/${event.metadata.name}`;
    const id = sha256Hex(`${uid}|${event.metadata.resourceVersion ?? ''}|${event.count ?? ''}`).slice(0, 32);
    const toIso = (d: Date | string | undefined | null) => (d ? new Date(d).toISOString() : undefined);
    const plain = {
      metadata: { uid, name: event.metadata.name ?? '', namespace: event.metadata.namespace, resourceVersion: event.metadata.resourceVersion },
      type: event.type,
      reason: event.reason ?? 'Unknown',
      message: event.message,
      involvedObject: { kind: event.involvedObject.kind ?? 'Unknown', name: event.involvedObject.name ?? 'unknown', namespace: event.involvedObject.namespace },
      count: event.count,
      firstTimestamp: toIso(event.firstTimestamp),
      lastTimestamp: toIso(event.lastTimestamp),
      eventTime: toIso(event.eventTime),
      source: event.source,
      reportingInstance: event.reportingInstance,
    };
    const envelope: TelemetryEnvelope = {
      id,
      source: 'kubernetes',
      cluster: this.options.cluster,
      ...(eventTime(event) ? { occurredAt: eventTime(event) } : {}),
      payload: { event: plain, ownerChain: await this.ownerChain(event) },
    };
    await publishWithId(this.options.js, this.options.layout.telemetrySubject('kubernetes'), Buffer.from(JSON.stringify(envelope)), `k8s-${id}`, {
      expectStream: this.options.layout.streams.telemetry,
    });
    this.options.onPublished?.(event);
  }
}
