import { AuditCheckpointError, type ChainHead, type VerifyOptions, type VerifyResult } from '@cortexops/audit';
import { OPERATIONS_METRICS } from '@cortexops/contracts';
import { every, type Logger } from '@cortexops/observability';
import { Gauge, type Registry } from 'prom-client';

export interface ChainWatchOptions {
  /** How often the rows appended since the last check are checked. */
  readonly intervalMs: number;
  /** How often the whole chain is walked again (a row changed before the last check is seen then). */
  readonly fullIntervalMs: number;
}

export interface ChainWatchDeps {
  readonly chain: { verify(options?: VerifyOptions): Promise<VerifyResult> };
  /** The last signed checkpoint (its signature checked; an `AuditCheckpointError` when it cannot be trusted). */
  readonly checkpoints?: { last(): Promise<ChainHead | undefined> };
  readonly registry: Registry;
  readonly logger: Logger;
  readonly now?: () => number;
}

export type ChainCheck = { readonly kind: 'full' | 'incremental'; readonly ok: boolean; readonly reason?: string; readonly headSequence?: number };

const same = (a: ChainHead | undefined, b: ChainHead | undefined) => a?.sequence === b?.sequence && a?.hash === b?.hash;

/**
 * `cortexops_audit_chain_valid` on a timer, never per scrape. Each check walks only the rows appended since the last
 * one (the row it ended at must still carry the hash it had: a rewrite up to there with recomputed hashes is seen at
 * once), and every `fullIntervalMs` the whole chain (a row before the last check changed without recomputing the
 * hashes after it is seen then). With a signed checkpoint configured, the chain must also match it: a checkpoint newer
 * than the last check is crossed by the incremental walk; a new one behind it, or one that cannot be trusted, makes
 * the next check a full one or fails it. A broken chain stays 0 until a full walk passes again (a restore).
 * A check that cannot run (PostgreSQL down) changes nothing: the gauge keeps its value and the failure is logged.
 */
export class AuditChainWatch {
  private readonly valid: Gauge;
  private readonly verifiedSequence: Gauge;
  private readonly seconds: Gauge<'kind'>;
  private verified: ChainHead | undefined;
  private checkpointSeen: ChainHead | undefined;
  private lastFullAt = 0;
  private lastFailure: string | undefined;

  constructor(
    private readonly options: ChainWatchOptions,
    private readonly deps: ChainWatchDeps,
  ) {
    const registers = [deps.registry];
    this.valid = new Gauge({ name: OPERATIONS_METRICS.auditChainValid, help: '1 when the last check of the audit hash chain (and its signed checkpoint, when configured) passed, 0 when a row was changed, removed or inserted out of order', registers });
    this.verifiedSequence = new Gauge({ name: OPERATIONS_METRICS.auditChainVerifiedSequence, help: 'The last audit row checked and found intact', registers });
    this.seconds = new Gauge({ name: OPERATIONS_METRICS.auditChainCheckSeconds, help: 'Seconds the last check of the audit chain took, by kind (incremental: the rows since the last check; full: the whole chain)', labelNames: ['kind'], registers });
  }

  private get now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** One check: the whole chain when due (or never checked), else the rows since the last one. */
  async check(): Promise<ChainCheck> {
    let checkpoint: ChainHead | undefined;
    try {
      checkpoint = await this.deps.checkpoints?.last();
    } catch (error) {
      if (!(error instanceof AuditCheckpointError)) throw error;
      return this.broken('full', 'checkpoint-invalid', error.message);
    }
    const behind = checkpoint !== undefined && this.verified !== undefined && checkpoint.sequence < this.verified.sequence && !same(checkpoint, this.checkpointSeen);
    const kind = this.verified === undefined || behind || this.now - this.lastFullAt >= this.options.fullIntervalMs ? 'full' : 'incremental';
    const started = performance.now();
    const result = await this.deps.chain.verify({ ...(checkpoint ? { checkpoint } : {}), ...(kind === 'incremental' && this.verified ? { from: this.verified } : {}) });
    this.seconds.set({ kind }, (performance.now() - started) / 1000);
    if (!result.ok) return this.broken(kind, result.reason, result.detail, result.firstBadSequence);
    this.verified = { sequence: result.headSequence, hash: result.headHash };
    this.checkpointSeen = checkpoint;
    if (kind === 'full') this.lastFullAt = this.now;
    this.valid.set(1);
    this.verifiedSequence.set(result.headSequence);
    if (this.lastFailure !== undefined) this.deps.logger.info({ headSequence: result.headSequence }, 'audit chain verifies again');
    this.lastFailure = undefined;
    return { kind, ok: true, headSequence: result.headSequence };
  }

  private broken(kind: ChainCheck['kind'], reason: string, detail: string, firstBadSequence?: number): ChainCheck {
    this.valid.set(0);
    // Checked from the genesis again next time: nothing after the break can be trusted until a full walk passes.
    this.verified = undefined;
    if (this.lastFailure !== `${reason} ${detail}`) this.deps.logger.error({ reason, detail, firstBadSequence }, 'audit chain broken');
    this.lastFailure = `${reason} ${detail}`;
    return { kind, ok: false, reason };
  }

  /** Checks now and every `intervalMs` until the returned function is called (which waits for a check in progress). */
  start(): () => Promise<void> {
    return every(this.options.intervalMs, () => this.check(), (error) => this.deps.logger.warn({ err: error }, 'audit chain check could not run; the gauge keeps its value'));
  }
}
