import { jetstreamSpec, loadConfig, type ConfigOf } from '@cortexops/config';
import { MAX_TELEMETRY_BYTES, STREAMS, SUBJECTS } from '@cortexops/contracts';
import { DiscardPolicy, nanos, NatsError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from 'nats';
import { InvalidMessagingOptionError, JetStreamLayoutError, MissingJetStreamResourceError } from './errors.js';

/** Stream limits and consumer tuning; the same keys as `jetstreamSpec` in packages/config. */
export type JetStreamSettings = ConfigOf<typeof jetstreamSpec>;

/** The defaults of every tuning variable, read from the config spec (one place for the numbers). */
export const DEFAULT_JETSTREAM_SETTINGS: JetStreamSettings = loadConfig(jetstreamSpec, {});

export interface JetStreamLayoutOptions {
  /** Stream names; default `STREAMS` from contracts. Tests pass unique names. */
  readonly streams?: Partial<Record<keyof typeof STREAMS, string>>;
  /** Subject prefixes (`<prefix>.>` is the stream's subject); default `SUBJECTS.*Prefix` from contracts. */
  readonly subjectPrefixes?: Partial<Record<keyof typeof STREAMS, string>>;
  readonly settings?: Partial<JetStreamSettings>;
}

/** Resolved names of the three streams and how to build their subjects. */
export interface JetStreamLayout {
  readonly streams: Readonly<Record<keyof typeof STREAMS, string>>;
  readonly subjectPrefixes: Readonly<Record<keyof typeof STREAMS, string>>;
  readonly settings: JetStreamSettings;
  telemetrySubject(source: string): string;
  signalSubject(cluster: string, namespace: string | undefined): string;
  deadLetterSubject(stage: string): string;
  /** Stream configurations, as `ensureJetStreamLayout` creates them. */
  streamConfigs(): Record<keyof typeof STREAMS, Partial<StreamConfig> & { name: string; subjects: string[] }>;
}

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** Subject tokens we build from data (source, cluster, namespace) must not widen or break the subject. */
const SAFE_TOKEN = /[^A-Za-z0-9_-]/g;

export function subjectToken(value: string): string {
  const cleaned = value.replace(SAFE_TOKEN, '_');
  return cleaned === '' ? '_' : cleaned.slice(0, 128);
}

/** The largest message TELEMETRY accepts at all; anything between this and `MAX_TELEMETRY_BYTES` is dead-lettered. */
export const TELEMETRY_STREAM_MAX_MSG_BYTES = 2 * MAX_TELEMETRY_BYTES;

/** Merges options over the defaults and validates them once, naming the bad option. */
export function resolveJetStreamLayout(options: JetStreamLayoutOptions = {}): JetStreamLayout {
  const streams = { ...STREAMS, ...options.streams };
  const subjectPrefixes = {
    telemetry: SUBJECTS.telemetryPrefix,
    signals: SUBJECTS.signalsPrefix,
    deadLetter: SUBJECTS.deadLetterPrefix,
    ...options.subjectPrefixes,
  };
  for (const [key, name] of Object.entries(streams)) {
    if (!STREAM_NAME.test(name)) throw new InvalidMessagingOptionError(`streams.${key}`, `must be 1-64 of A-Z, a-z, 0-9, "_", "-" (got ${JSON.stringify(name)})`);
  }
  for (const [key, prefix] of Object.entries(subjectPrefixes)) {
    if (!SUBJECT_PREFIX.test(prefix)) throw new InvalidMessagingOptionError(`subjectPrefixes.${key}`, `must be dot-separated tokens without wildcards (got ${JSON.stringify(prefix)})`);
  }
  const prefixes = Object.values(subjectPrefixes);
  if (new Set(prefixes).size !== prefixes.length) throw new InvalidMessagingOptionError('subjectPrefixes', 'the three streams need distinct subject prefixes');
  const settings = { ...DEFAULT_JETSTREAM_SETTINGS, ...options.settings };
  for (const [key, value] of Object.entries(settings)) {
    if (typeof value === 'number' && (!Number.isFinite(value) || value < 0)) throw new InvalidMessagingOptionError(`settings.${key}`, `must be a non-negative number (got ${value})`);
  }
  const storage = settings.jsStorage === 'memory' ? StorageType.Memory : StorageType.File;
  const duplicateWindow = nanos(settings.duplicateWindowMs);
  return {
    streams,
    subjectPrefixes,
    settings,
    telemetrySubject: (source) => `${subjectPrefixes.telemetry}.${subjectToken(source)}`,
    signalSubject: (cluster, namespace) => `${subjectPrefixes.signals}.${subjectToken(cluster)}.${subjectToken(namespace ?? '_cluster')}`,
    deadLetterSubject: (stage) => `${subjectPrefixes.deadLetter}.${subjectToken(stage)}`,
    streamConfigs: () => ({
      telemetry: {
        name: streams.telemetry,
        description: 'Raw telemetry by source; limits with discard-old so fresh input wins under pressure',
        subjects: [`${subjectPrefixes.telemetry}.>`],
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        storage,
        max_bytes: settings.telemetryMaxBytes,
        max_msgs: settings.telemetryMaxMessages,
        max_age: nanos(settings.telemetryMaxAgeMs),
        max_msg_size: TELEMETRY_STREAM_MAX_MSG_BYTES,
        duplicate_window: duplicateWindow,
      },
      signals: {
        name: streams.signals,
        description: 'Normalised signals: signals.<cluster>.<namespace>',
        subjects: [`${subjectPrefixes.signals}.>`],
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        storage,
        max_bytes: settings.signalsMaxBytes,
        max_age: nanos(settings.signalsMaxAgeMs),
        duplicate_window: duplicateWindow,
      },
      deadLetter: {
        name: streams.deadLetter,
        description: 'Rejected input with its original bytes (base64) and the reason',
        subjects: [`${subjectPrefixes.deadLetter}.>`],
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        storage,
        max_age: nanos(settings.deadLetterMaxAgeMs),
        max_bytes: settings.deadLetterMaxBytes,
        duplicate_window: duplicateWindow,
      },
    }),
  };
}

/** JetStream API error codes we branch on (nats-server's `err_code`). */
export const JETSTREAM_ERR_CODES = {
  streamNotFound: 10059,
  consumerNotFound: 10014,
  /** A publish expecting another last sequence (a KV update that lost a compare-and-set race). */
  wrongLastSequence: 10071,
} as const;

export function isStreamNotFound(error: unknown): boolean {
  return error instanceof NatsError && error.api_error?.err_code === JETSTREAM_ERR_CODES.streamNotFound;
}

/** Creates the stream, or updates it in place when it exists (storage cannot change and is kept). */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  try {
    let existing: StreamInfo | undefined;
    try {
      existing = await jsm.streams.info(config.name);
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
    if (existing === undefined) {
      try {
        return await jsm.streams.add(config);
      } catch (error) {
        // Another replica created it between our info and add: fall through to update.
        existing = await jsm.streams.info(config.name).catch(() => {
          throw error;
        });
      }
    }
    const { storage: _storage, ...updatable } = config;
    return await jsm.streams.update(config.name, { ...existing.config, ...updatable });
  } catch (error) {
    throw new JetStreamLayoutError(`stream ${config.name}`, { cause: error });
  }
}

/**
 * Idempotent create-or-update of TELEMETRY, SIGNALS and the dead-letter stream: the admin step's job
 * (`cortexops-admin nats apply`, the local stack's set-up), never a service's. Returns the resolved layout.
 */
export async function ensureJetStreamLayout(jsm: JetStreamManager, options: JetStreamLayoutOptions = {}): Promise<JetStreamLayout> {
  const layout = resolveJetStreamLayout(options);
  const configs = layout.streamConfigs();
  await ensureStream(jsm, configs.telemetry);
  await ensureStream(jsm, configs.signals);
  await ensureStream(jsm, configs.deadLetter);
  return layout;
}

/**
 * What a service does instead of creating streams: resolves the layout and checks that each of `streams` exists
 * (its NATS user may read a stream's info, never create, update or delete one). A missing stream is a
 * {@link MissingJetStreamResourceError} naming it.
 */
export async function bindJetStreamLayout(jsm: JetStreamManager, options: JetStreamLayoutOptions, streams: readonly (keyof typeof STREAMS)[]): Promise<JetStreamLayout> {
  const layout = resolveJetStreamLayout(options);
  for (const key of streams) {
    const name = layout.streams[key];
    try {
      await jsm.streams.info(name);
    } catch (error) {
      if (isStreamNotFound(error)) throw new MissingJetStreamResourceError(`stream ${name}`, { cause: error });
      throw new JetStreamLayoutError(`stream ${name}`, { cause: error });
    }
  }
  return layout;
}
