import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const PROBE_TIMEOUT_MS = 2000;
const run = promisify(execFile);

/** Resolves when `url` answers 2xx. */
export async function httpOk(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
}

/** Resolves when the command exits 0 (its stderr is the reason otherwise). */
export async function commandOk(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(command, [...args], { timeout: PROBE_TIMEOUT_MS * 2 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error((e.stderr ?? '').trim() || e.message);
  }
}
