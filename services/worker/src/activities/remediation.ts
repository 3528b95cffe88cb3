import {
  type ActionReceipt,
  type ApplyRequest,
  type AuditEvent,
  type DiagnoseRequest,
  type Diagnosis,
  type DryRunReport,
  type DryRunRequest,
  type Incident,
  type MeasureRequest,
  type Measurement,
  type OperatingMode,
  type PlanRequest,
  type PolicyCheckPlanRequest,
  type PolicyDecision,
  type PolicyVerdict,
  type RemediationActivities,
  type RemediationPlan,
  type RemediationSettings,
  type RevertReport,
  type RevertRequest,
  type SimilarIncidentSummary,
  type TargetRef,
  type TransitionRecord,
  remediationNoticeSubject,
  RemediationNotice,
  TERMINAL_STATES,
} from '@cortexops/contracts';
import { AuditConflictError, type AuditStore } from '@cortexops/audit';
import { type Advice, type AdviceInput, checkPlanAgainstIncident, planRemediation, type PlannerSettings } from '@cortexops/advisor';
import type { IncidentMemoryStore } from '@cortexops/knowledge';
import { type ClusterGateway, fromActionReceipt, type GatewayBounds, KubernetesGatewayError, toActionReceipt } from '@cortexops/k8s';
import type { Logger } from '@cortexops/observability';
import type { PolicyEngine } from '@cortexops/policy';
import { measureCheck, type PrometheusClient, renderPromql } from '@cortexops/prometheus';
import { actionLabel, roundOutcome } from '@cortexops/workflows';
import type { ApprovalsClient } from './messages.js';
import { policyCounts } from './facts.js';
import { translated } from './failures.js';
import { planHashOf } from './plan-hash.js';
import { describeIncident, memoryRecord, similarSummary } from '../memory.js';

export interface NoticePublisher {
  /** Publishes once per `msgId` (JetStream de-duplication). */
  publish(subject: string, data: Uint8Array, msgId: string): Promise<void>;
}

export interface RemediationDependencies {
  readonly audit: Pick<AuditStore, 'append' | 'query' | 'recordPolicyViolation' | 'recordActionReceipt' | 'markActionReverted' | 'upsertIncident' | 'setIncidentStatus'>;
  readonly gateway: Pick<ClusterGateway, 'inspect' | 'dryRun' | 'apply' | 'revert' | 'rolloutStatus'>;
  readonly prometheus: PrometheusClient;
  readonly policy: Pick<PolicyEngine, 'decide' | 'bundleHash'>;
  readonly notices: NoticePublisher;
  readonly approvals: Pick<ApprovalsClient, 'requestApproval' | 'postNote'>;
  /** PLANNING's advisor: the LLM when configured and healthy, else (within the same call) the heuristics. */
  readonly advisor: { advise(input: AdviceInput): Promise<Advice> };
  /** Incident memory: similar past incidents for the diagnosis, runbooks for planning, finished incidents written. Absent: off. */
  readonly memory?: Pick<IncidentMemoryStore, 'similar' | 'successRate' | 'remember' | 'runbooks'>;
  /** How many similar incidents the diagnosis attaches (default 3). */
  readonly similarIncidents?: number;
  readonly settings: RemediationSettings & {
    readonly planner: PlannerSettings;
    /** The gateway's bounds: a plan whose parameters leave them is refused before its dry run. */
    readonly bounds: GatewayBounds;
    readonly environmentOf: (namespace: string | undefined) => string;
  };
  readonly onEnded?: (state: string) => void;
  readonly onMeasured?: (outcome: string) => void;
  readonly logger?: Logger;
}

/** Strictest first: a plan touching several namespaces runs in the strictest of their modes. */
const MODE_ORDER: readonly OperatingMode[] = ['observe', 'approve', 'auto'];

function strictestMode(decisions: readonly PolicyDecision[]): OperatingMode {
  return MODE_ORDER.find((mode) => decisions.some((d) => d.mode === mode)) ?? 'observe';
}

/** What verification measures: the workload the plan changes (a deleted pod's workload is the incident's target). */
export function verificationTarget(plan: RemediationPlan, incident: Incident): TargetRef {
  const action = plan.actions[0];
  if (action === undefined || action.kind === 'Pod') return incident.target;
  return { kind: action.kind, ...('namespace' in action ? { namespace: action.namespace } : {}), name: action.name };
}

