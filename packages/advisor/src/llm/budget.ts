import { LRUCache } from 'lru-cache';

const HOUR_MS = 3_600_000;

/**
 * Token budgets of the advisor: per incident (what its calls used so far; the incident is remembered a day, at most
 * 10,000 incidents) and per rolling hour (all calls). A call may start while both have room left; what it used is
 * added after it.
 */
export class TokenBudget {
  private readonly perIncident = new LRUCache<string, number>({ max: 10_000, ttl: 24 * HOUR_MS });
  private readonly spent: { at: number; tokens: number }[] = [];

  constructor(
    private readonly incidentLimit: number,
    private readonly hourLimit: number,
    private readonly now: () => number = Date.now,
  ) {}

  private hourSpent(): number {
    const since = this.now() - HOUR_MS;
    while (this.spent.length > 0 && (this.spent[0]?.at ?? 0) <= since) this.spent.shift();
    return this.spent.reduce((s, e) => s + e.tokens, 0);
  }

  /** Why no call may start for this incident now, or undefined. */
  exhausted(incidentId: string): string | undefined {
    const incident = this.perIncident.get(incidentId) ?? 0;
    if (incident >= this.incidentLimit) return `this incident used ${incident} of its ${this.incidentLimit} tokens`;
    const hour = this.hourSpent();
    if (hour >= this.hourLimit) return `the last hour used ${hour} of its ${this.hourLimit} tokens`;
    return undefined;
  }

  add(incidentId: string, tokens: number): void {
    if (!(tokens > 0)) return;
    this.perIncident.set(incidentId, (this.perIncident.get(incidentId) ?? 0) + tokens);
    this.spent.push({ at: this.now(), tokens });
  }
}
