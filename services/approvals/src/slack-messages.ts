import type { ApprovalDecision, ApprovalRequest, Action } from '@cortexops/contracts';
import type { types } from '@slack/bolt';

export type KnownBlock = types.KnownBlock;

/** Ids of the interactive elements; the action handler matches on them. */
export const SLACK_IDS = {
  approve: 'cortexops_approve',
  reject: 'cortexops_reject',
  actionsBlock: 'cortexops_actions',
  outcomeBlock: 'cortexops_outcome',
} as const;

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
  const target = 'namespace' in action ? `${action.kind} ${action.namespace}/${action.name}` : `${action.kind} ${action.name}`;
  const extra = action.type === 'scale' ? ` to ${action.replicas} replicas` : action.type === 'raise-memory-limit' ? ` (${action.container} → ${action.memory})` : '';
  return `• \`${action.type}\` ${escapeMrkdwn(target)}${escapeMrkdwn(extra)}`;
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

/** Block Kit of an approval request: summary, plan, dry-run difference, policy reasons, Approve / Reject. */
export function requestBlocks(request: ApprovalRequest): KnownBlock[] {
  const { plan, policy } = request;
  const reasons = [...policy.reasons.map((r) => `• ${escapeMrkdwn(r)}`), ...policy.violations.map((v) => `• :warning: ${escapeMrkdwn(v)}`)];
  return [
    { type: 'header', text: { type: 'plain_text', text: truncate(`Approval needed — incident ${request.incidentId}`, HEADER_LIMIT) } },
    section(`*Incident*\n${escapeMrkdwn(request.summary)}`),
    section(`*Plan* (risk *${plan.risk}*, from ${plan.source})\n${plan.actions.map(describeAction).join('\n')}\n_${escapeMrkdwn(plan.rationale)}_`),
    section(`*Dry-run difference*\n${codeBlock(request.dryRunDiff, SECTION_LIMIT - 30)}`),
    section(`*Policy* (${policy.allow ? 'allowed' : 'denied'}${policy.requireApproval ? ', approval required' : ''})\n${reasons.length > 0 ? reasons.join('\n') : '_no reasons given_'}`),
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Requested ${request.requestedAt} · expires ${request.expiresAt} · workflow \`${escapeMrkdwn(request.workflowId)}\`` }] },
    {
      type: 'actions',
      block_id: SLACK_IDS.actionsBlock,
      elements: [
        {
          type: 'button',
          action_id: SLACK_IDS.approve,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value: request.incidentId,
          confirm: {
            title: { type: 'plain_text', text: 'Apply this plan?' },
            text: { type: 'mrkdwn', text: `The plan for incident ${request.incidentId} will be applied to the cluster.` },
            confirm: { type: 'plain_text', text: 'Approve' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
        { type: 'button', action_id: SLACK_IDS.reject, style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: request.incidentId },
      ],
    },
  ];
}

/** What a settled request shows instead of its buttons. */
export type Settlement =
  | { readonly kind: 'decided'; readonly decision: ApprovalDecision; readonly finalState?: string }
  | { readonly kind: 'expired'; readonly at: string }
  | { readonly kind: 'closed'; readonly status: string };

function who(decision: ApprovalDecision): string {
  return decision.channel === 'slack' ? `<@${decision.approver}>` : `${escapeMrkdwn(decision.approver)} (via ${decision.channel === 'cli' ? 'CLI' : 'HTTP API'})`;
}

export function settlementText(settlement: Settlement): string {
  switch (settlement.kind) {
    case 'decided': {
      const { decision } = settlement;
      const verb = decision.decision === 'approve' ? ':white_check_mark: *Approved*' : ':x: *Rejected*';
      const comment = decision.comment ? `\n> ${escapeMrkdwn(decision.comment)}` : '';
      const finished = settlement.finalState ? `\nRemediation finished: *${settlement.finalState}*` : '';
      return `${verb} by ${who(decision)} at ${decision.decidedAt}${comment}${finished}`;
    }
    case 'expired':
      return `:hourglass: *Expired* at ${settlement.at} — nobody decided in time; nothing will be applied.`;
    case 'closed':
      return `:no_entry: *Closed* — the remediation ended (${settlement.status}) before a decision; nothing will be applied.`;
  }
}

/** The request's blocks without its buttons (or an earlier outcome), followed by the outcome. */
export function settledBlocks(base: readonly KnownBlock[], settlement: Settlement): KnownBlock[] {
  const kept = base.filter((block) => block.type !== 'actions' && block.block_id !== SLACK_IDS.outcomeBlock);
  return [...kept, { type: 'section', block_id: SLACK_IDS.outcomeBlock, text: { type: 'mrkdwn', text: truncate(settlementText(settlement), SECTION_LIMIT) } }];
}
