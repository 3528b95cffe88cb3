import { type Action, type ApprovalDecision, approvalRequestId, type ApprovalRequest, type CancelRequest, identifier, type RemediationNote, sha256Hex } from '@cortexops/contracts';
import type { types } from '@slack/bolt';
import { z } from 'zod';
import { actionDetail, actionTarget, planOrigin, shortHash, trackRecordText } from './plan-text.js';

export type KnownBlock = types.KnownBlock;

/** Ids of the interactive elements; the action handler matches on them. */
export const SLACK_IDS = {
  approve: 'cortexops_approve',
  reject: 'cortexops_reject',
  actionsBlock: 'cortexops_actions',
  outcomeBlock: 'cortexops_outcome',
  progressBlock: 'cortexops_progress',
} as const;

/**
 * What a button names: the incident, the request and the plan it showed. A click is a decision about exactly this
 * plan; the workflow refuses it when another request or plan is waiting.
 */
export const buttonValueSchema = z.strictObject({ incidentId: identifier, requestId: approvalRequestId, planHash: sha256Hex });
export type ButtonValue = z.output<typeof buttonValueSchema>;

export function buttonValue(request: ApprovalRequest): string {
  return JSON.stringify({ incidentId: request.incidentId, requestId: request.requestId, planHash: request.planHash } satisfies ButtonValue);
}

