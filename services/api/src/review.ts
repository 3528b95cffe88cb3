import type { Action, AuditRecord, IncidentDetail, IncidentReview, IncidentSummary, ReviewEntry } from '@cortexops/contracts';
import { similarIncidentsLine, similarIncidentsOf } from './similar.js';

type Payload = Record<string, unknown>;

const EVIDENCE_MAX = 500;

const str = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));
const obj = (value: unknown): Payload => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Payload) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const clip = (value: string): string => (value.length > EVIDENCE_MAX ? `${value.slice(0, EVIDENCE_MAX - 1)}…` : value);
const joined = (parts: readonly string[]): string => parts.filter((s) => s.length > 0).join('; ');

function actionText(action: Payload): string {
  const where = action['namespace'] ? `${str(action['namespace'])}/${str(action['name'])}` : str(action['name']);
  const extra = action['memory'] ? ` → ${str(action['memory'])}` : action['replicas'] !== undefined ? ` → ${str(action['replicas'])} replicas` : '';
  return `${str(action['type'])} ${str(action['kind'])} ${where}${extra}`;
}

/** What one audit record says happened (the step) and what it rests on (the evidence), in words. */
export function describeRecord(record: AuditRecord): { step: string; evidence: string } {
  const p = record.payload as Payload;
  switch (record.kind) {
    case 'workflow.state':
      return { step: `${str(p['from']) || 'start'} → ${str(p['to'])}`, evidence: str(p['detail']) };
    case 'diagnosis.completed': {
      const d = obj(p['diagnosis']);
      const pods = list(d['pods']).map(obj);
      const restarts = pods.reduce((sum, pod) => sum + (typeof pod['restarts'] === 'number' ? pod['restarts'] : 0), 0);
      const reasons = [...new Set(pods.map((pod) => str(pod['lastTerminationReason'])).filter((r) => r))];
      const events = [...new Set(list(d['events']).map((e) => str(obj(e)['reason'])))];
      const metrics = list(d['metrics']).map((m) => `${str(obj(m)['name'])}=${obj(m)['value'] === null ? 'none' : str(obj(m)['value'])}`);
      return {
        step: 'diagnosed the target',
        evidence: joined([`${pods.length} pods, ${restarts} restarts${reasons.length ? ` (last termination ${reasons.join(', ')})` : ''}`, events.length ? `events ${events.join(', ')}` : '', metrics.join(', '), ...list(d['problems']).map(str), similarIncidentsLine(similarIncidentsOf(d))]),
      };
    }
    case 'plan.proposed': {
      const plan = obj(p['plan']);
      const actions = list(plan['actions']).map((a) => actionText(obj(a)));
      return {
        step: actions.length ? `planned ${actions.join(', ')}` : 'planned no action',
        evidence: joined([`${str(plan['source'])}${plan['rule'] ? ` rule ${str(plan['rule'])}` : ''}, risk ${str(plan['risk'])}`, str(plan['rationale']), ...list(p['refused']).map(str)]),
      };
    }
    case 'dryrun.completed': {
      const report = obj(p['report']);
      const changed = list(report['actions']).filter((a) => obj(a)['changed'] === true).length;
      return {
        step: report['ok'] === true ? 'server-side dry run passed' : 'server-side dry run failed',
        evidence: joined([`plan hash ${str(report['planHash']).slice(0, 12)}`, `${changed} object(s) changed`, str(obj(report['error'])['message'])]),
      };
    }
    case 'policy.decision': {
      const v = obj(p['verdict']);
      const decisions = list(v['decisions']).map(obj);
      return {
        step: `policy ${v['allow'] === true ? 'allowed' : 'denied'} (${str(p['phase'])}, mode ${str(v['mode'])}${v['requireApproval'] === true ? ', approval required' : ''})`,
        evidence: joined([`environment ${str(v['environment'])}`, ...decisions.flatMap((d) => [...list(d['reasons']), ...list(d['violations'])].map(str))]),
      };
    }
    case 'policy.violation':
      return { step: `policy violation: ${actionText(obj(p['action']))}`, evidence: joined(list(obj(p['decision'])['violations']).map(str)) };
    case 'approval.requested':
      return {
        step: 'approval requested',
        evidence: joined([`request ${str(p['requestId'])}`, `plan ${str(p['planHash']).slice(0, 12)}`, p['approvalsRequired'] ? `${str(p['approvalsRequired'])} approver(s)` : '', p['expiresAt'] ? `expires ${str(p['expiresAt'])}` : '', p['posted'] === false ? 'not posted to Slack' : '']),
      };
    case 'approval.decided':
      if (p['voided'] === true) return { step: 'approval voided: the plan changed', evidence: joined([`approved ${str(p['approvedPlanHash']).slice(0, 12)}`, `now ${str(p['currentPlanHash']).slice(0, 12)}`]) };
      return { step: `${p['decision'] === 'reject' ? 'rejected' : 'approved'} by ${record.actor}`, evidence: joined([`via ${str(p['channel'])}`, `plan ${str(p['planHash']).slice(0, 12)}`, str(p['comment'])]) };
    case 'approval.refused':
      return { step: `refused: ${str(p['code'])}`, evidence: str(p['reason']) };
    case 'approval.expired':
      return { step: 'approval expired: nothing applied', evidence: `expired at ${str(p['expiresAt'])}` };
    case 'action.applied':
      return { step: `applied ${actionText(obj(p['action']))}`, evidence: `remediation id ${str(p['remediationId'])}` };
    case 'action.reverted':
      return { step: `reverted (${str(p['outcome'])})`, evidence: joined([`remediation id ${str(p['remediationId'])}`, str(p['detail'])]) };
    case 'verification.measured': {
      const m = obj(p['measurement']);
      const checks = list(m['checks']).map((c) => `${str(obj(c)['name'])}=${obj(c)['value'] === null ? 'none' : str(obj(c)['value'])} ${str(obj(c)['outcome'])}`);
      return { step: `${str(p['phase'])} round ${str(m['round'])}: ${str(m['outcome'])}`, evidence: joined(checks) };
    }
    case 'verification.completed':
      return { step: `${p['compensation'] === true ? 'compensation verified' : 'verification'}: ${str(p['verdict'])}`, evidence: joined([str(p['reason']), p['rounds'] !== undefined ? `${str(p['rounds'])} rounds` : '']) };
    case 'remediation.escalated':
      return { step: 'escalated to a human', evidence: joined([str(p['reason']), str(p['problem']), p['observe'] === true ? 'observe mode: would have applied the plan' : '']) || JSON.stringify(p) };
    case 'compensation.failed':
      return { step: 'compensation failed', evidence: joined([str(p['target']), str(p['problem'])]) };
    case 'manual.action':
      return { step: `${str(p['action'])} by ${record.actor}`, evidence: joined([str(p['reason']), p['effect'] ? `effect ${str(p['effect'])}` : '', p['channel'] ? `via ${str(p['channel'])}` : '']) };
    default:
      return { step: record.kind, evidence: JSON.stringify(p) };
  }
}

