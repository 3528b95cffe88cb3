import {
  type ApprovalDecision,
  type ApprovalDecisionOutcome,
  type ApprovalRequest,
  type CancelOutcome,
  type CancelRequest,
  type Incident,
  identifier,
  incidentWorkflowId,
  type RemediationNote,
  type RemediationRequest,
} from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';
import type { ApproverAllowList } from './approvers.js';
import { APPROVAL_ERROR_CODES, ApprovalError } from './errors.js';
import type { ApprovalJournal } from './journal.js';
import type { RefusalLog } from './refusals.js';
import type { DecisionSigner } from './signer.js';
import { type KnownBlock, progressBlocks, progressText, requestBlocks, type Settlement, settledBlocks, settlementText } from './slack-messages.js';
import type { SlackApp, SlackClick, SlackMessageRef } from './slack.js';
import type { PendingRequest, RemediationWorkflows, WorkflowEnd } from './workflow-client.js';

/**
 * A decision as a person gives it, about one request and the plan it showed; the service stamps the time and signs it.
 * `approver` is an authenticated identity: the owner of a personal token (HTTP, CLI) or the Slack user who clicked.
 */
export interface DecisionInput {
  readonly requestId: string;
  readonly planHash: string;
  readonly decision: ApprovalDecision['decision'];
  readonly approver: string;
  readonly channel: ApprovalDecision['channel'];
  readonly comment?: string;
}

/** An operator's cancel as given (`actor` authenticated, as for decisions); the service stamps the time and signs it. */
export interface CancelInput {
  readonly actor: string;
  readonly channel: CancelRequest['channel'];
  readonly reason: string;
}

/** A person's request for a new run of an incident's remediation (`requestedBy` authenticated: the token's owner). */
export interface RemediationRequestInput {
  readonly requestedBy: string;
  readonly channel: RemediationRequest['channel'];
  readonly reason: string;
}

/** What the service knows about one incident's approval message while its workflow runs. */
interface Tracked {
  /** The newest request posted for the incident (a changed plan is a new request; the older message is superseded). */
  request?: ApprovalRequest;
  message?: SlackMessageRef;
  baseBlocks?: readonly KnownBlock[];
  /** Decisions this service delivered about `request` that the workflow accepted, oldest first. */
  decisions: ApprovalDecision[];
  /** The request is settled by a decision: a rejection, or enough distinct approvals. */
  decided: boolean;
  cancel?: CancelRequest;
  end?: Settlement;
  /** Edits of one message run one after another, each rendering everything known so far. */
  edits: Promise<void>;
  watching: boolean;
}

export interface ApprovalServiceDeps {
  readonly workflows: RemediationWorkflows;
  /** Who may decide from Slack (HTTP and CLI callers are authenticated by their personal token). */
  readonly allowList: ApproverAllowList;
  /** Signs what is delivered to the workflow; without it nothing can be decided (the workflow refuses unsigned updates). */
  readonly signer: DecisionSigner | undefined;
  readonly slack: SlackApp | undefined;
  readonly logger: Logger;
  /** Where refused Slack clicks are kept (the HTTP API keeps its own refusals). */
  readonly refusals: RefusalLog;
  /** Where posted requests are written, so that a restarted service goes on watching them. */
  readonly journal: ApprovalJournal;
  /** The incidents recorded by the worker (the audit store), for a person's request of a new run. */
  readonly incidents?: { getIncident(id: string): Promise<Incident | undefined> };
  readonly now?: () => Date;
}

/** After a restart, requests that expired this long ago are still looked at (their messages may need the outcome). */
const RESUME_GRACE_MS = 3600 * 1000;

function checkIncidentId(incidentId: string): void {
  if (!identifier.safeParse(incidentId).success) throw new ApprovalError(APPROVAL_ERROR_CODES.invalid, `"${incidentId.slice(0, 140)}" is not an incident id.`);
}

function staleClick(): ApprovalError {
  return new ApprovalError(
    APPROVAL_ERROR_CODES.stalePlan,
    'The plan changed since you looked; review the new request. Your decision was not recorded (this button names another plan than the request it belongs to).',
  );
}

