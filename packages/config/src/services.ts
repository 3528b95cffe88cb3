import type { ServiceName } from '@cortexops/contracts';
import { booleanVar, type Env, enumVar, hostPortVar, intVar, listVar, loadConfig, optionalSecretVar, optionalStringVar, portVar, stringVar, urlVar, type ConfigOf } from './env.js';
import { LOCAL_HOST, SERVICE_PORT_DEFAULTS, stackPort } from './stack.js';
import { ed25519PublicKeysVar, replacedVar, slackUserListVar } from './approvals-identity.js';
import { advisorSpec } from './advisor.js';
import { knowledgeSpec } from './knowledge.js';
import { temporalTlsSpec } from './temporal.js';
import { natsCredentialsSpec } from './nats.js';
import { prometheusSpec } from './prometheus.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Variables every service reads. */
export const commonSpec = {
  logLevel: enumVar('CORTEXOPS_LOG_LEVEL', LOG_LEVELS, 'info', 'log level'),
  httpHost: stringVar('CORTEXOPS_HTTP_HOST', LOCAL_HOST, 'interface the service HTTP server binds'),
  shutdownTimeoutMs: intVar('CORTEXOPS_SHUTDOWN_TIMEOUT_MS', 15000, 100, 600000, 'how long draining may take on SIGTERM'),
  cluster: stringVar('CORTEXOPS_CLUSTER', 'local', 'name of the cluster this installation watches'),
} as const;

export const natsSpec = {
  natsUrl: urlVar('CORTEXOPS_NATS_URL', (env) => `nats://${LOCAL_HOST}:${stackPort(env, 'CORTEXOPS_NATS_PORT')}`, ['nats', 'tls'], 'NATS server URL'),
  ...natsCredentialsSpec,
} as const;

export const postgresSpec = {
  databaseUrl: urlVar(
    'CORTEXOPS_DATABASE_URL',
    (env) => `postgres://postgres@${LOCAL_HOST}:${stackPort(env, 'CORTEXOPS_POSTGRES_PORT')}/cortexops`,
    ['postgres', 'postgresql'],
    'PostgreSQL connection URL',
  ),
} as const;

export const temporalSpec = {
  temporalAddress: hostPortVar('CORTEXOPS_TEMPORAL_ADDRESS', (env) => `${LOCAL_HOST}:${stackPort(env, 'CORTEXOPS_TEMPORAL_PORT')}`, 'Temporal frontend host:port'),
  temporalNamespace: stringVar('CORTEXOPS_TEMPORAL_NAMESPACE', 'default', 'Temporal namespace'),
  ...temporalTlsSpec,
} as const;

/**
 * The approvals service's Slack app, approver allow-list and HTTP approval API. Every part is off until
 * configured: Slack needs the bot token, signing secret and channel together; the HTTP API needs its token.
 */
export const approvalsSpec = {
  slackBotToken: optionalSecretVar('CORTEXOPS_SLACK_BOT_TOKEN', 8, 'Slack bot token (xoxb-...) that posts and edits approval requests'),
  slackSigningSecret: optionalSecretVar('CORTEXOPS_SLACK_SIGNING_SECRET', 8, 'Slack signing secret that verifies interactive requests'),
  slackChannel: optionalStringVar('CORTEXOPS_SLACK_CHANNEL', 'Slack channel id that approval requests are posted to'),
  slackApiUrl: urlVar('CORTEXOPS_SLACK_API_URL', 'https://slack.com/api/', ['https', 'http'], 'Slack Web API base URL'),
  slackRetries: intVar('CORTEXOPS_SLACK_RETRIES', 4, 0, 10, 'retries of a failed Slack Web API call'),
  slackRetryMinMs: intVar('CORTEXOPS_SLACK_RETRY_MIN_MS', 500, 1, 60000, 'first retry delay of a Slack Web API call (doubles each retry)'),
  slackApprovers: slackUserListVar('CORTEXOPS_SLACK_APPROVERS', 'Slack user ids who may decide from Slack, comma-separated (HTTP and CLI approvers hold personal tokens)'),
  approversReplaced: replacedVar('CORTEXOPS_APPROVERS', 'Slack user ids go in CORTEXOPS_SLACK_APPROVERS; HTTP and CLI approvers get personal tokens (cortexops-approve tokens create)'),
  approverGroup: optionalStringVar('CORTEXOPS_APPROVER_GROUP', 'Slack user group id whose members may decide'),
  approvalsApiToken: optionalSecretVar('CORTEXOPS_APPROVALS_API_TOKEN', 32, "the worker's bearer token: posts approval requests and notes, never decides"),
  approvalsSigningKeyFile: optionalStringVar('CORTEXOPS_APPROVALS_SIGNING_KEY_FILE', 'PEM (PKCS#8) Ed25519 private key the approvals service signs decisions and cancels with; without it no decision can be delivered'),
  refusalsPerMinute: intVar('CORTEXOPS_APPROVALS_REFUSALS_PER_MINUTE', 60, 1, 100_000, 'refused approval attempts of one kind stored one by one per minute (more are counted in a summary row)'),
} as const;