export function timelineEntry(record: AuditRecord): ReviewEntry {
  const { step, evidence } = describeRecord(record);
  return { sequence: record.sequence, at: record.occurredAt, actor: record.actor, kind: record.kind, step, evidence: clip(evidence), hash: record.hash };
}

/** The incident review: a timeline of every audit record of the incident, its outcome and duration, the plan, diff and verification. Pure. */
export function incidentReview(summary: IncidentSummary, detail: IncidentDetail, records: readonly AuditRecord[]): IncidentReview {
  const timeline = records.map(timelineEntry);
  const startedAt = [summary.openedAt, ...timeline.map((e) => e.at)].reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
  const endedAt = detail.outcome?.at ?? null;
  return {
    incident: summary,
    outcome: detail.outcome ? `${detail.outcome.state}${detail.outcome.detail ? ` — ${detail.outcome.detail}` : ''}` : `in progress (${detail.state ?? 'no state recorded'})`,
    startedAt,
    endedAt,
    durationMs: endedAt === null ? null : Math.max(0, Date.parse(endedAt) - Date.parse(startedAt)),
    timeline,
    plan: detail.plan,
    dryRun: detail.dryRun,
    verification: detail.verification.measurements,
    receipts: detail.receipts,
  };
}

// ---- Markdown ----------------------------------------------------------------------------------

