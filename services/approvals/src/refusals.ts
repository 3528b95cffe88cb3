import { randomUUID } from 'node:crypto';
import type { AuditWriter } from '@cortexops/audit';
import { identifier } from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

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

export interface RefusalLogOptions {
  /** Refused attempts of one kind (channel and code) stored one by one per minute; more are counted. */
  readonly perMinute: number;
  /** Counts each refusal by channel, code and whether it was stored one by one. */
  readonly counted?: (channel: Refusal['channel'], code: string, stored: boolean) => void;
}

interface Suppressed {
  readonly channel: Refusal['channel'];
  readonly code: string;
  count: number;
  readonly firstAt: string;
  lastAt: string;
}

/**
 * Every refused approval attempt is kept in the audit store (kind `approval.refused`) with its reason, so a
 * forged, replayed, late or unauthorised attempt is on the record, not only in a log. A store that cannot be
 * written does not turn a refusal into an acceptance: the refusal stands and the failure is logged.
 *
 * A flood must not become a flood of audit rows (anyone who can reach the endpoint could fill the database):
 * beyond `perMinute` refusals of one kind, attempts are counted instead, and one summary row per kind says how
 * many were not stored one by one and between when. Summaries are written each minute and at `close`.
 */
export class RefusalLog {
  private readonly limiter: RateLimiterMemory;
  private readonly suppressed = new Map<string, Suppressed>();
  private readonly timer: NodeJS.Timeout;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly audit: Pick<AuditWriter, 'append'>,
    private readonly logger: Logger,
    private readonly options: RefusalLogOptions,
  ) {
    this.limiter = new RateLimiterMemory({ points: options.perMinute, duration: 60 });
    this.timer = setInterval(() => void this.track(this.flush()), 60_000);
    this.timer.unref();
  }

  private track(work: Promise<void>): Promise<void> {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return work;
  }

  record(refusal: Refusal): Promise<void> {
    return this.track(this.recordNow(refusal));
  }

  private async recordNow(refusal: Refusal): Promise<void> {
    const kind = `${refusal.channel}:${refusal.code}`;
    const stored = await this.admit(kind, refusal);
    this.options.counted?.(refusal.channel, refusal.code, stored);
    if (!stored) return;
    const incidentId = refusal.incidentId !== undefined && identifier.safeParse(refusal.incidentId).success ? refusal.incidentId : undefined;
    const input = kept(refusal.input);
    await this.append(
      { channel: refusal.channel, code: refusal.code, reason: storable(refusal.reason), ...(input === undefined ? {} : { input }) },
      storable(refusal.actor?.slice(0, 256) || `${refusal.channel}:unknown`),
      incidentId,
    );
  }

  /** True when this refusal is stored one by one; otherwise it is counted towards the kind's summary. */
  private async admit(kind: string, { channel, code }: Refusal): Promise<boolean> {
    try {
      await this.limiter.consume(kind);
      return true;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        // The limiter itself failed: keep the record rather than lose it.
        this.logger.error({ err: error, kind }, 'refusal rate limiter failed; storing the refusal');
        return true;
      }
      const now = new Date().toISOString();
      const entry = this.suppressed.get(kind);
      if (entry) {
        entry.count += 1;
        entry.lastAt = now;
      } else {
        this.suppressed.set(kind, { channel, code, count: 1, firstAt: now, lastAt: now });
        this.logger.warn({ kind, perMinute: this.options.perMinute }, 'refused approval attempts above the per-minute limit: counting them instead of storing each');
      }
      return false;
    }
  }

  /** Writes one summary row per kind of refusal counted since the last summary. */
  async flush(): Promise<void> {
    const entries = [...this.suppressed.values()];
    this.suppressed.clear();
    for (const { channel, code, ...entry } of entries) {
      await this.append(
        {
          channel,
          code,
          reason: `${entry.count} more refused attempts of this kind were counted, not stored one by one (limit ${this.options.perMinute} per minute)`,
          suppressed: entry.count,
          firstAt: entry.firstAt,
          lastAt: entry.lastAt,
        },
        `${channel}:flood`,
        undefined,
      );
    }
  }

  /** Waits for refusals being written and writes the last summaries. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.pending]);
    await this.flush();
  }

  private async append(payload: Record<string, unknown>, actor: string, incidentId: string | undefined): Promise<void> {
    try {
      await this.audit.append({
        idempotencyKey: `approvals/refused/${randomUUID()}`,
        ...(incidentId === undefined ? {} : { incidentId }),
        kind: 'approval.refused',
        actor,
        occurredAt: new Date().toISOString(),
        payload,
      });
    } catch (error) {
      this.logger.error({ err: error, code: payload['code'], channel: payload['channel'] }, 'could not write a refused approval attempt to the audit store');
    }
  }
}
