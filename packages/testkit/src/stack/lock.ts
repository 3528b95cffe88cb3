import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './process.js';

/**
 * A cross-process lock (a directory created atomically), so that parallel test workers and a
 * concurrent `make up` never install or start the same server twice. A holder that died is evicted.
 */
export async function withFileLock<T>(path: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const owner = join(path, 'owner');
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(owner, String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(owner, 'utf8'));
      } catch {
        // the holder has created the directory but not yet written its pid
      }
      if (Number.isInteger(holder) && holder !== process.pid && !isAlive(holder)) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for lock ${path} held by pid ${holder}`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}