/** A table cell: pipes escaped, line breaks folded, so hostile text cannot break the table. */
const cell = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/`/g, "'") || ' ';

function duration(ms: number | null): string {
  if (ms === null) return 'in progress';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A fence longer than any backtick run inside, so a diff cannot close it early. */
function fenced(body: string, info = ''): string[] {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${info}`, body, fence];
}

function target(t: IncidentSummary['target']): string {
  return `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`;
}

function actionLine(action: Action): string {
  return `- ${cell(actionText(action))}`;
}

/** The review as Markdown for a postmortem: header, timeline table, then plan, dry-run diff and verification. */
export function reviewMarkdown(review: IncidentReview): string {
  const { incident } = review;
  const lines = [
    `# Incident review — ${cell(incident.title)}`,
    '',
    '| | |',
    '|---|---|',
    `| Incident | ${cell(incident.id)} |`,
    `| Target | ${cell(target(incident.target))}${incident.rootCause ? ` (root cause ${cell(target(incident.rootCause))})` : ''} |`,
    `| Cluster | ${cell(incident.cluster)} |`,
    `| Severity | ${incident.severity} |`,
    `| Outcome | ${cell(review.outcome)} |`,
    `| Started | ${review.startedAt} |`,
    `| Ended | ${review.endedAt ?? 'not yet'} |`,
    `| Duration | ${duration(review.durationMs)} |`,
    `| Workflow | ${cell(incident.workflowId)} |`,
    '',
    '## Timeline',
    '',
    '| Time (UTC) | Actor | Step | Evidence |',
    '|---|---|---|---|',
    ...review.timeline.map((e) => `| ${e.at} | ${cell(e.actor)} | ${cell(e.step)} | ${cell(e.evidence)} |`),
    '',
    '## Plan',
    '',
  ];
  if (review.plan) {
    const plan = review.plan;
    lines.push(`Source ${plan.source}${plan.rule ? `, rule ${cell(plan.rule)}` : ''}, risk **${plan.risk}**.`, '');
    lines.push(...(plan.actions.length ? plan.actions.map(actionLine) : ['- no action (escalated to a human)']), '');
    lines.push(...plan.rationale.split(/\r?\n/).map((l) => `> ${l}`), '');
  } else {
    lines.push('No plan was recorded.', '');
  }
  lines.push('## Dry-run diff', '');
  if (review.dryRun) {
    lines.push(`Plan hash \`${review.dryRun.planHash}\`; dry run ${review.dryRun.ok ? 'passed' : `failed: ${cell(review.dryRun.error?.message ?? '')}`}.`, '');
    for (const a of review.dryRun.actions) lines.push(`${cell(a.target)}${a.changed ? '' : ' (no change)'}:`, '', ...fenced(a.diff || '(no difference)', 'diff'), '');
  } else {
    lines.push('No dry run was recorded.', '');
  }
  lines.push('## Verification', '');
  if (review.verification.length) {
    lines.push('| Time (UTC) | Phase | Round | Outcome | Checks |', '|---|---|---|---|---|');
    for (const v of review.verification) {
      const checks = v.measurement.checks.map((c) => `${c.name}=${c.value ?? 'none'} ${c.outcome}`).join('; ');
      lines.push(`| ${v.measurement.at} | ${cell(v.phase)} | ${v.measurement.round} | ${v.measurement.outcome} | ${cell(checks)} |`);
    }
    lines.push('');
  } else {
    lines.push('No verification was measured.', '');
  }
  if (review.receipts.length) {
    lines.push('## Changes applied', '');
    for (const r of review.receipts) lines.push(`- ${cell(actionText(r.action))} at ${r.appliedAt} (remediation id ${cell(r.remediationId)})${r.revertedAt ? `, reverted at ${r.revertedAt}` : ''}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
