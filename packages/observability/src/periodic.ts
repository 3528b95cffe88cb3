export interface EveryOptions {
  /** When the first run starts (default 0: now, synchronously); the interval's ticks go on from the start regardless. */
  readonly firstAfterMs?: number;
}

/**
 * Runs `work` now (or after `firstAfterMs`) and every `intervalMs` until the returned function is called (which waits
 * for a run in progress). A run still going when the next tick comes is not overtaken (a long walk, a slow server); a
 * failed run is passed to `onError` and the next tick tries again. The timers do not keep the process alive.
 */
export function every(intervalMs: number, work: () => Promise<unknown>, onError: (error: unknown) => void, options: EveryOptions = {}): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const tick = () => {
    running ??= work()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  };
  const firstAfterMs = options.firstAfterMs ?? 0;
  const first = firstAfterMs > 0 ? setTimeout(tick, firstAfterMs).unref() : (tick(), undefined);
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
