import {
  type ActionReceipt,
  type AuditRecord,
  diagnosisSchema,
  dryRunReportSchema,
  type Incident,
  type IncidentDetail,
  incidentWorkflowId,
  measurementSchema,
  policyVerdictSchema,
  remediationPlanSchema,
  TERMINAL_STATES,
  workflowState,
} from '@cortexops/contracts';
import type { z } from 'zod';

type Payload = Record<string, unknown>;

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const int = (value: unknown): number | null => (typeof value === 'number' && Number.isInteger(value) ? value : null);

/** A payload field read against its contract; a mismatch is named in `unreadable` instead of shown. */
function read<S extends z.ZodType>(record: AuditRecord, key: string, schema: S, unreadable: string[]): z.output<S> | undefined {
  const parsed = schema.safeParse((record.payload as Payload)[key]);
  if (parsed.success) return parsed.data;
  unreadable.push(`${record.kind} #${record.sequence}: ${key}`);
  return undefined;
}

/**
 * Everything an incident's remediation did, from its audit records (oldest first) and action receipts: states,
 * diagnosis, plan, the latest dry run and policy verdict, approvals, verification and the outcome. Pure.
 */
export function incidentDetail(incident: Incident, records: readonly AuditRecord[], receipts: readonly ActionReceipt[]): IncidentDetail {
  const unreadable: string[] = [];
  const detail: IncidentDetail = {
    incident,
    workflowId: incidentWorkflowId(incident.id),
    state: null,
    states: [],
    signals: { ids: incident.signalIds, fingerprints: incident.fingerprints },
    diagnosis: null,
    plan: null,
    dryRun: null,
    policy: null,
    approvals: { requests: [], decisions: [], expired: false, refusals: 0 },
    receipts: [...receipts],
    verification: { measurements: [], completed: [] },
    outcome: null,
    auditEvents: records.length,
    unreadable,
  };
  // The latest of each: a changed plan is planned, dry-run and checked again.
  const latest = <S extends z.ZodType>(kind: AuditRecord['kind'], key: string, schema: S): z.output<S> | null => {
    const record = records.findLast((r) => r.kind === kind);
    return record ? (read(record, key, schema, unreadable) ?? null) : null;
  };
  detail.diagnosis = latest('diagnosis.completed', 'diagnosis', diagnosisSchema);
  detail.plan = latest('plan.proposed', 'plan', remediationPlanSchema);
  detail.dryRun = latest('dryrun.completed', 'report', dryRunReportSchema);
  detail.policy = latest('policy.decision', 'verdict', policyVerdictSchema);
  const requestIds = new Set<string>();
  for (const record of records) {
    const p = record.payload as Payload;
    switch (record.kind) {
      case 'workflow.state': {
        const to = workflowState.safeParse(p['to']);
        if (!to.success) {
          unreadable.push(`${record.kind} #${record.sequence}: to`);
          break;
        }
        const from = workflowState.safeParse(p['from']);
        const entry = { state: to.data, from: from.success ? from.data : null, at: record.occurredAt, detail: text(p['detail']) };
        detail.states.push(entry);
        detail.state = to.data;
        if (TERMINAL_STATES.has(to.data)) detail.outcome = { state: to.data, at: record.occurredAt, detail: entry.detail };
        break;
      }
      case 'approval.requested': {
        const requestId = text(p['requestId']);
        // The workflow and the approvals service both record a request; one entry per request.
        if (requestId !== null && requestIds.has(requestId)) break;
        if (requestId !== null) requestIds.add(requestId);
        detail.approvals.requests.push({ requestId, planHash: text(p['planHash']), approvalsRequired: int(p['approvalsRequired']), expiresAt: text(p['expiresAt']), at: record.occurredAt, actor: record.actor });
        break;
      }
      case 'approval.decided': {
        const decision = p['decision'] === 'approve' || p['decision'] === 'reject' ? p['decision'] : null;
        detail.approvals.decisions.push({
          requestId: text(p['requestId']),
          planHash: text(p['planHash']) ?? text(p['approvedPlanHash']),
          decision,
          approver: record.actor,
          channel: text(p['channel']),
          comment: text(p['comment']),
          voided: p['voided'] === true,
          at: record.occurredAt,
        });
        break;
      }
      case 'approval.expired':
        detail.approvals.expired = true;
        break;
      case 'approval.refused':
        detail.approvals.refusals++;
        break;
      case 'verification.measured': {
        const measurement = read(record, 'measurement', measurementSchema, unreadable);
        if (measurement) detail.verification.measurements.push({ phase: text(p['phase']) ?? 'verification', target: text(p['target']), measurement });
        break;
      }
      case 'verification.completed':
        detail.verification.completed.push({ verdict: text(p['verdict']) ?? 'unknown', reason: text(p['reason']), compensation: p['compensation'] === true, at: record.occurredAt });
        break;
      default:
        break;
    }
  }
  return detail;
}
