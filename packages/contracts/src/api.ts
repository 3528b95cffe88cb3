import { z } from 'zod';
import { diagnosisSchema, dryRunReportSchema, policyVerdictSchema } from './activities.js';
import { approvalDecisionSchema } from './approval.js';
import { actionReceiptSchema, AUDIT_QUERY_MAX_LIMIT, auditKind, auditRecordSchema } from './audit.js';
import { identifier, isoTimestamp, sha256Hex } from './common.js';
import { incidentSchema, incidentStatus } from './incident.js';
import { kubernetesName, kubernetesNamespace, workloadKind } from './kubernetes.js';
import { measurementSchema, remediationPlanSchema } from './remediation.js';
import { workflowState } from './workflow.js';

/**
 * The api service's HTTP contract (services/api): query strings, bodies and answers of its routes. The OpenAPI document
 * (`GET /openapi.json`) is generated from these schemas.
 */

export const API_PATHS = {
  incidents: '/v1/incidents',
  audit: '/v1/audit',
  auditVerify: '/v1/audit/verify',
  openapi: '/openapi.json',
} as const;

export const INCIDENT_LIST_MAX_LIMIT = 1000;

/** An opaque page cursor the api hands out (`nextCursor`). */
export const pageCursor = z.string().max(512).regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor this api returned (nextCursor)');

const laterThanFrom = <T extends { from?: string | undefined; to?: string | undefined }>(q: T) =>
  q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to);

/** `GET /v1/incidents`: every filter is optional; `from`/`to` bound `openedAt` (inclusive, exclusive). */
export const incidentListQuerySchema = z
  .strictObject({
    status: incidentStatus.optional(),
    /** The workflow's latest state in the audit trail. */
    state: workflowState.optional(),
    namespace: kubernetesNamespace.optional(),
    /** The target object's name. */
    target: kubernetesName.optional(),
    kind: workloadKind.optional(),
    cluster: identifier.optional(),
    from: isoTimestamp.optional(),
    to: isoTimestamp.optional(),
    limit: z.coerce.number().int().min(1).max(INCIDENT_LIST_MAX_LIMIT).default(100),
    cursor: pageCursor.optional(),
  })
  .refine(laterThanFrom, { path: ['to'], message: 'must be later than from' });
export type IncidentListQuery = z.input<typeof incidentListQuerySchema>;

/** One incident in a list: its record's headline and where its workflow is. */
export const incidentSummarySchema = incidentSchema
  .pick({ id: true, cluster: true, title: true, severity: true, status: true, target: true, rootCause: true, openedAt: true, updatedAt: true })
  .extend({
    workflowId: z.string(),
    /** The workflow's latest state in the audit trail; null before its first transition was recorded. */
    state: workflowState.nullable(),
    stateAt: isoTimestamp.nullable(),
  });
export type IncidentSummary = z.output<typeof incidentSummarySchema>;

export const incidentListSchema = z.object({
  incidents: z.array(incidentSummarySchema),
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor: pageCursor.optional(),
});
export type IncidentList = z.output<typeof incidentListSchema>;

export const incidentIdParamsSchema = z.strictObject({ incidentId: identifier });

/** One state the workflow entered, as the audit trail recorded it. */
export const stateEntrySchema = z.object({ state: workflowState, from: workflowState.nullable(), at: isoTimestamp, detail: z.string().nullable() });

export const approvalRequestedEntrySchema = z.object({
  requestId: z.string().nullable(),
  planHash: z.string().nullable(),
  approvalsRequired: z.int().nullable(),
  expiresAt: z.string().nullable(),
  at: isoTimestamp,
  actor: z.string(),
});

/** A decision the workflow accepted (`approver` is who decided, from their credential), or an approval voided by a changed plan. */
export const approvalDecidedEntrySchema = z.object({
  requestId: z.string().nullable(),
  planHash: z.string().nullable(),
  decision: approvalDecisionSchema.shape.decision.nullable(),
  approver: z.string(),
  channel: z.string().nullable(),
  comment: z.string().nullable(),
  voided: z.boolean(),
  at: isoTimestamp,
});

export const measurementEntrySchema = z.object({ phase: z.string(), target: z.string().nullable(), measurement: measurementSchema });

export const verificationCompletedSchema = z.object({
  verdict: z.string(),
  reason: z.string().nullable(),
  compensation: z.boolean(),
  at: isoTimestamp,
});

