import type { AuditCheckpoint } from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';
import { type CheckpointKeys, type CheckpointStore, openCheckpoint, signCheckpoint } from './checkpoint.js';
import type { VerifyResult } from './verify.js';

/** What the checkpointer needs of the store. */
export interface VerifiableChain {
  verify(options?: { checkpoint?: AuditCheckpoint; from?: AuditCheckpoint }): Promise<VerifyResult>;
}

export type CheckpointOutcome =
  | { readonly ok: true; readonly checkpoint: AuditCheckpoint; readonly previous?: AuditCheckpoint }
  | { readonly ok: false; readonly result: Extract<VerifyResult, { ok: false }>; readonly previous?: AuditCheckpoint };

/**
 * Keeps the audit chain's head signed outside PostgreSQL. A new checkpoint is written only after the rows since the
 * last one were checked to extend it (so a rewritten chain is never signed over), and `verify` checks the whole chain
 * against the last one: a rewrite by a role that can write the rows — even with every hash recomputed — is seen.
 * What changed after the last checkpoint is covered by the hash chain only; checkpoint often (every minute).
 */
export class AuditCheckpointer {
  constructor(
    private readonly chain: VerifiableChain,
    private readonly store: CheckpointStore,
    private readonly keys: CheckpointKeys,
    private readonly logger?: Logger,
  ) {}

  get location(): string {
    return this.store.location;
  }

  /** The last checkpoint, its signature checked (undefined before the first). */
  async last(): Promise<AuditCheckpoint | undefined> {
    const raw = await this.store.read();
    return raw === undefined ? undefined : openCheckpoint(raw, this.keys);
  }

  /** The whole chain, checked against the last checkpoint. */
  async verify(): Promise<VerifyResult> {
    const checkpoint = await this.last();
    return this.chain.verify(checkpoint ? { checkpoint } : {});
  }

  /** Checks the rows since the last checkpoint and signs the current head. */
  async checkpoint(): Promise<CheckpointOutcome> {
    const previous = await this.last();
    const result = await this.chain.verify(previous ? { from: previous, checkpoint: previous } : {});
    const prior = previous ? { previous } : {};
    if (!result.ok) {
      this.logger?.error({ reason: result.reason, firstBadSequence: result.firstBadSequence, detail: result.detail }, 'audit chain broken: no checkpoint written');
      return { ok: false, result, ...prior };
    }
    const checkpoint = signCheckpoint({ sequence: result.headSequence, hash: result.headHash }, this.keys);
    await this.store.write(checkpoint);
    this.logger?.debug({ sequence: checkpoint.sequence, location: this.store.location }, 'audit checkpoint written');
    return { ok: true, checkpoint, ...prior };
  }

  /**
   * Checkpoints now and every `intervalMs` until the returned function is called (which waits for a checkpoint in
   * progress). A failed round is logged and tried again at the next tick.
   */
  every(intervalMs: number): () => Promise<void> {
    let running: Promise<unknown> | undefined;
    const tick = () => {
      // A round still in progress (a long chain, a slow database) is not overtaken by the next one.
      running ??= this.checkpoint()
        .catch((error: unknown) => this.logger?.error({ err: error, location: this.store.location }, 'audit checkpoint failed'))
        .finally(() => {
          running = undefined;
        });
    };
    tick();
    const timer = setInterval(tick, intervalMs);
    return async () => {
      clearInterval(timer);
      await running;
    };
  }
}