/**
 * JetStream layout and consumer tuning (packages/messaging). Defaults are written down in packages/messaging/README.md:
 * TELEMETRY keeps at most 256 MiB / 1M messages / 24 h and discards the oldest first; a consumer pulls batches
 * of 256 with 30 s ack wait and at most 64 messages in flight per process.
 */
export const jetstreamSpec = {
  jsStorage: enumVar('CORTEXOPS_JS_STORAGE', ['file', 'memory'] as const, 'file', 'JetStream storage of the CortexOps streams'),
  telemetryMaxBytes: intVar('CORTEXOPS_TELEMETRY_MAX_BYTES', 256 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER, 'TELEMETRY stream byte limit (oldest discarded beyond it)'),
  telemetryMaxMessages: intVar('CORTEXOPS_TELEMETRY_MAX_MESSAGES', 1_000_000, 1, Number.MAX_SAFE_INTEGER, 'TELEMETRY stream message limit (oldest discarded beyond it)'),
  telemetryMaxAgeMs: intVar('CORTEXOPS_TELEMETRY_MAX_AGE_MS', 24 * 3600 * 1000, 1000, Number.MAX_SAFE_INTEGER, 'TELEMETRY stream age limit'),
  signalsMaxBytes: intVar('CORTEXOPS_SIGNALS_MAX_BYTES', 512 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER, 'SIGNALS stream byte limit'),
  signalsMaxAgeMs: intVar('CORTEXOPS_SIGNALS_MAX_AGE_MS', 7 * 24 * 3600 * 1000, 1000, Number.MAX_SAFE_INTEGER, 'SIGNALS stream age limit'),
  deadLetterMaxAgeMs: intVar('CORTEXOPS_DEADLETTER_MAX_AGE_MS', 14 * 24 * 3600 * 1000, 1000, Number.MAX_SAFE_INTEGER, 'dead-letter stream age limit'),
  deadLetterMaxBytes: intVar('CORTEXOPS_DEADLETTER_MAX_BYTES', 256 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER, 'dead-letter stream byte limit (the oldest letters discarded beyond it: a flood of bad input cannot fill the disk)'),
  duplicateWindowMs: intVar('CORTEXOPS_JS_DUPLICATE_WINDOW_MS', 120_000, 100, 24 * 3600 * 1000, 'Nats-Msg-Id de-duplication window of every stream'),
  ackWaitMs: intVar('CORTEXOPS_JS_ACK_WAIT_MS', 30_000, 100, 3600 * 1000, 'how long a delivered message may stay unacknowledged before redelivery'),
  batchSize: intVar('CORTEXOPS_JS_BATCH_SIZE', 256, 1, 10_000, 'messages a pull consumer asks for at once'),
  consumerConcurrency: intVar('CORTEXOPS_JS_CONCURRENCY', 64, 1, 10_000, 'messages a consumer processes at the same time'),
  maxDeliver: intVar('CORTEXOPS_JS_MAX_DELIVER', 10, 1, 1000, 'deliveries of one message before it is dead-lettered'),
  nakDelayMs: intVar('CORTEXOPS_JS_NAK_DELAY_MS', 1000, 0, 3600 * 1000, 'redelivery delay after a transient failure'),
} as const;

