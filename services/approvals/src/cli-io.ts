import type { Env } from '@cortexops/config';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readonly env?: Env;
  readonly fetch?: typeof fetch;
}

/** Exit codes: accepted; refused (403, 404, 409, or the plan is not the one pinned); usage (400 too); API unreachable or failed. */
export const CLI_EXIT = { accepted: 0, refused: 1, usage: 2, failed: 3 } as const;
export type ExitCode = (typeof CLI_EXIT)[keyof typeof CLI_EXIT];