/**
 * Approvals, whichever way they come (Slack button, HTTP API, CLI): check the approver, refuse an
 * expired request, deliver the decision about one exact request and plan as the workflow update, deliver
 * an operator's cancel, post notes, and keep the Slack message in step with the workflow — "1 of 2
 * approvals" while a critical plan waits for its second approver, then the outcome and who decided, or
 * "expired" when the workflow's approval timer fires, or "superseded" when the plan changed. The workflow
 * is the source of truth; this service learns how it ended by awaiting its result (a long poll on
 * Temporal), so an expiry is shown even when nobody clicks.
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
      entry = { decisions: [], decided: false, edits: Promise.resolve(), watching: false };
      this.tracked.set(incidentId, entry);
    }
    return entry;
  }

  private requireSigner(): DecisionSigner {
    if (!this.deps.signer) throw new ApprovalError(APPROVAL_ERROR_CODES.notConfigured, 'Decisions cannot be delivered: no signing key is configured (CORTEXOPS_APPROVALS_SIGNING_KEY_FILE).');
    return this.deps.signer;
  }

  private requireSlack(): SlackApp {
    if (!this.deps.slack) throw new ApprovalError(APPROVAL_ERROR_CODES.notConfigured, 'Slack is not configured; decide through the HTTP API or the CLI.');
    return this.deps.slack;
  }

  /**
   * Posts the request to Slack and watches its workflow; the message reference is returned. The same request posted
   * again (a retried activity) answers with the message already posted. A new request for the incident (the plan
   * changed) supersedes the older message: its buttons go.
   */
  async requestApproval(request: ApprovalRequest): Promise<SlackMessageRef> {
    const slack = this.requireSlack();
    const known = this.tracked.get(request.incidentId);
    if (known?.message && known.request?.requestId === request.requestId) return known.message;
    let message: SlackMessageRef;
    try {
      message = await slack.post(request);
    } catch (error) {
      throw new ApprovalError(APPROVAL_ERROR_CODES.upstream, 'Slack did not accept the approval request after retries.', { cause: error });
    }
    const entry = this.entry(request.incidentId);
    if (entry.request && entry.message && entry.request.requestId !== request.requestId) {
      const superseded: Settlement = { kind: 'superseded', by: request };
      const old = { message: entry.message, base: entry.baseBlocks ?? requestBlocks(entry.request) };
      this.edit(request.incidentId, entry, () => ({ ...old, text: settlementText(superseded), blocks: settledBlocks(old.base, superseded) }));
    }
    Object.assign(entry, { request, message, baseBlocks: requestBlocks(request), decisions: [], decided: false, end: undefined });
    this.deps.logger.info({ incidentId: request.incidentId, requestId: request.requestId, channel: message.channel, ts: message.ts }, 'approval request posted');
    try {
      await this.deps.journal.recordPosted({ request, message });
    } catch (error) {
      // The request stands and is watched; only a restart before it ends would leave its message unedited.
      this.deps.logger.error({ err: error, incidentId: request.incidentId }, 'could not write the approval request to the audit store');
    }
    this.watch(request.incidentId);
    // Cancelled or ended before the post finished: show it now.
    if (entry.cancel) this.settle(request.incidentId, { kind: 'cancelled', cancel: entry.cancel });
    return message;
  }

  /** Posts a note (escalation, outcome) to the approval channel: nothing to decide, no buttons. */
  async note(note: RemediationNote): Promise<SlackMessageRef> {
    const slack = this.requireSlack();
    try {
      const message = await slack.postNote(note);
      this.deps.logger.info({ incidentId: note.incidentId, kind: note.kind, channel: message.channel, ts: message.ts }, 'note posted');
      return message;
    } catch (error) {
      throw new ApprovalError(APPROVAL_ERROR_CODES.upstream, 'Slack did not accept the note after retries.', { cause: error });
    }
  }

  /**
   * Picks up the requests posted before a restart (from the audit store) and watches their workflows again, so
   * that an expiry or a decision made elsewhere still edits their messages without anyone clicking.
   */
  async resume(): Promise<number> {
    if (!this.deps.slack) return 0;
    const posted = await this.deps.journal.expiringAfter(new Date(this.now().getTime() - RESUME_GRACE_MS));
    // Oldest first: a later request of the same incident (a changed plan) replaces an earlier one.
    for (const { request, message } of posted) {
      Object.assign(this.entry(request.incidentId), { request, message, baseBlocks: requestBlocks(request), decisions: [], decided: false });
    }
    for (const incidentId of new Set(posted.map((p) => p.request.incidentId))) this.watch(incidentId);
    if (posted.length > 0) this.deps.logger.info({ requests: posted.length }, 'watching approval requests posted before the restart');
    return posted.length;
  }

  /** The request waiting for a decision on the incident, as the workflow holds it. */
  async pending(incidentId: string): Promise<PendingRequest> {
    checkIncidentId(incidentId);
    return this.deps.workflows.pending(incidentId);
  }

  /** Delivers a decision about one request and plan; throws {@link ApprovalError} saying why it was refused. */
  async decide(incidentId: string, input: DecisionInput): Promise<ApprovalDecisionOutcome> {
    checkIncidentId(incidentId);
    if (input.channel === 'slack') await this.deps.allowList.check(input.approver);
    const signer = this.requireSigner();
    const entry = this.tracked.get(incidentId);
    const now = this.now();
    if (entry?.request?.requestId === input.requestId && now.getTime() >= Date.parse(entry.request.expiresAt)) {
      // The workflow's timer may not have fired yet; a late decision is refused all the same.
      this.settle(incidentId, { kind: 'expired', at: entry.request.expiresAt });
      throw new ApprovalError(APPROVAL_ERROR_CODES.expired, 'This approval request expired before anyone decided; nothing will be applied.');
    }
    const decision: ApprovalDecision = signer.decision({
      requestId: input.requestId,
      planHash: input.planHash,
      decision: input.decision,
      approver: input.approver,
      channel: input.channel,
      ...(input.comment ? { comment: input.comment } : {}),
      decidedAt: now.toISOString(),
    });
    try {
      const outcome = await this.deps.workflows.decide(incidentId, decision);
      const outstanding = decision.decision === 'approve' ? (outcome.approvalsOutstanding ?? 0) : 0;
      this.deps.logger.info(
        { incidentId, requestId: decision.requestId, decision: decision.decision, approver: decision.approver, channel: decision.channel, approvalsOutstanding: outstanding },
        'decision recorded',
      );
      const tracked = this.tracked.get(incidentId);
      if (tracked?.request?.requestId === decision.requestId) {
        tracked.decisions.push(decision);
        tracked.decided = outstanding === 0;
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

  /**
   * A person asks for a new run of an incident's remediation (its earlier run ended). Signed with who asked, so the
   * workflow refuses their own approval and waits for someone else's whatever the policy says; throws
   * {@link ApprovalError} (no such incident, a run still open, not configured, Temporal failed).
   */
  async requestRemediation(incidentId: string, input: RemediationRequestInput): Promise<{ readonly workflowId: string; readonly runId: string; readonly requestedBy: string }> {
    checkIncidentId(incidentId);
    const signer = this.requireSigner();
    const incident = await this.deps.incidents?.getIncident(incidentId);
    if (incident === undefined) throw new ApprovalError(APPROVAL_ERROR_CODES.notFound, `No incident ${incidentId} is recorded (the worker records an incident when its remediation starts).`);
    const requested = signer.request(incidentWorkflowId(incidentId), { requestedBy: input.requestedBy, channel: input.channel, reason: input.reason, requestedAt: this.now().toISOString() });
    // The person says the problem is still there: the new run plans for an open incident (the diagnosis reads the live state).
    const started = await this.deps.workflows.start({ ...incident, status: 'open' }, requested);
    this.deps.logger.info({ incidentId, requestedBy: requested.requestedBy, channel: requested.channel, runId: started.runId }, 'remediation requested by a person');
    return { ...started, requestedBy: requested.requestedBy };
  }

  /** Delivers an operator's cancel; throws {@link ApprovalError} saying why it was refused. */
  async cancel(incidentId: string, input: CancelInput): Promise<CancelOutcome> {
    checkIncidentId(incidentId);
    if (input.channel === 'slack') await this.deps.allowList.check(input.actor);
    const request: CancelRequest = this.requireSigner().cancel(incidentWorkflowId(incidentId), {
      actor: input.actor,
      channel: input.channel,
      reason: input.reason,
      requestedAt: this.now().toISOString(),
    });
    // Known before the update is sent: the workflow may end (and the watch settle the message) before its answer arrives.
    const tracked = this.tracked.get(incidentId);
    const before = tracked?.cancel;
    if (tracked) tracked.cancel = request;
    let outcome: CancelOutcome;
    try {
      outcome = await this.deps.workflows.cancel(incidentId, request);
    } catch (error) {
      if (tracked?.cancel === request) tracked.cancel = before;
      throw error;
    }
    this.deps.logger.info({ incidentId, actor: request.actor, channel: request.channel, state: outcome.state, effect: outcome.effect }, 'cancel recorded');
    if (tracked && !tracked.end) this.settle(incidentId, { kind: 'cancelled', cancel: request });
    return outcome;
  }

  private async handleClick(click: SlackClick): Promise<void> {
    const logger = this.deps.logger;
    const target = click.target;
    try {
      if (!target) {
        throw new ApprovalError(
          APPROVAL_ERROR_CODES.invalid,
          'This button does not name an approval request and plan (an older or altered message); nothing was recorded. Decide on the newest request.',
        );
      }
      if (click.message) {
        const entry = this.entry(target.incidentId);
        entry.message ??= click.message;
        if (!entry.baseBlocks && click.blocks.length > 0) entry.baseBlocks = click.blocks;
        // After a restart nothing watches this workflow yet: the click brings the message back in step.
        this.watch(target.incidentId);
      }
      const known = this.tracked.get(target.incidentId)?.request;
      // One request has one plan: a button naming the request posted with another hash was altered. A button naming
      // another request is left to the workflow (which refuses a stale one): with several replicas, the request this one
      // knows may be the older.
      if (known?.requestId === target.requestId && known.planHash !== target.planHash) throw staleClick();
      await this.decide(target.incidentId, { requestId: target.requestId, planHash: target.planHash, decision: click.decision, approver: click.userId, channel: 'slack' });
    } catch (error) {
      const reason = error instanceof ApprovalError ? error.message : 'The decision could not be recorded; try again.';
      const code = error instanceof ApprovalError ? error.code : APPROVAL_ERROR_CODES.upstream;
      logger.warn({ incidentId: target?.incidentId, user: click.userId, code, err: error }, 'slack decision refused');
      await this.deps.refusals.record({
        channel: 'slack',
        code,
        reason,
        ...(target ? { incidentId: target.incidentId } : {}),
        actor: click.userId,
        input: { decision: click.decision, value: click.rawValue },
      });
      await click.tell(reason).catch((tellError: unknown) => logger.warn({ err: tellError }, 'could not tell the person why'));
    }
  }

  /** Awaits the workflow's end once per incident, then shows the outcome and forgets the incident. */
  private watch(incidentId: string): void {
    const entry = this.entry(incidentId);
    if (entry.watching || this.stopping) return;
    entry.watching = true;
    const watcher = this.deps.workflows
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

  /** Queues one edit of a message; `render` runs when its turn comes, so it shows everything known by then. */
  private edit(incidentId: string, entry: Tracked, render: () => { message: SlackMessageRef; text: string; blocks: readonly KnownBlock[] } | undefined): void {
    const slack = this.deps.slack;
    if (!slack) return;
    entry.edits = entry.edits.then(async () => {
      const next = render();
      if (!next) return;
      try {
        await slack.update(next.message, next.text, next.blocks);
      } catch (error) {
        this.deps.logger.warn({ incidentId, err: error }, 'could not edit the slack message');
      }
    });
  }

  private refreshMessage(incidentId: string): void {
    const entry = this.tracked.get(incidentId);
    const message = entry?.message;
    if (!entry || !message) return;
    this.edit(incidentId, entry, () => {
      const base = entry.baseBlocks ?? (entry.request ? requestBlocks(entry.request) : []);
      const settlement = entry.end ?? (entry.decided ? ({ kind: 'decided', decisions: entry.decisions } as const) : undefined);
      if (settlement) return { message, text: settlementText(settlement), blocks: settledBlocks(base, settlement) };
      const approvals = entry.decisions.filter((d) => d.decision === 'approve');
      if (approvals.length === 0 || !entry.request) return undefined;
      // Not settled yet: a critical plan waits for its second approver; the buttons stay.
      return { message, text: progressText(approvals, entry.request.approvalsRequired), blocks: progressBlocks(base, approvals, entry.request.approvalsRequired) };
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
  if (entry.cancel) return { kind: 'cancelled', cancel: entry.cancel, ...(end.state ? { finalState: end.state } : {}) };
  const requestId = entry.request?.requestId;
  const ended = requestId === undefined ? end.decisions : end.decisions.filter((d) => d.requestId === requestId);
  const decisions = ended.length > 0 ? ended : entry.decisions;
  if (decisions.length > 0) return { kind: 'decided', decisions, ...(end.state ? { finalState: end.state } : {}) };
  return { kind: 'closed', status: end.state ?? end.status ?? 'unknown' };
}