/** Source adapters of the ingestion service. The Kubernetes watcher is off unless a kubeconfig is configured. */
export const ingestionSpec = {
  kubeconfig: optionalStringVar('CORTEXOPS_KUBECONFIG', 'kubeconfig of the cluster whose Warning events are watched and whose pods\' owners alerts are grouped by (both off when unset)'),
  ownerLookupTimeoutMs: intVar('CORTEXOPS_INGESTION_OWNER_LOOKUP_TIMEOUT_MS', 2000, 50, 9000, "how long a webhook call waits for the cluster to name the owners of a pod an alert names (then the call publishes nothing and is answered 503: Alertmanager retries, the read goes on); below Alertmanager's 10 s timeout"),
  watchEvents: booleanVar('CORTEXOPS_INGESTION_WATCH_EVENTS', true, 'with a kubeconfig: watch Warning events (false: only read pod owners for alerts, e.g. the webhook replicas)'),
  fingerprintWindowMs: intVar('CORTEXOPS_INGESTION_FINGERPRINT_WINDOW_MS', 60_000, 0, 24 * 3600 * 1000, 'signals with an equal fingerprint and status inside this window are published once'),
  consume: booleanVar('CORTEXOPS_INGESTION_CONSUME', true, 'consume TELEMETRY into SIGNALS (false: a webhook-only replica that scales with Alertmanager, another replica consumes)'),
  webhookMaxBytes: intVar('CORTEXOPS_INGESTION_WEBHOOK_MAX_BYTES', 16 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024, 'largest Alertmanager webhook body accepted (a 10,000-alert group is 2.3 MB bare, about 8 MB with kube-prometheus annotations); a larger one is answered 503 and counted'),
  webhookTokenFile: optionalStringVar('CORTEXOPS_INGESTION_WEBHOOK_TOKEN_FILE', "file holding the bearer token Alertmanager sends (its webhook http_config.authorization.credentials_file; re-read when it changes); calls without it get 401. Unset: the webhook takes unauthenticated calls (warned at start)"),
  webhookBytesInFlight: intVar('CORTEXOPS_INGESTION_WEBHOOK_BYTES_IN_FLIGHT', 32 * 1024 * 1024, 64 * 1024, 256 * 1024 * 1024, 'webhook bodies handled at once, in bytes (bounds memory); beyond it a call is answered 503 and Alertmanager retries'),
} as const;

/** Correlation rules of the correlator service (windows, thresholds, flapping, cooldown). */
export const correlatorSpec = {
  correlationWindowMs: intVar('CORTEXOPS_CORRELATOR_WINDOW_MS', 300_000, 1, 24 * 3600 * 1000, 'signals of one group inside this window count towards its threshold'),
  correlationMinSignals: intVar('CORTEXOPS_CORRELATOR_MIN_SIGNALS', 3, 1, 10_000, 'distinct signals of a group that open an incident (one critical signal always does)'),
  flapWindowMs: intVar('CORTEXOPS_CORRELATOR_FLAP_WINDOW_MS', 600_000, 0, 24 * 3600 * 1000, 'a problem firing again this soon after its incident resolved re-opens that incident (flapping) instead of a new one'),
  remediationCooldownMs: intVar('CORTEXOPS_CORRELATOR_COOLDOWN_MS', 900_000, 0, 7 * 24 * 3600 * 1000, 'after a remediation, new problems of the same target are attached, not remediated, for this long'),
  recurrenceWindowMs: intVar('CORTEXOPS_CORRELATOR_RECURRENCE_WINDOW_MS', 24 * 3600 * 1000, 0, 30 * 24 * 3600 * 1000, 'a remediated fingerprint firing again within this long escalates to a human instead of another attempt'),
  reopenAfterMs: intVar('CORTEXOPS_CORRELATOR_REOPEN_AFTER_MS', 600_000, 0, 7 * 24 * 3600 * 1000, "after an incident's workflow ended with the problem still open (approval expired or rejected, denied, failed), its signals are held this long, then a new incident opens"),
  eventQuietMs: intVar('CORTEXOPS_CORRELATOR_EVENT_QUIET_MS', 900_000, 1000, 7 * 24 * 3600 * 1000, 'Kubernetes events never resolve: an incident whose remaining problems are events resolves once no event of its group has fired for this long'),
  stateTtlMs: intVar('CORTEXOPS_CORRELATOR_STATE_TTL_MS', 48 * 3600 * 1000, 1000, 90 * 24 * 3600 * 1000, "how long a group's state is kept in KV after its last write (at least as long as the longest correlation window; an open incident nobody sends a signal about for this long is forgotten)"),
  workflowConcurrency: intVar('CORTEXOPS_CORRELATOR_WORKFLOW_CONCURRENCY', 16, 1, 1000, 'workflow starts and signals in flight at once; signals that need no workflow call are decided meanwhile'),
} as const;

/** The worker's OPA gate: the compiled policy and its data (reloaded on SIGHUP without a restart). */
export const policySpec = {
  policyWasmPath: optionalStringVar('CORTEXOPS_POLICY_WASM', 'compiled policy (default: packages/policy/build/policy.wasm)'),
  policyDataPath: optionalStringVar('CORTEXOPS_POLICY_DATA', 'policy data JSON (default: packages/policy/policy/data.json); re-read on SIGHUP'),
} as const;

/**
 * The remediation worker: the cluster it changes (its own least-privilege kubeconfig), the Prometheus it verifies
 * against, the approvals service it asks, and the bounds of what a workflow may do. Timings of verification are the
 * planner's defaults for every plan.
 */
