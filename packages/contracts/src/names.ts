/** Every name shared across services: subjects, streams, queues, workflow ids, metrics, annotations. */

export const STREAMS = {
  telemetry: 'TELEMETRY',
  signals: 'SIGNALS',
  deadLetter: 'DEADLETTER',
} as const;

export const SUBJECTS = {
  /** Raw telemetry: `telemetry.<source>`. */
  telemetryPrefix: 'telemetry',
  telemetryAll: 'telemetry.>',
  /** Normalised signals: `signals.<cluster>.<namespace>`. */
  signalsPrefix: 'signals',
  signalsAll: 'signals.>',
  /** Rejected input: `deadletter.<stage>`. */
  deadLetterPrefix: 'deadletter',
  deadLetterAll: 'deadletter.>',
} as const;

export const CONSUMERS = {
  ingestion: 'ingestion',
  correlator: 'correlator',
} as const;

export const KV_BUCKETS = {
  /** The Kubernetes event watcher's checkpoint (last resourceVersion), so a restart resumes. */
  kubernetesWatch: 'cortexops_kube_watch',
  /** The correlator's group state (compare-and-set per grouping key), shared by every correlator replica. */
  correlator: 'cortexops_correlator',
  /** Owner chains of pods ingestion has read (expiring), so a pod that is gone still groups with its workload. */
  podOwners: 'cortexops_pod_owners',
  /** Ingestion's drop accounting shared by its replicas: the redeliveries each saw and the drops already counted. */
  ingestionDrops: 'cortexops_ingestion_drops',
} as const;

/** JetStream object stores (large blobs, chunked by the server's object store protocol). */
export const OBJECT_STORES = {
  /** Alertmanager webhook bodies over the webhook's limit, kept whole (up to {@link OVERSIZED_BODY_KEEP_BYTES}) for an operator to replay. */
  webhookOversized: 'cortexops_webhook_oversized',
} as const;

/** The most of one oversized webhook body that is kept; the rest of a larger one is read and discarded (the object says so). */
export const OVERSIZED_BODY_KEEP_BYTES = 64 * 1024 * 1024;
/** Bytes the oversized-body store holds at most; beyond it a new body is not kept (and its call is answered 503). */
export const OVERSIZED_BODY_STORE_BYTES = 1024 * 1024 * 1024;

export function telemetrySubject(source: string): string {
  return `${SUBJECTS.telemetryPrefix}.${source}`;
}

export function signalSubject(cluster: string, namespace: string | undefined): string {
  return `${SUBJECTS.signalsPrefix}.${cluster}.${namespace ?? '_cluster'}`;
}

export function deadLetterSubject(stage: string): string {
  return `${SUBJECTS.deadLetterPrefix}.${stage}`;
}

export const TASK_QUEUES = {
  remediation: 'cortexops-remediation',
} as const;

export const WORKFLOW_TYPES = {
  remediation: 'remediationWorkflow',
} as const;

/** One incident, one workflow: the workflow id is a pure function of the incident id. */
export function incidentWorkflowId(incidentId: string): string {
  return `incident-${incidentId}`;
}

export const SIGNAL_NAMES = {
  incidentSignal: 'incidentSignal',
  incidentResolved: 'incidentResolved',
} as const;

export const UPDATE_NAMES = {
  approvalDecision: 'approvalDecision',
  cancelRemediation: 'cancelRemediation',
} as const;

export const QUERY_NAMES = {
  remediationState: 'remediationState',
} as const;

/** Temporal search attributes registered on the namespace (name → indexed type). */
export const SEARCH_ATTRIBUTES = {
  CortexopsIncidentId: 'Keyword',
  CortexopsState: 'Keyword',
  CortexopsTarget: 'Keyword',
  CortexopsNamespace: 'Keyword',
  CortexopsRisk: 'Keyword',
} as const;
export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

export const ANNOTATIONS = {
  remediationId: 'cortexops.io/remediation-id',
} as const;

export const METRIC_PREFIX = 'cortexops_';

export const METRICS = {
  eventsIngestedTotal: 'cortexops_events_ingested_total',
  /** Telemetry the TELEMETRY stream discarded (limits, discard-old) before ingestion consumed it. */
  telemetryDroppedTotal: 'cortexops_telemetry_dropped_total',
  /** Dead letters the dead-letter stream discarded by its limits (`limit`: age, bytes), read from the stream's state. */
  deadLettersDroppedTotal: 'cortexops_deadletters_dropped_total',
  /** Alertmanager webhook calls refused whole without reading them (body over the limit, or too many bytes in flight). */
  webhookRefusedTotal: 'cortexops_webhook_refused_total',
  /** Alertmanager webhook bodies over the limit by what became of them (kept, truncated, unkept). */
  webhookOversizedTotal: 'cortexops_webhook_oversized_total',
  /** Webhook calls answered 503 because a pod's owner lookup did not finish in time or its queue was full (reason). */
  ownerLookupsDeferredTotal: 'cortexops_owner_lookups_deferred_total',
  /** Correlator: a decide slot taking a signal → its decision stored (parse, validate, group state, engine). */
  correlationLatencySeconds: 'cortexops_correlation_latency_seconds',
  /** Correlator decisions by decision and what became of the workflow call the decision made (if any). */
  correlatorDecisionsTotal: 'cortexops_correlator_decisions_total',
  /** Remediation workflows that ended, by outcome (the lower-case final state; the worker counts them). */
  workflowsTotal: 'cortexops_workflows_total',
  llmTokensTotal: 'cortexops_llm_tokens_total',
  dependencyUp: 'cortexops_dependency_up',
  dependencyCheckSeconds: 'cortexops_dependency_check_seconds',
  /** Verification measurements by outcome (success, failure, inconclusive). */
  verificationMeasurementsTotal: 'cortexops_verification_measurements_total',
  /** Refused approval attempts by channel, code and whether each was stored in the audit store one by one. */
  approvalRefusalsTotal: 'cortexops_approval_refusals_total',
} as const;

export const SERVICE_NAMES = ['ingestion', 'correlator', 'worker', 'approvals', 'api'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const HTTP_PATHS = {
  metrics: '/metrics',
  health: '/debug/healthz',
  alertmanagerWebhook: '/v1/alertmanager',
  /** Slack's interactivity requests (signed) into the approvals service. */
  slackEvents: '/slack/events',
  /**
   * Approvals service: `POST` an `ApprovalRequest` for a human; `GET /v1/approval-requests/<incidentId>` the request
   * waiting for a decision, with its id and plan hash (bearer token).
   */
  approvalRequests: '/v1/approval-requests',
  /** Approvals service: `POST /v1/approvals/<incidentId>` delivers a decision (bearer token). */
  approvals: '/v1/approvals',
  /** Approvals service: `POST /v1/remediations/<incidentId>/cancel` an operator's cancel (bearer token). */
  remediations: '/v1/remediations',
  /** Approvals service: `POST /v1/notes` a message to the approval channel that needs no decision (bearer token). */
  notes: '/v1/notes',
} as const;
