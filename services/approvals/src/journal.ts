import type { AuditStore } from '@cortexops/audit';
import { ApprovalRequest } from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';
import { z } from 'zod';
import type { SlackMessageRef } from './slack.js';

const ACTOR = 'cortexops-approvals';
const PAGE = 500;
/** Requests posted longer ago than this are not looked at again (no approval waits a week). */
const LOOKBACK_MS = 7 * 24 * 3600 * 1000;

/** A posted request and where its message is, as written to the audit store. */
export interface PostedRequest {
  readonly request: ApprovalRequest;
  readonly message: SlackMessageRef;
}

const messageRef = z.object({ channel: z.string().min(1).max(64), ts: z.string().min(1).max(64) });

/**
 * Writes each posted approval request to the audit store (`approval.requested`, with the Slack message it
 * became) and reads them back after a restart, so the service can go on watching their workflows and edit
 * the messages when they end — an expiry shows even if the service was down when the request was posted.
 */
export class ApprovalJournal {
  constructor(
    private readonly audit: Pick<AuditStore, 'append' | 'query'>,
    private readonly logger: Logger,
  ) {}

  async recordPosted({ request, message }: PostedRequest): Promise<void> {
    await this.audit.append({
      idempotencyKey: `approvals/requested/${request.requestId}`,
      incidentId: request.incidentId,
      workflowId: request.workflowId,
      kind: 'approval.requested',
      actor: ACTOR,
      occurredAt: request.requestedAt,
      payload: { request, message: { channel: message.channel, ts: message.ts } },
    });
  }

  /** Requests posted by this service (in the last week) whose expiry is later than `expiringAfter`, oldest first. */
  async expiringAfter(expiringAfter: Date): Promise<PostedRequest[]> {
    const from = new Date(expiringAfter.getTime() - LOOKBACK_MS).toISOString();
    const found: PostedRequest[] = [];
    let afterSequence: number | undefined;
    do {
      const page = await this.audit.query({ kinds: ['approval.requested'], actor: ACTOR, from, limit: PAGE, ...(afterSequence === undefined ? {} : { afterSequence }) });
      for (const record of page.records) {
        const request = ApprovalRequest.validate(record.payload['request']);
        const message = messageRef.safeParse(record.payload['message']);
        if (!request.ok || !message.success) {
          this.logger.warn({ sequence: record.sequence }, 'an approval.requested record cannot be read back; its message is not watched');
          continue;
        }
        if (Date.parse(request.value.expiresAt) > expiringAfter.getTime()) found.push({ request: request.value, message: message.data });
      }
      afterSequence = page.nextAfterSequence;
    } while (afterSequence !== undefined);
    return found;
  }
}
