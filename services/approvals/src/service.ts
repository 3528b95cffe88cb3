import { type ApprovalDecision, type ApprovalDecisionOutcome, type ApprovalRequest, identifier } from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';
import type { ApproverAllowList } from './approvers.js';
import type { WorkflowDecisions, WorkflowEnd } from './decisions.js';
import { APPROVAL_ERROR_CODES, ApprovalError } from './errors.js';
import type { ApprovalJournal } from './journal.js';
import type { RefusalLog } from './refusals.js';
import { type KnownBlock, requestBlocks, type Settlement, settledBlocks, settlementText } from './slack-messages.js';
import type { SlackApp, SlackClick, SlackMessageRef } from './slack.js';

/** A decision as a person gives it; the service stamps the time. */
export interface DecisionInput {
  readonly decision: ApprovalDecision['decision'];
  readonly approver: string;
  readonly channel: ApprovalDecision['channel'];
  readonly comment?: string;
}

/** What the service knows about one incident's approval message while its workflow runs. */
interface Tracked {
  request?: ApprovalRequest;
  message?: SlackMessageRef;
  baseBlocks?: readonly KnownBlock[];
  decision?: ApprovalDecision;
  end?: Settlement;
  /** Edits of one message run one after another, each rendering everything known so far. */
  edits: Promise<void>;
  watching: boolean;
}

export interface ApprovalServiceDeps {
  readonly decisions: WorkflowDecisions;
  readonly allowList: ApproverAllowList;
  readonly slack: SlackApp | undefined;
  readonly logger: Logger;
  /** Where refused Slack clicks are kept (the HTTP API keeps its own refusals). */
  readonly refusals: RefusalLog;
  /** Where posted requests are written, so that a restarted service goes on watching them. */
  readonly journal: ApprovalJournal;
  readonly now?: () => Date;
}

/** After a restart, requests that expired this long ago are still looked at (their messages may need the outcome). */
const RESUME_GRACE_MS = 3600 * 1000;

/**
 * Approvals, whichever way they come (Slack button, HTTP API, CLI): check the approver, refuse an
 * expired request, deliver the decision as the workflow update, and keep the Slack message in step
 * with the workflow — edited with the outcome and who decided, or with "expired" when the workflow's
 * approval timer fires. The workflow is the source of truth; this service learns how it ended by
 * awaiting its result (a long poll on Temporal), so an expiry is shown even when nobody clicks.
 */
export class ApprovalService {
  private readonly tracked = new Map<string, Tracked>();
  private readonly watchers = new Set<Promise<void>>();
  /** Aborted on stop: ends every watch's long poll at once instead of waiting for the workflows. */
  private readonly stopWatching = new AbortController();
  private stopping = false;

