import { randomUUID } from 'node:crypto';
import type { AuditWriter } from '@cortexops/audit';
import { identifier } from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';

const MAX_KEPT_INPUT = 2000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export interface Refusal {
  /** Where the attempt came from. */
  readonly channel: 'slack' | 'http';
  /** An `APPROVAL_ERROR_CODES` value, or the Slack receiver's reason (`SIGNATURE_INVALID`, `STALE_TIMESTAMP`, `REPLAY`). */
  readonly code: string;
  readonly reason: string;
  readonly incidentId?: string;
  /** Who tried, as far as we know (a Slack user id, an approver name); never a credential. */
  readonly actor?: string;
  /** A bounded copy of what was sent, so that it can be looked at. */
  readonly input?: unknown;
}

/** PostgreSQL refuses NUL and unpaired surrogates in text: hostile input is kept escaped, not lost. */
function storable(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD').replaceAll('\u0000', '\\u0000');
}

function kept(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  return storable(text.length > MAX_KEPT_INPUT ? `${text.slice(0, MAX_KEPT_INPUT)}…` : text);
}

/**
 * Every refused approval attempt is kept in the audit store (kind `approval.refused`) with its reason, so a
 * forged, replayed, late or unauthorised attempt is on the record, not only in a log. A store that cannot be
 * written does not turn a refusal into an acceptance: the refusal stands and the failure is logged.
 */
export class RefusalLog {
  constructor(
    private readonly audit: Pick<AuditWriter, 'append'>,
    private readonly logger: Logger,
  ) {}

  async record(refusal: Refusal): Promise<void> {
    const incidentId = refusal.incidentId !== undefined && identifier.safeParse(refusal.incidentId).success ? refusal.incidentId : undefined;
    const input = kept(refusal.input);
    try {
      await this.audit.append({
        idempotencyKey: `approvals/refused/${randomUUID()}`,
        ...(incidentId === undefined ? {} : { incidentId }),
        kind: 'approval.refused',
        actor: storable(refusal.actor?.slice(0, 256) || `${refusal.channel}:unknown`),
        occurredAt: new Date().toISOString(),
        payload: { channel: refusal.channel, code: refusal.code, reason: storable(refusal.reason), ...(input === undefined ? {} : { input }) },
      });
    } catch (error) {
      this.logger.error({ err: error, code: refusal.code, channel: refusal.channel }, 'could not write a refused approval attempt to the audit store');
    }
  }
}
