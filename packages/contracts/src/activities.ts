import { z } from 'zod';
import { type ApprovalRequest, type RemediationNote } from './approval.js';
import type { ActionReceipt, AuditEvent } from './audit.js';
import { identifier, isoTimestamp, sha256Hex } from './common.js';
import type { Incident } from './incident.js';
import { kubernetesName, targetRef } from './kubernetes.js';
import { incidentMemorySchema, similarIncidentSchema } from './memory.js';
import { operatingMode, policyDecisionSchema } from './policy.js';
import { type Action, actionSchema, type Measurement, type RemediationPlan, type VerificationSpec } from './remediation.js';
import type { WorkflowState } from './workflow.js';
import { defineContract } from './validation.js';

const shortText = z.string().max(2000);

/**
 * A similar past incident as a diagnosis carries it: which incident, how close, what kind, what was done and how it
 * ended — not what its signals said (incident memory keeps that). Small enough for the audit trail and the workflow
 * history; the title stays because the advisor shows it to the model.
 */
export const similarIncidentSummarySchema = similarIncidentSchema.extend({
  incident: incidentMemorySchema.pick({ incidentId: true, incidentKind: true, title: true, action: true, outcome: true, timeToResolveMs: true }),
});
export type SimilarIncidentSummary = z.output<typeof similarIncidentSummarySchema>;
export const SimilarIncidentSummary = defineContract('SimilarIncidentSummary', similarIncidentSummarySchema);

/** What DIAGNOSING read of the incident's target: live spec and rollout, pods, recent Warning events, a few metrics. */
export const diagnosisSchema = z.object({
  target: targetRef,
  /** The target as it is now; absent when it does not exist (any more). */
  live: z
    .object({
      uid: z.string().max(64),
      generation: z.int().min(0).optional(),
      observedGeneration: z.int().min(0).optional(),
      replicas: z.int().min(0).optional(),
      readyReplicas: z.int().min(0).optional(),
      updatedReplicas: z.int().min(0).optional(),
      availableReplicas: z.int().min(0).optional(),
      unschedulable: z.boolean().optional(),
      containers: z.array(z.object({ name: z.string().max(253), image: z.string().max(1024).optional(), memoryLimit: z.string().max(64).optional() })).max(32),
    })
    .optional(),
  pods: z
    .array(
      z.object({
        name: kubernetesName,
        phase: z.string().max(64).optional(),
        ready: z.boolean(),
        restarts: z.int().min(0),
        node: z.string().max(253).optional(),
        /** Last termination reason of any container, e.g. OOMKilled. */
        lastTerminationReason: z.string().max(128).optional(),
      }),
    )
    .max(50),
  events: z
    .array(z.object({ reason: z.string().max(128), message: shortText, count: z.int().min(0), object: z.string().max(300), lastSeen: z.string().max(64).optional() }))
    .max(20),
  metrics: z.array(z.object({ name: z.string().max(64), query: z.string().max(2000), value: z.number().nullable(), detail: shortText })).max(10),
  /** What could not be read (RBAC, Prometheus down ...): a diagnosis is best effort, never a reason to stop. */
  problems: z.array(shortText).max(20),
  observedAt: isoTimestamp,
  /**
   * The most similar past incidents from incident memory (the incident itself left out), most similar first. Absent
   * when the memory was off or could not be read at diagnosis (and in diagnoses made before it was attached); empty
   * when nothing similar was found.
   */
  similar: z.array(similarIncidentSummarySchema).max(20).optional(),
});
export type Diagnosis = z.output<typeof diagnosisSchema>;

/** The server-side dry run of every action of a plan, and the hash that binds approvals to exactly this plan. */
export const dryRunReportSchema = z.object({
  ok: z.boolean(),
  actions: z.array(
    z.object({
      action: actionSchema,
      target: z.string().max(300),
      /** uid of the object the action writes (for delete-pod, the pod). */
      targetUid: z.string().max(64),
      diff: z.string().max(20000),
      changed: z.boolean(),
    }),
  ),
  /** Why the dry run failed (the API server's answer); `code` is the gateway's error code. */
  error: z.object({ code: z.string().max(64), message: shortText, retryable: z.boolean() }).optional(),
  /** SHA-256 over the canonical JSON of the actions, their target uids and diffs. */
  planHash: sha256Hex,
});
export type DryRunReport = z.output<typeof dryRunReportSchema>;

/** The policy's answer about one plan, with the facts CortexOps computed and the bundle it came from. */
export const policyVerdictSchema = z.object({
  decisions: z.array(policyDecisionSchema),
  allow: z.boolean(),
  requireApproval: z.boolean(),
  mode: operatingMode,
  environment: z.string().max(64),
  counts: z.object({ targetActionsLastHour: z.int().min(0), clusterActionsLastHour: z.int().min(0), consecutiveFailures: z.int().min(0) }),
  /** SHA-256 of the policy wasm and data the decision came from. */
  bundleHash: sha256Hex,
  decidedAt: isoTimestamp,
});
export type PolicyVerdict = z.output<typeof policyVerdictSchema>;

/** Workflow-level settings the worker owns (bounded by its configuration), read once by each workflow. */
export interface RemediationSettings {
  readonly approvalTimeoutMs: number;
  /** How long a change's (or a revert's) rollout may take to complete before verification counts it as failed. */
  readonly rolloutTimeoutMs: number;
  readonly cluster: string;
  /**
   * The approvals service's Ed25519 public keys (hex, raw 32 bytes; two while a key is rotated): the workflow takes
   * only decisions and cancels signed with one of them. Absent in histories older than the signatures.
   */
  readonly approvalVerifyKeys?: readonly string[];
}