  constructor(private readonly deps: ApprovalServiceDeps) {
    deps.slack?.onClick((click) => this.handleClick(click));
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private entry(incidentId: string): Tracked {
    let entry = this.tracked.get(incidentId);
    if (!entry) {
      entry = { edits: Promise.resolve(), watching: false };
      this.tracked.set(incidentId, entry);
    }
    return entry;
  }

  /** Posts the request to Slack and watches its workflow; the message reference is returned. */
  async requestApproval(request: ApprovalRequest): Promise<SlackMessageRef> {
    const slack = this.deps.slack;
    if (!slack) throw new ApprovalError(APPROVAL_ERROR_CODES.notConfigured, 'Slack is not configured; decide through the HTTP API or the CLI.');
    let message: SlackMessageRef;
    try {
      message = await slack.post(request);
    } catch (error) {
      throw new ApprovalError(APPROVAL_ERROR_CODES.upstream, 'Slack did not accept the approval request after retries.', { cause: error });
    }
    const entry = this.entry(request.incidentId);
    Object.assign(entry, { request, message, baseBlocks: requestBlocks(request) });
    this.deps.logger.info({ incidentId: request.incidentId, channel: message.channel, ts: message.ts }, 'approval request posted');
    try {
      await this.deps.journal.recordPosted({ request, message });
    } catch (error) {
      // The request stands and is watched; only a restart before it ends would leave its message unedited.
      this.deps.logger.error({ err: error, incidentId: request.incidentId }, 'could not write the approval request to the audit store');
    }
    this.watch(request.incidentId);
    // Decided through another path before the post finished: show it now.
    if (entry.decision || entry.end) this.refreshMessage(request.incidentId);
    return message;
  }

  /**
   * Picks up the requests posted before a restart (from the audit store) and watches their workflows again, so
   * that an expiry or a decision made elsewhere still edits their messages without anyone clicking.
   */
  async resume(): Promise<number> {
    if (!this.deps.slack) return 0;
    const posted = await this.deps.journal.expiringAfter(new Date(this.now().getTime() - RESUME_GRACE_MS));
    for (const { request, message } of posted) {
      const entry = this.entry(request.incidentId);
      entry.request ??= request;
      entry.message ??= message;
      entry.baseBlocks ??= requestBlocks(request);
      this.watch(request.incidentId);
    }
    if (posted.length > 0) this.deps.logger.info({ requests: posted.length }, 'watching approval requests posted before the restart');
    return posted.length;
  }

  /** Delivers a decision; throws {@link ApprovalError} saying why it was refused. */
  async decide(incidentId: string, input: DecisionInput): Promise<ApprovalDecisionOutcome> {
    if (!identifier.safeParse(incidentId).success) throw new ApprovalError(APPROVAL_ERROR_CODES.invalid, `"${incidentId.slice(0, 140)}" is not an incident id.`);
    await this.deps.allowList.check(input.approver, input.channel);
    const entry = this.tracked.get(incidentId);
    const now = this.now();
    if (entry?.request && now.getTime() >= Date.parse(entry.request.expiresAt)) {
      // The workflow's timer may not have fired yet; a late decision is refused all the same.
      this.settle(incidentId, { kind: 'expired', at: entry.request.expiresAt });
      throw new ApprovalError(APPROVAL_ERROR_CODES.expired, 'This approval request expired before anyone decided; nothing will be applied.');
    }
    const decision: ApprovalDecision = {
      decision: input.decision,
      approver: input.approver,
      channel: input.channel,
      ...(input.comment ? { comment: input.comment } : {}),
      decidedAt: now.toISOString(),
    };
    try {
      const outcome = await this.deps.decisions.decide(incidentId, decision);
      this.deps.logger.info({ incidentId, decision: decision.decision, approver: decision.approver, channel: decision.channel }, 'decision recorded');
      const tracked = this.tracked.get(incidentId);
      if (tracked) {
        tracked.decision = decision;
        this.refreshMessage(incidentId);
      }
      return outcome;
    } catch (error) {
      if (error instanceof ApprovalError && error.code === APPROVAL_ERROR_CODES.expired) {
        this.settle(incidentId, { kind: 'expired', at: entry?.request?.expiresAt ?? now.toISOString() });
      }
      throw error;
    }
  }

  private async handleClick(click: SlackClick): Promise<void> {
    const logger = this.deps.logger;
    if (click.message && identifier.safeParse(click.incidentId).success) {
      const entry = this.entry(click.incidentId);
      entry.message ??= click.message;
      if (!entry.baseBlocks && click.blocks.length > 0) entry.baseBlocks = click.blocks;
      // After a restart nothing watches this workflow yet: the click brings the message back in step.
      this.watch(click.incidentId);
    }
    try {
      await this.decide(click.incidentId, { decision: click.decision, approver: click.userId, channel: 'slack' });
    } catch (error) {
      const reason = error instanceof ApprovalError ? error.message : 'The decision could not be recorded; try again.';
      const code = error instanceof ApprovalError ? error.code : APPROVAL_ERROR_CODES.upstream;
      logger.warn({ incidentId: click.incidentId, user: click.userId, code, err: error }, 'slack decision refused');
      await this.deps.refusals.record({ channel: 'slack', code, reason, incidentId: click.incidentId, actor: click.userId, input: { decision: click.decision, incidentId: click.incidentId } });
      await click.tell(reason).catch((tellError: unknown) => logger.warn({ err: tellError }, 'could not tell the person why'));
    }
  }

  /** Awaits the workflow's end once per incident, then shows the outcome and forgets the incident. */
  private watch(incidentId: string): void {
    const entry = this.entry(incidentId);
    if (entry.watching || this.stopping) return;
    entry.watching = true;
    const watcher = this.deps.decisions
      .awaitEnd(incidentId, this.stopWatching.signal)
      .then((end) => {
        this.settle(incidentId, settlementOf(end, entry));
        return entry.edits;
      })
      .catch((error: unknown) => {
        if (!this.stopping) this.deps.logger.warn({ incidentId, err: error }, 'stopped watching the remediation workflow');
      })
      .finally(() => {
        this.tracked.delete(incidentId);
        this.watchers.delete(watcher);
      });
    this.watchers.add(watcher);
  }

  private settle(incidentId: string, settlement: Settlement): void {
    const entry = this.tracked.get(incidentId);
    if (!entry) return;
    entry.end = settlement;
    this.refreshMessage(incidentId);
  }

  private refreshMessage(incidentId: string): void {
    const entry = this.tracked.get(incidentId);
    const slack = this.deps.slack;
    if (!entry?.message || !slack) return;
    const message = entry.message;
    entry.edits = entry.edits.then(async () => {
      const settlement = entry.end ?? (entry.decision ? ({ kind: 'decided', decision: entry.decision } as const) : undefined);
      if (!settlement) return;
      const base = entry.baseBlocks ?? (entry.request ? requestBlocks(entry.request) : []);
      try {
        await slack.update(message, settlementText(settlement), settledBlocks(base, settlement));
      } catch (error) {
        this.deps.logger.warn({ incidentId, err: error }, 'could not edit the slack message');
      }
    });
  }

  /**
   * Stops watching: the watches' long polls are cancelled, so stopping never waits for a pending approval
   * (a restarted service picks the requests up again from the audit store, see {@link resume}).
   */
  beginStop(): void {
    this.stopping = true;
    this.stopWatching.abort();
  }

  async drained(): Promise<void> {
    await Promise.allSettled([...this.watchers]);
  }
}

function settlementOf(end: WorkflowEnd, entry: Tracked): Settlement {
  if (end.state === 'EXPIRED') return { kind: 'expired', at: entry.request?.expiresAt ?? new Date().toISOString() };
  const decision = end.decision ?? entry.decision;
  if (decision) return { kind: 'decided', decision, ...(end.state ? { finalState: end.state } : {}) };
  return { kind: 'closed', status: end.state ?? end.status ?? 'unknown' };
}
