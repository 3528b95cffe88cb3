/**
 * A circuit breaker around the model: after `threshold` failures in a row the circuit opens and no call is made for
 * `coolDownMs`; then one call is let through (half open): its success closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trial = false;

  constructor(
    private readonly threshold: number,
    private readonly coolDownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a call may go now (in half-open state, only one at a time). */
  allow(): boolean {
    if (this.openedAt === undefined) return true;
    if (this.now() - this.openedAt < this.coolDownMs || this.trial) return false;
    this.trial = true;
    return true;
  }

  get open(): boolean {
    return this.openedAt !== undefined;
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trial = false;
  }

  failure(): void {
    this.failures++;
    if (this.trial || this.failures >= this.threshold) this.openedAt = this.now();
    this.trial = false;
  }
}