/** The button's value, or `undefined` when it is not one this service wrote (an older message, a forged payload). */
export function parseButtonValue(value: string | undefined): ButtonValue | undefined {
  if (value === undefined || value.length > 2000) return undefined;
  try {
    const parsed = buttonValueSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Slack's limits: section text 3000 characters, header text 150. */
const SECTION_LIMIT = 3000;
const HEADER_LIMIT = 150;

/** Slack's mrkdwn needs only these three escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, SECTION_LIMIT) } };
}

function describeAction(action: Action): string {
  return `• \`${action.type}\` ${escapeMrkdwn(actionTarget(action))}${escapeMrkdwn(actionDetail(action))}`;
}

function codeBlock(text: string, limit: number): string {
  const fence = '```';
  const body = text.replace(/```/g, "'''");
  return `${fence}${truncate(body.length > 0 ? body : '(no difference)', limit - 2 * fence.length - 2)}${fence}`;
}

/** The fallback text of notifications and screen readers. */
export function requestText(request: ApprovalRequest): string {
  return `Approval needed for incident ${request.incidentId}: ${truncate(request.summary, 200)}`;
}

/**
 * Block Kit of an approval request: summary, plan, dry-run difference, policy reasons, the request id and plan hash,
 * Approve / Reject (whose values name the request and the plan).
 */
/** The track-record line of a plan's Slack section (empty without a record). */
function trackRecordLine(plan: ApprovalRequest['plan']): string {
  const text = trackRecordText(plan);
  return text === undefined ? '' : `\n*Track record:* ${escapeMrkdwn(text)}`;
}

export function requestBlocks(request: ApprovalRequest): KnownBlock[] {
  const { plan, policy } = request;
  const reasons = [...policy.reasons.map((r) => `• ${escapeMrkdwn(r)}`), ...policy.violations.map((v) => `• :warning: ${escapeMrkdwn(v)}`)];
  const approvers = request.approvalsRequired > 1 ? `, needs *${request.approvalsRequired} distinct approvers*` : '';
  const value = buttonValue(request);
  return [
    { type: 'header', text: { type: 'plain_text', text: truncate(`Approval needed — incident ${request.incidentId}`, HEADER_LIMIT) } },
    section(`*Incident*\n${escapeMrkdwn(request.summary)}`),
    section(`*Plan* (risk *${plan.risk}*${approvers}, from ${escapeMrkdwn(planOrigin(plan))})\n${plan.actions.map(describeAction).join('\n')}\n_${escapeMrkdwn(plan.rationale)}_${trackRecordLine(plan)}`),
    section(`*Dry-run difference*\n${codeBlock(request.dryRunDiff, SECTION_LIMIT - 30)}`),
    section(
      `*Policy* (${policy.allow ? 'allowed' : 'denied'}${policy.requireApproval ? ', approval required' : ''}, mode ${policy.mode})\n${reasons.length > 0 ? reasons.join('\n') : '_no reasons given_'}`,
    ),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: truncate(
            `Plan \`${shortHash(request.planHash)}\` · request \`${escapeMrkdwn(request.requestId)}\` · requested ${request.requestedAt} · expires ${request.expiresAt} · workflow \`${escapeMrkdwn(request.workflowId)}\``,
            SECTION_LIMIT,
          ),
        },
      ],
    },
    {
      type: 'actions',
      block_id: SLACK_IDS.actionsBlock,
      elements: [
        {
          type: 'button',
          action_id: SLACK_IDS.approve,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value,
          confirm: {
            title: { type: 'plain_text', text: 'Apply this plan?' },
            text: { type: 'mrkdwn', text: `Plan ${shortHash(request.planHash)} for incident ${request.incidentId} will be applied to the cluster.` },
            confirm: { type: 'plain_text', text: 'Approve' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
        { type: 'button', action_id: SLACK_IDS.reject, style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value },
      ],
    },
  ];
}

/** What a settled request shows instead of its buttons. */
export type Settlement =
  /** The accepted decisions of this request, oldest first; the last one settled it. */
  | { readonly kind: 'decided'; readonly decisions: readonly ApprovalDecision[]; readonly finalState?: string }
  | { readonly kind: 'expired'; readonly at: string }
  | { readonly kind: 'cancelled'; readonly cancel: CancelRequest; readonly finalState?: string }
  | { readonly kind: 'superseded'; readonly by: ApprovalRequest }
  | { readonly kind: 'closed'; readonly status: string };

function who(decision: { readonly approver: string; readonly channel: ApprovalDecision['channel'] }): string {
  return decision.channel === 'slack' ? `<@${decision.approver}>` : `${escapeMrkdwn(decision.approver)} (via ${decision.channel === 'cli' ? 'CLI' : 'HTTP API'})`;
}

function decidedText(decisions: readonly ApprovalDecision[], finalState: string | undefined): string {
  const last = decisions.at(-1);
  if (!last) return ':grey_question: *Decided* — the decision is not known here.';
  const finished = finalState ? `\nRemediation finished: *${finalState}*` : '';
  const comments = decisions.filter((d) => d.comment).map((d) => `\n> ${escapeMrkdwn(d.comment ?? '')}`).join('');
  if (last.decision === 'reject') {
    const earlier = decisions.filter((d) => d.decision === 'approve');
    const after = earlier.length > 0 ? ` (after an approval by ${earlier.map((d) => who(d)).join(', ')})` : '';
    return `:x: *Rejected* by ${who(last)} at ${last.decidedAt}${after}${comments}${finished}`;
  }
  return `:white_check_mark: *Approved* by ${decisions.map((d) => who(d)).join(' and ')} at ${last.decidedAt}${comments}${finished}`;
}

export function settlementText(settlement: Settlement): string {
  switch (settlement.kind) {
    case 'decided':
      return decidedText(settlement.decisions, settlement.finalState);
    case 'expired':
      return `:hourglass: *Expired* at ${settlement.at} — nobody decided in time; nothing will be applied.`;
    case 'cancelled': {
      const { cancel } = settlement;
      const finished = settlement.finalState ? `\nRemediation finished: *${settlement.finalState}*` : '';
      return `:octagonal_sign: *Cancelled* by ${who({ approver: cancel.actor, channel: cancel.channel })} at ${cancel.requestedAt}\n> ${escapeMrkdwn(cancel.reason)}${finished}`;
    }
    case 'superseded':
      return `:arrows_counterclockwise: *Superseded* — the plan changed (now plan \`${shortHash(settlement.by.planHash)}\`); this request can no longer be decided. Review the new request.`;
    case 'closed':
      return `:no_entry: *Closed* — the remediation ended (${settlement.status}) before a decision; nothing will be applied.`;
  }
}

/** The request's blocks without its buttons (or an earlier outcome or progress), followed by the outcome. */
export function settledBlocks(base: readonly KnownBlock[], settlement: Settlement): KnownBlock[] {
  const kept = base.filter((block) => block.type !== 'actions' && block.block_id !== SLACK_IDS.outcomeBlock && block.block_id !== SLACK_IDS.progressBlock);
  return [...kept, { type: 'section', block_id: SLACK_IDS.outcomeBlock, text: { type: 'mrkdwn', text: truncate(settlementText(settlement), SECTION_LIMIT) } }];
}

/** "1 of 2 approvals" while a request needs more approvers. */
export function progressText(approvals: readonly ApprovalDecision[], required: number): string {
  const names = approvals.map((d) => who(d)).join(', ');
  return `:ballot_box_with_check: *${approvals.length} of ${required} approvals* — approved by ${names}; waiting for ${required - approvals.length === 1 ? 'one more approver' : `${required - approvals.length} more approvers`} (someone else).`;
}

/** The request's blocks with the buttons kept and the approvals so far shown just above them. */
export function progressBlocks(base: readonly KnownBlock[], approvals: readonly ApprovalDecision[], required: number): KnownBlock[] {
  const kept = base.filter((block) => block.block_id !== SLACK_IDS.progressBlock && block.block_id !== SLACK_IDS.outcomeBlock);
  const progress: KnownBlock = { type: 'section', block_id: SLACK_IDS.progressBlock, text: { type: 'mrkdwn', text: truncate(progressText(approvals, required), SECTION_LIMIT) } };
  const at = kept.findIndex((block) => block.type === 'actions');
  return at < 0 ? [...kept, progress] : [...kept.slice(0, at), progress, ...kept.slice(at)];
}

const NOTE_HEADINGS: Readonly<Record<RemediationNote['kind'], string>> = {
  escalated: ':rotating_light: *Escalated* — a person is needed',
  failed: ':x: *Remediation failed*',
  'rolled-back': ':leftwards_arrow_with_hook: *Rolled back*',
  resolved: ':white_check_mark: *Resolved*',
  observed: ':eyes: *Observed* (observe mode: nothing was changed)',
};

/** The fallback text of a note. */
export function noteText(note: RemediationNote): string {
  return `${note.kind} — incident ${note.incidentId}: ${truncate(note.summary, 200)}`;
}

/** Block Kit of a note: what happened and where, no buttons (nothing to decide). */
export function noteBlocks(note: RemediationNote): KnownBlock[] {
  return [
    section(`${NOTE_HEADINGS[note.kind]} — incident ${escapeMrkdwn(note.incidentId)}\n${escapeMrkdwn(note.summary)}`),
    { type: 'context', elements: [{ type: 'mrkdwn', text: `${note.at} · workflow \`${escapeMrkdwn(note.workflowId)}\`` }] },
  ];
}