const METRIC_TEMPLATES = {
  Deployment: ['workload-available-ratio', 'workload-container-restarts'],
  StatefulSet: ['workload-available-ratio', 'workload-container-restarts'],
  Node: ['node-ready'],
} as const;

/**
 * The remediation workflow's activities over narrow adapters (cluster gateway, audit store, policy engine, Prometheus,
 * NATS, approvals service). Each is idempotent under retry: audit writes carry keys derived from the workflow id,
 * cluster changes carry the remediation id, the notice carries a message id.
 */
export function createRemediationActivities(deps: RemediationDependencies): RemediationActivities {
  const { audit, gateway, prometheus, settings } = deps;
  type StepRecord = Omit<AuditEvent, 'actor' | 'payload'> & { actor?: string; payload: Record<string, unknown> };
  const record = (event: StepRecord) => audit.append({ actor: 'worker', ...event });
  /**
   * Records a step and returns its value. A retry of the step recomputes it (a newer clock, reading or model answer);
   * when its first attempt's record is already stored under the same key, the stored value is returned instead: the
   * workflow goes on with what the audit trail says it did, never with something the trail does not hold.
   */
  const recordStep = async <T>(event: StepRecord, field: string, value: T): Promise<T> => {
    try {
      await record(event);
      return value;
    } catch (error) {
      if (!(error instanceof AuditConflictError) || error.existing.payload[field] === undefined) throw error;
      deps.logger?.info({ key: error.idempotencyKey, differs: error.fields }, 'a retried step goes on with the record of its first attempt');
      return error.existing.payload[field] as T;
    }
  };

  const diagnosisMetrics = async (target: TargetRef): Promise<Diagnosis['metrics']> => {
    const templates = target.kind in METRIC_TEMPLATES ? METRIC_TEMPLATES[target.kind as keyof typeof METRIC_TEMPLATES] : [];
    return Promise.all(
      templates.map(async (template) => {
        const query = renderPromql(template, target);
        const sample = await prometheus.instant(query);
        return { name: template, query, value: sample.kind === 'value' ? sample.value : null, detail: sample.kind === 'value' ? 'measured' : sample.kind === 'error' ? sample.message : sample.kind };
      }),
    );
  };

  /** The heuristics' rule for the incident: the kind of failure memory files it under ('unknown' without a diagnosis). */
  const incidentKindOf = (incident: Incident, diagnosis: Diagnosis | undefined): string => {
    if (diagnosis === undefined) return 'unknown';
    try {
      return planRemediation({ incident, diagnosis, now: new Date().toISOString(), settings: settings.planner }).rule ?? 'unknown';
    } catch {
      return 'unknown';
    }
  };

  /**
   * The most similar past incidents (the incident itself left out), as the diagnosis carries them; undefined when the
   * memory is off or fails — a warning, never a reason to stop.
   */
  const similarTo = async (incident: Incident, diagnosis: Diagnosis): Promise<SimilarIncidentSummary[] | undefined> => {
    if (deps.memory === undefined) return undefined;
    try {
      const hits = await deps.memory.similar({ ...describeIncident(incident, diagnosis), excludeIncidentId: incident.id, limit: deps.similarIncidents ?? 3 });
      return hits.map(similarSummary);
    } catch (error) {
      deps.logger?.warn({ err: error, incident: incident.id }, 'incident memory: similar incidents unreadable');
      return undefined;
    }
  };

  /** The closest runbook sections; none when the memory is off or fails (planning never waits on it). */
  const runbooksFor = async (incident: Incident, diagnosis: Diagnosis): Promise<AdviceInput['runbooks']> => {
    if (deps.memory === undefined) return undefined;
    try {
      const runbooks = await deps.memory.runbooks({ ...describeIncident(incident, diagnosis), limit: 3 });
      return runbooks.map((r) => ({ heading: r.heading, text: r.text }));
    } catch (error) {
      deps.logger?.warn({ err: error, incident: incident.id }, 'incident memory: runbooks unreadable');
      return undefined;
    }
  };

  /**
   * What planning shows the advisor: the similar incidents the diagnosis attached (read again only when it has none:
   * diagnosed before they were attached, or with the memory off or failing then) and the closest runbook sections.
   */
  const recall = async (incident: Incident, diagnosis: Diagnosis) => {
    const [similar, runbooks] = await Promise.all([diagnosis.similar ?? similarTo(incident, diagnosis), runbooksFor(incident, diagnosis)]);
    const similarFrom = diagnosis.similar ? 'diagnosis' : deps.memory ? 'planning' : undefined;
    return { similar: similar ?? [], ...(similarFrom ? { similarFrom } : {}), ...(runbooks ? { runbooks } : {}) };
  };

  const trackRecordOf = async (plan: RemediationPlan, incidentKind: string): Promise<RemediationPlan['trackRecord']> => {
    const action = plan.actions[0];
    if (deps.memory === undefined || action === undefined) return undefined;
    try {
      const rate = await deps.memory.successRate(action.type, incidentKind);
      return { incidentKind, resolved: rate.resolved, total: rate.total };
    } catch (error) {
      deps.logger?.warn({ err: error, incident: plan.incidentId }, 'incident memory: success rate unreadable');
      return undefined;
    }
  };

  return {
    async settings() {
      return {
        approvalTimeoutMs: settings.approvalTimeoutMs,
        rolloutTimeoutMs: settings.rolloutTimeoutMs,
        cluster: settings.cluster,
        approvalVerifyKeys: settings.approvalVerifyKeys ?? [],
      };
    },

    async recordTransition(transition: TransitionRecord) {
      await translated(() =>
        record({
          idempotencyKey: `${transition.workflowId}/state/${transition.sequence}`,
          incidentId: transition.incidentId,
          workflowId: transition.workflowId,
          kind: 'workflow.state',
          occurredAt: transition.at,
          payload: { sequence: transition.sequence, from: transition.from, to: transition.to, ...(transition.detail === undefined ? {} : { detail: transition.detail }) },
        }),
      );
      if (TERMINAL_STATES.has(transition.to)) {
        if (transition.to === 'RESOLVED') await translated(() => audit.setIncidentStatus(transition.incidentId, 'resolved', transition.at));
        deps.onEnded?.(transition.to);
      }
    },

    async audit(event) {
      await translated(() => audit.append(event));
    },

    async diagnose({ workflowId, incident }: DiagnoseRequest): Promise<Diagnosis> {
      return translated(async () => {
        const observedAt = new Date().toISOString();
        const [inspection, metrics] = await Promise.all([
          gateway.inspect(incident.target),
          diagnosisMetrics(incident.target).catch((error: unknown) => {
            deps.logger?.warn({ err: error, incident: incident.id }, 'diagnosis: metrics unreadable');
            return [];
          }),
        ]);
        const observed: Diagnosis = { target: incident.target, ...inspection, metrics, observedAt };
        const similar = await similarTo(incident, observed);
        const diagnosis: Diagnosis = { ...observed, ...(similar ? { similar } : {}) };
        // The incident record (api, reviews) is kept beside its audit trail; a newer record is never overwritten.
        await audit.upsertIncident(incident);
        return recordStep({ idempotencyKey: `${workflowId}/diagnosis`, incidentId: incident.id, workflowId, kind: 'diagnosis.completed', occurredAt: observedAt, payload: { diagnosis } }, 'diagnosis', diagnosis);
      });
    },

    async plan({ workflowId, incident, diagnosis }: PlanRequest): Promise<RemediationPlan> {
      return translated(async () => {
        const now = new Date().toISOString();
        const { similarFrom, ...recalled } = await recall(incident, diagnosis);
        const similar = recalled.similar;
        const advice = await deps.advisor.advise({ incident, diagnosis, now, settings: settings.planner, ...recalled });
        let plan: RemediationPlan = advice.plan;
        // Whatever proposed it (the model or the heuristics), a plan that leaves the incident's own objects is refused.
        const problems = checkPlanAgainstIncident(plan, incident, { bounds: settings.bounds, diagnosis }).map((p) => `${p.code}: ${p.message}`);
        if (problems.length > 0) {
          plan = { incidentId: incident.id, actions: [], rationale: `the proposed plan was refused: ${problems.join('; ')}`.slice(0, 4000), source: plan.source, risk: plan.risk, createdAt: now };
        }
        const trackRecord = await trackRecordOf(plan, incidentKindOf(incident, diagnosis));
        if (trackRecord !== undefined) plan = { ...plan, trackRecord };
        const origin = { origin: advice.origin, ...(recalled.runbooks ? { runbooks: recalled.runbooks.map((r) => r.heading) } : {}), similar: similar.map((h) => ({ incidentId: h.incident.incidentId, score: Number(h.score.toFixed(3)), action: h.incident.action?.type ?? null, outcome: h.incident.outcome })), ...(similarFrom ? { similarFrom } : {}), ...(advice.fallback ? { fallback: advice.fallback } : {}), ...(advice.tokens ? { tokens: advice.tokens } : {}) };
        deps.logger?.info({ incident: incident.id, ...origin, rule: plan.rule, actions: plan.actions.length }, 'planned');
        return recordStep({ idempotencyKey: `${workflowId}/plan`, incidentId: incident.id, workflowId, kind: 'plan.proposed', occurredAt: now, payload: { plan, ...origin, ...(problems.length > 0 ? { refused: problems } : {}) } }, 'plan', plan);
      });
    },

    async dryRun({ workflowId, incident, plan, remediationIds, phase }: DryRunRequest): Promise<DryRunReport> {
      return translated(async () => {
        const actions: DryRunReport['actions'][number][] = [];
        let error: DryRunReport['error'];
        for (const [index, action] of plan.actions.entries()) {
          try {
            const result = await gateway.dryRun(action, remediationIds[index] ?? '');
            actions.push({ action, target: result.target, targetUid: result.targetUid, diff: result.diff.slice(0, 20000), changed: result.changed });
          } catch (cause) {
            if (!(cause instanceof KubernetesGatewayError) || cause.retryable) throw cause;
            error = { code: cause.code, message: cause.message.slice(0, 2000), retryable: false };
            break;
          }
        }
        const report: DryRunReport = { ok: error === undefined, actions, ...(error ? { error } : {}), planHash: planHashOf(actions) };
        const attempt = `${phase === undefined ? '' : `${phase}/`}${report.planHash.slice(0, 16)}`;
        return recordStep({ idempotencyKey: `${workflowId}/dryrun/${attempt}`, incidentId: incident.id, workflowId, kind: 'dryrun.completed', occurredAt: new Date().toISOString(), payload: { report } }, 'report', report);
      });
    },

    async checkPlanPolicy({ workflowId, incident, plan, dryRun, now, phase }: PolicyCheckPlanRequest): Promise<PolicyVerdict> {
      return translated(async () => {
        const at = new Date(now);
        const environment = settings.environmentOf(incident.target.namespace);
        const decisions: PolicyDecision[] = [];
        let counts: PolicyVerdict['counts'] = { targetActionsLastHour: 0, clusterActionsLastHour: 0, consecutiveFailures: 0 };
        for (const action of plan.actions) {
          counts = await policyCounts(audit, action, at);
          const policyInput = {
            incidentId: incident.id,
            cluster: settings.cluster,
            environment: settings.environmentOf('namespace' in action ? action.namespace : undefined),
            action,
            risk: plan.risk,
            dryRun: dryRun.ok ? { ok: true } : { ok: false, error: dryRun.error?.message ?? 'dry run failed' },
            counts,
            now,
          };
          const decision = deps.policy.decide(policyInput);
          decisions.push(decision);
          if (!decision.allow) {
            await audit.recordPolicyViolation({ idempotencyKey: `${workflowId}/policy/${phase}/${dryRun.planHash.slice(0, 16)}/${decisions.length}`, incidentId: incident.id, workflowId, actor: 'policy', occurredAt: now, action, decision });
            break;
          }
        }
        const verdict: PolicyVerdict = {
          decisions,
          allow: decisions.length > 0 && decisions.every((d) => d.allow),
          requireApproval: decisions.some((d) => d.requireApproval) || decisions.some((d) => d.mode === 'approve'),
          mode: strictestMode(decisions),
          environment,
          counts,
          bundleHash: deps.policy.bundleHash(),
          decidedAt: now,
        };
        return recordStep({ idempotencyKey: `${workflowId}/policy-decision/${phase}/${dryRun.planHash.slice(0, 16)}`, incidentId: incident.id, workflowId, kind: 'policy.decision', actor: 'policy', occurredAt: now, payload: { phase, planHash: dryRun.planHash, verdict } }, 'verdict', verdict);
      });
    },

    async requestApproval(request) {
      return translated(() => deps.approvals.requestApproval(request));
    },

    async postNote(note) {
      return translated(() => deps.approvals.postNote(note));
    },

    async apply({ workflowId, incident, action, remediationId }: ApplyRequest): Promise<ActionReceipt> {
      return translated(async () => {
        const receipt = toActionReceipt(await gateway.apply(action, remediationId), incident.id, workflowId);
        const stored = await audit.recordActionReceipt(receipt);
        await record({ idempotencyKey: `${workflowId}/applied/${remediationId}`, incidentId: incident.id, workflowId, kind: 'action.applied', occurredAt: stored.appliedAt, payload: { remediationId, action, target: actionLabel(action) } });
        return stored;
      });
    },

    async publishRemediationNotice({ incident, remediatedAt }) {
      await translated(async () => {
        const notice = RemediationNotice.parse({ incidentId: incident.id, cluster: incident.cluster, target: incident.target, remediatedAt });
        await deps.notices.publish(remediationNoticeSubject(incident.cluster), new TextEncoder().encode(JSON.stringify(notice)), `remediated-${incident.id}`);
      });
    },

    async measure({ workflowId, incident, plan, verification, phase, round }: MeasureRequest): Promise<Measurement> {
      return translated(async () => {
        const target = verificationTarget(plan, incident);
        const checks = await Promise.all(
          verification.checks.map(async (check): Promise<Measurement['checks'][number]> => {
            if (check.type === 'promql') return measureCheck(check, target, prometheus);
            const cordoned = plan.actions.find((a) => a.type === 'cordon-node' || a.type === 'uncordon-node');
            try {
              const status = await gateway.rolloutStatus(target, cordoned === undefined ? {} : { unschedulable: cordoned.type === 'cordon-node' });
              return { name: check.name, outcome: status.complete ? 'success' : 'failure', value: status.complete ? 1 : 0, detail: status.detail.slice(0, 1000) };
            } catch (error) {
              // The status could not be read (RBAC, the object gone): no evidence either way.
              return { name: check.name, outcome: 'inconclusive', value: null, detail: `rollout status unreadable: ${(error as Error).message}`.slice(0, 1000) };
            }
          }),
        );
        const measurement: Measurement = { round, at: new Date().toISOString(), outcome: roundOutcome(checks), checks };
        const recorded = await recordStep({ idempotencyKey: `${workflowId}/measured/${phase}/${round}`, incidentId: incident.id, workflowId, kind: 'verification.measured', occurredAt: measurement.at, payload: { phase, target: `${target.kind} ${target.namespace ?? ''}/${target.name}`, measurement } }, 'measurement', measurement);
        if (phase === 'verification') deps.onMeasured?.(recorded.outcome);
        return recorded;
      });
    },

    async rememberIncident(request) {
      if (deps.memory === undefined) return { remembered: false, detail: 'incident memory is off' };
      const memory = deps.memory;
      const record = memoryRecord(request, incidentKindOf(request.incident, request.diagnosis));
      if (record === undefined) return { remembered: false, detail: `${request.state} of a ${request.incident.target.kind} is not kept` };
      // Keyed by the incident id: a retry (or the same incident ending again) replaces the point.
      await translated(() => memory.remember(record));
      return { remembered: true, detail: `${record.incidentKind}: ${record.outcome}` };
    },

    async revert({ workflowId, receipt }: RevertRequest): Promise<RevertReport> {
      return translated(async () => {
        const result = await gateway.revert(fromActionReceipt(receipt));
        await audit.markActionReverted(receipt.remediationId, new Date().toISOString());
        deps.logger?.info({ workflowId, remediationId: receipt.remediationId, outcome: result.outcome }, 'compensated');
        return { remediationId: result.remediationId, outcome: result.outcome, detail: result.detail };
      });
    },
  };
}
