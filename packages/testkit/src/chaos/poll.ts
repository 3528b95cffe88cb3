import { setTimeout as sleep } from 'node:timers/promises';
import type { ScenarioContext } from './runner.js';

const POLL_MS = 250;

/**
 * Polls `read` until it returns a value, for as long as the scenario has time; fails naming `what` (and the last error
 * seen) when the scenario's deadline passes first.
 */
export async function pollUntil<T>(
  scenario: Pick<ScenarioContext, 'signal' | 'remainingMs' | 'step'>,
  what: string,
  read: () => Promise<T | undefined>,
  /** What was seen instead, for the failure message. */
  seen?: () => string,
): Promise<T> {
  let last: unknown;
  scenario.step(`waiting for ${what}`);
  while (!scenario.signal.aborted && scenario.remainingMs() > 0) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`${what}: did not happen in time${seen ? ` (${seen()})` : ''}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
