import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { every } from './periodic.js';

describe('every — a periodic job', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('every — runs at once, then every interval; stop ends it', async () => {
    const runs: number[] = [];
    const stop = every(1000, async () => void runs.push(Date.now()), () => {});
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2500);
    expect(runs).toHaveLength(3);
    await stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toHaveLength(3);
  });

  it('every — firstAfterMs delays the first run only; stopped before it, nothing runs', async () => {
    let runs = 0;
    const stop = every(1000, async () => void (runs += 1), () => {}, { firstAfterMs: 300 });
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(300);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(700);
    expect(runs).toBe(2);
    await stop();
    let never = 0;
    const stopEarly = every(1000, async () => void (never += 1), () => {}, { firstAfterMs: 300 });
    await stopEarly();
    await vi.advanceTimersByTimeAsync(5000);
    expect(never).toBe(0);
  });

  it('every — a run still going is not overtaken, and a failure goes to onError while the ticks go on', async () => {
    let started = 0;
    const errors: unknown[] = [];
    const stop = every(
      100,
      async () => {
        started += 1;
        if (started === 1) await new Promise((resolve) => setTimeout(resolve, 350));
        else throw new Error(`run ${started} failed`);
      },
      (error) => errors.push(error),
    );
    await vi.advanceTimersByTimeAsync(340);
    expect(started).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(started).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['run 2 failed']);
    await stop();
  });
});