export interface DiagnoseRequest {
  readonly workflowId: string;
  readonly incident: Incident;
}
export interface PlanRequest {
  readonly workflowId: string;
  readonly incident: Incident;
  readonly diagnosis: Diagnosis;
}
export interface DryRunRequest {
  readonly workflowId: string;
  readonly incident: Incident;
  readonly plan: RemediationPlan;
  /** The remediation id of each action, as the apply will use it. */
  readonly remediationIds: readonly string[];
  /**
   * Which dry run of the workflow this is (`plan-<round>`, or `before-apply-<round>` for the one after an approval): its
   * audit record's key, so the second dry run of the same plan is a record of its own, not a conflicting copy.
   */
  readonly phase?: string;
}
export interface PolicyCheckPlanRequest {
  readonly workflowId: string;
  readonly incident: Incident;
  readonly plan: RemediationPlan;
  readonly dryRun: DryRunReport;
  /** The workflow's clock (deterministic), the time the policy decides at. */
  readonly now: string;
  /** `before-apply`: the second check right before the change (a freeze may have started while waiting). */
  readonly phase: 'plan' | 'before-apply';
}
export interface ApplyRequest {
  readonly workflowId: string;
  readonly incident: Incident;
  readonly action: Action;
  readonly remediationId: string;
}
/** Why a measurement is taken: the rollout a verification waits for, a verification round, a compensation's check. */
export type MeasurePhase = 'rollout' | 'verification' | 'compensation';

export interface MeasureRequest {
  readonly workflowId: string;
  readonly incident: Incident;
  readonly plan: RemediationPlan;
  readonly verification: VerificationSpec;
  readonly phase: MeasurePhase;
  /** 1, 2, ... within the phase (with the phase, the audit record's idempotency key). */
  readonly round: number;
}
export interface RevertRequest {
  readonly workflowId: string;
  readonly receipt: ActionReceipt;
}
export interface RevertReport {
  readonly remediationId: string;
  readonly outcome: 'reverted' | 'already-reverted' | 'not-applicable';
  readonly detail: string;
}

/** The workflow's audit record of one state change (written before the next step). */
export interface TransitionRecord {
  readonly workflowId: string;
  readonly incidentId: string;
  /** 1, 2, ... in the order of the workflow's transitions: the idempotency key of the record. */
  readonly sequence: number;
  readonly from: WorkflowState | null;
  readonly to: WorkflowState;
  readonly at: string;
  readonly detail?: string;
}

/** Failure types the activities throw as non-retryable; the workflow ends with their message. */
export const ACTIVITY_FAILURES = {
  invalidInput: 'InvalidActivityInput',
  forbidden: 'KubernetesForbidden',
  notFound: 'KubernetesNotFound',
  invalid: 'KubernetesInvalid',
  /** Someone else changed the object since CortexOps applied its change: not overwritten. */
  changedByOthers: 'TargetChangedByOthers',
  revertFailed: 'RevertFailed',
  policyInput: 'PolicyInputError',
  auditInput: 'AuditInputError',
} as const;

/**
 * The remediation workflow's activities (implemented by the worker, `createRemediationActivities`). Each is idempotent
 * under retry: audit writes carry idempotency keys derived from the workflow id, applies carry remediation ids.
 */
export interface RemediationActivities {
  settings(): Promise<RemediationSettings>;
  recordTransition(record: TransitionRecord): Promise<void>;
  audit(event: AuditEvent): Promise<void>;
  diagnose(request: DiagnoseRequest): Promise<Diagnosis>;
  plan(request: PlanRequest): Promise<RemediationPlan>;
  dryRun(request: DryRunRequest): Promise<DryRunReport>;
  checkPlanPolicy(request: PolicyCheckPlanRequest): Promise<PolicyVerdict>;
  requestApproval(request: ApprovalRequest): Promise<{ readonly posted: boolean; readonly detail: string }>;
  postNote(note: RemediationNote): Promise<{ readonly posted: boolean; readonly detail: string }>;
  apply(request: ApplyRequest): Promise<ActionReceipt>;
  publishRemediationNotice(request: { readonly incident: Incident; readonly remediatedAt: string }): Promise<void>;
  measure(request: MeasureRequest): Promise<Measurement>;
  revert(request: RevertRequest): Promise<RevertReport>;
  /** Writes the finished incident to incident memory (idempotent by incident id; a no-op when the memory is off). */
  rememberIncident(request: RememberIncidentRequest): Promise<{ readonly remembered: boolean; readonly detail: string }>;
}

/** A finished workflow, as incident memory keeps it. */
export interface RememberIncidentRequest {
  readonly workflowId: string;
  readonly incident: Incident;
  /** The final state. */
  readonly state: WorkflowState;
  readonly plan?: RemediationPlan;
  readonly diagnosis?: Diagnosis;
  readonly endedAt: string;
}

/** `<workflowId>-a<n>`: the remediation id of a plan's n-th action (n from 1), fixed for the workflow's life. */
export function remediationIdOf(workflowId: string, index: number): string {
  return identifier.parse(`${workflowId}-a${index + 1}`);
}
