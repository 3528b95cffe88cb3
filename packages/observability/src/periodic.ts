/**
 * Runs `work` now and every `intervalMs` until the returned function is called (which waits for a run in progress).
 * A run still going when the next tick comes is not overtaken (a long walk, a slow server); a failed run is passed to
 * `onError` and the next tick tries again. The timer does not keep the process alive.
 */
export function every(intervalMs: number, work: () => Promise<unknown>, onError: (error: unknown) => void): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const tick = () => {
    running ??= work()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