export const remediationSpec = {
  workerKubeconfig: optionalStringVar('CORTEXOPS_WORKER_KUBECONFIG', "kubeconfig the worker changes the cluster with (its own ServiceAccount; default: Kubernetes' default chain — in-cluster, KUBECONFIG, ~/.kube/config)"),
  // URL, tenant, credentials and TLS of the Prometheus-compatible backend (prometheus.ts).
  ...prometheusSpec,
  approvalsUrl: urlVar('CORTEXOPS_APPROVALS_URL', (env) => `http://${LOCAL_HOST}:${env.CORTEXOPS_APPROVALS_PORT ?? SERVICE_PORT_DEFAULTS.approvals}`, ['http', 'https'], 'approvals service the worker posts approval requests and notes to'),
  approvalsApiToken: approvalsSpec.approvalsApiToken,
  approvalVerifyKeys: ed25519PublicKeysVar('CORTEXOPS_APPROVALS_VERIFY_KEYS', "the approvals service's Ed25519 public keys, comma-separated: the workflow takes only decisions signed with one (none: every decision is refused)"),
  approvalTimeoutMs: intVar('CORTEXOPS_APPROVAL_TIMEOUT_MS', 15 * 60_000, 5_000, 24 * 3600_000, 'how long a human has to decide before the request expires'),
  environments: listVar('CORTEXOPS_ENVIRONMENTS', 'environment of each namespace for the policy, as namespace=environment, comma-separated (others: CORTEXOPS_DEFAULT_ENVIRONMENT)'),
  defaultEnvironment: stringVar('CORTEXOPS_DEFAULT_ENVIRONMENT', 'production', "environment of namespaces CORTEXOPS_ENVIRONMENTS does not name (the strictest rules apply)"),
  maxMemory: stringVar('CORTEXOPS_MAX_MEMORY', '4Gi', 'highest memory limit the worker may set'),
  maxReplicas: intVar('CORTEXOPS_MAX_REPLICAS', 20, 1, 1000, 'highest replica count the worker may set'),
  verifyRolloutTimeoutMs: intVar('CORTEXOPS_VERIFY_ROLLOUT_TIMEOUT_MS', 300_000, 1000, 3_600_000, "after an apply (or a revert), how long the target's rollout may take to complete; longer counts as a failed verification"),
  verifyStabilisationMs: intVar('CORTEXOPS_VERIFY_STABILISATION_MS', 60_000, 0, 3_600_000, 'after an apply, how long the change settles before the first measurement'),
  verifyIntervalMs: intVar('CORTEXOPS_VERIFY_INTERVAL_MS', 15_000, 100, 600_000, 'time between verification measurements'),
  verifyCount: intVar('CORTEXOPS_VERIFY_COUNT', 4, 1, 100, 'verification measurements per plan'),
  verifyMinSamples: intVar('CORTEXOPS_VERIFY_MIN_SAMPLES', 3, 1, 100, 'successful measurements needed to resolve (at most CORTEXOPS_VERIFY_COUNT)'),
  maxConcurrentActivities: intVar('CORTEXOPS_WORKER_MAX_CONCURRENT_ACTIVITIES', 50, 1, 1000, 'activities one worker runs at once'),
  maxConcurrentWorkflowTasks: intVar('CORTEXOPS_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 20, 1, 1000, 'workflow tasks one worker runs at once'),
  maxCachedWorkflows: intVar('CORTEXOPS_WORKER_MAX_CACHED_WORKFLOWS', 500, 0, 100_000, 'workflows kept in memory between tasks (sticky cache)'),
} as const;

export function servicePortVar(service: ServiceName) {
  return portVar(`CORTEXOPS_${service.toUpperCase()}_PORT`, SERVICE_PORT_DEFAULTS[service], `HTTP port of the ${service} service`);
}

/** What each service needs, composed from the pieces above. */
export const serviceSpecs = {
  ingestion: { ...commonSpec, ...natsSpec, ...jetstreamSpec, ...ingestionSpec, port: servicePortVar('ingestion') },
  correlator: { ...commonSpec, ...natsSpec, ...jetstreamSpec, ...temporalSpec, ...correlatorSpec, port: servicePortVar('correlator') },
  worker: { ...commonSpec, ...natsSpec, ...temporalSpec, ...postgresSpec, ...policySpec, ...remediationSpec, ...advisorSpec, ...knowledgeSpec, port: servicePortVar('worker') },
  approvals: { ...commonSpec, ...temporalSpec, ...postgresSpec, ...approvalsSpec, port: servicePortVar('approvals') },
  api: { ...commonSpec, ...natsSpec, ...temporalSpec, ...postgresSpec, port: servicePortVar('api') },
} as const;

export type ServiceConfig<S extends ServiceName> = ConfigOf<(typeof serviceSpecs)[S]>;

export function loadServiceConfig<S extends ServiceName>(service: S, env: Env = process.env): ServiceConfig<S> {
  return loadConfig(serviceSpecs[service], env);
}