/** `GET /v1/incidents/:incidentId`: the incident and everything its remediation did, read from the audit store. */
export const incidentDetailSchema = z.object({
  incident: incidentSchema,
  workflowId: z.string(),
  state: workflowState.nullable(),
  states: z.array(stateEntrySchema),
  /** The signals grouped into the incident (ids and fingerprints; the signals themselves live in the SIGNALS stream). */
  signals: z.object({ ids: z.array(z.string()), fingerprints: z.array(z.string()) }),
  diagnosis: diagnosisSchema.nullable(),
  plan: remediationPlanSchema.nullable(),
  /** The latest dry run (a changed plan is dry-run again). */
  dryRun: dryRunReportSchema.nullable(),
  /** The latest policy verdict. */
  policy: policyVerdictSchema.nullable(),
  approvals: z.object({
    requests: z.array(approvalRequestedEntrySchema),
    decisions: z.array(approvalDecidedEntrySchema),
    expired: z.boolean(),
    /** Refused attempts the approvals service recorded for this incident. */
    refusals: z.int().min(0),
  }),
  receipts: z.array(actionReceiptSchema),
  verification: z.object({ measurements: z.array(measurementEntrySchema), completed: z.array(verificationCompletedSchema) }),
  /** The terminal state and when it was reached; null while the remediation runs. */
  outcome: z.object({ state: workflowState, at: isoTimestamp, detail: z.string().nullable() }).nullable(),
  auditEvents: z.int().min(0),
  /** Audit payloads that did not match their contract (older formats): named, not shown. */
  unreadable: z.array(z.string()),
});
export type IncidentDetail = z.output<typeof incidentDetailSchema>;

/** One line of an incident review: who did what, when, on what evidence — drawn from one audit record. */
export const reviewEntrySchema = z.object({
  sequence: z.int().min(1),
  at: isoTimestamp,
  actor: z.string(),
  kind: auditKind,
  step: z.string(),
  evidence: z.string(),
  /** The record's hash in the audit chain. */
  hash: sha256Hex,
});
export type ReviewEntry = z.output<typeof reviewEntrySchema>;

/** `GET /v1/incidents/:incidentId/review`: a postmortem's timeline and the remediation's plan, diff and verification. */
export const incidentReviewSchema = z.object({
  incident: incidentSummarySchema,
  outcome: z.string(),
  startedAt: isoTimestamp,
  endedAt: isoTimestamp.nullable(),
  durationMs: z.int().min(0).nullable(),
  timeline: z.array(reviewEntrySchema),
  plan: remediationPlanSchema.nullable(),
  dryRun: dryRunReportSchema.nullable(),
  verification: z.array(measurementEntrySchema),
  receipts: z.array(actionReceiptSchema),
});
export type IncidentReview = z.output<typeof incidentReviewSchema>;

/** `GET /v1/audit`: the audit store's query in a query string (`kinds` comma-separated). */
export const auditListQuerySchema = z
  .strictObject({
    incidentId: identifier.optional(),
    actor: z.string().min(1).max(256).optional(),
    kinds: z
      .string()
      .transform((value) => value.split(',').map((k) => k.trim()))
      .pipe(z.array(auditKind).min(1))
      .optional(),
    from: isoTimestamp.optional(),
    to: isoTimestamp.optional(),
    afterSequence: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(AUDIT_QUERY_MAX_LIMIT).default(100),
  })
  .refine(laterThanFrom, { path: ['to'], message: 'must be later than from' });

export const auditPageSchema = z.object({ records: z.array(auditRecordSchema), nextAfterSequence: z.int().optional() });

/** `GET /v1/audit/verify`: the whole chain walked; the first bad row named when it breaks. */
export const auditVerifyReportSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    rows: z.int(),
    headSequence: z.int(),
    headHash: z.string(),
    /** The signed checkpoint the chain was checked against (CORTEXOPS_AUDIT_CHECKPOINT_FILE), when there is one. */
    checkpointSequence: z.int().optional(),
    durationMs: z.number(),
  }),
  z.object({
    ok: z.literal(false),
    rows: z.int(),
    firstBadSequence: z.int(),
    reason: z.string(),
    detail: z.string(),
    row: z.record(z.string(), z.unknown()).optional(),
    durationMs: z.number(),
  }),
]);
export type AuditVerifyReport = z.output<typeof auditVerifyReportSchema>;

/** Body of `POST /v1/incidents/:incidentId/approve|reject`: the caller's own credential decides, the approvals service checks it. */
export const manualDecisionBodySchema = z.strictObject({
  /** The plan hash (8-64 hex digits) the caller reviewed: refused when another plan waits. */
  planHash: z.string().regex(/^[0-9a-f]{8,64}$/, 'must be 8-64 lowercase hex digits of the plan hash').optional(),
  comment: z.string().max(2000).optional(),
  /** How the person reached the api (the CLI says `cli`). */
  channel: z.enum(['http', 'cli']).default('http'),
});
export type ManualDecisionBody = z.input<typeof manualDecisionBodySchema>;

export const manualCancelBodySchema = z.strictObject({ reason: z.string().min(1).max(2000), channel: z.enum(['http', 'cli']).default('http') });
export type ManualCancelBody = z.input<typeof manualCancelBodySchema>;

/** Every refusal of the api: a stable code, words, and the fields at fault when the input was bad. */
export const apiErrorSchema = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.unknown().optional(),
});
export type ApiError = z.output<typeof apiErrorSchema>;

export const API_ERROR_CODES = {
  unauthenticated: 'UNAUTHENTICATED',
  invalid: 'INVALID_INPUT',
  notFound: 'INCIDENT_NOT_FOUND',
  noPendingRequest: 'NO_PENDING_REQUEST',
  planMismatch: 'PLAN_MISMATCH',
  notConfigured: 'NOT_CONFIGURED',
  upstream: 'UPSTREAM_FAILED',
} as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[keyof typeof API_ERROR_CODES];
