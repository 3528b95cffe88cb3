import type { Env } from '@cortexops/config';

/** Where the stack keeps things, and the environment it was started with. */
export interface StackContext {
  readonly repoRoot: string;
  readonly cacheDir: string;
  /** Versioned installs: `tools/<name>-<version>/`. */
  readonly toolsDir: string;
  /** Per-instance state: `data/<instance>/`. */
  readonly dataDir: string;
  readonly logDir: string;
  readonly runDir: string;
  readonly env: Env;
  log(message: string): void;
}

/** A port a server listens on, and the variable that moves it (named in errors). */
export interface PortBinding {
  readonly variable: string;
  readonly port: number;
}

export interface LaunchCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Servers that refuse to run as root (PostgreSQL) run as an unprivileged user when we are root. */
  readonly unprivileged?: boolean;
}

/**
 * One server of the local stack. To add a server, write one of these and list it in `registry.ts`.
 * Every step must be idempotent: `up` calls them again on each run.
 */
export interface ServerDefinition {
  readonly name: string;
  readonly description: string;
  /** Servers started before this one. */
  readonly dependsOn?: readonly string[];
  /** Group: `stack` (infrastructure) or `services` (CortexOps' own processes). */
  readonly group: 'stack' | 'services';
  ports(ctx: StackContext): readonly PortBinding[];
  /** Installs what is missing into `ctx.toolsDir`; a no-op when the pinned version is cached. */
  install(ctx: StackContext): Promise<void>;
  /** Creates the data directory and configuration (idempotent). */
  prepare?(ctx: StackContext): Promise<void>;
  command(ctx: StackContext): LaunchCommand;
  /** Resolves when the server answers; rejects with the reason otherwise. */
  probe(ctx: StackContext): Promise<void>;
  /** One-off set-up after the first healthy start (databases, search attributes); idempotent. */
  afterStart?(ctx: StackContext): Promise<void>;
  /** Signal for a graceful stop (default SIGTERM). */
  readonly stopSignal?: NodeJS.Signals;
  /** How long a start may take before it is a failure. */
  readonly startTimeoutMs?: number;
  /** Where it listens, for people: name → URL. */
  endpoints(ctx: StackContext): Readonly<Record<string, string>>;
}
