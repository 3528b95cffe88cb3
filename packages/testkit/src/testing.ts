import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { LOCAL_HOST, STACK_PORT_DEFAULTS } from '@cortexops/config';
import { SEARCH_ATTRIBUTES } from '@cortexops/contracts';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import pg from 'pg';
import { createStackContext } from './stack/context.js';
import { createLauncher, type Launcher } from './stack/launcher.js';
import { ALL_SERVERS, absentOptionalServer } from './stack/registry.js';
import { createDatabaseIfMissing, postgresUrl } from './stack/servers/postgres.js';
import { stackPorts } from './stack/context.js';
import type { StackContext } from './stack/types.js';

let shared: Launcher | undefined;

/** The launcher of the shared local stack (the one `make up` starts). */
export function sharedStack(): Launcher {
  shared ??= createLauncher(createStackContext(), ALL_SERVERS);
  return shared;
}

/** Starts the named servers (and what they need) unless they already run; returns the stack context. */
export async function ensureServers(names: readonly string[]): Promise<StackContext> {
  const absent = names.map(absentOptionalServer).find((reason) => reason !== undefined);
  if (absent !== undefined) throw new Error(absent);
  const launcher = sharedStack();
  await launcher.up(names);
  return launcher.ctx;
}

/** A lowercase name no other test run uses: `<prefix>_<time>_<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`.toLowerCase();
}

/**
 * Ports handed to test servers come from below Linux's ephemeral range (32768–60999 by default): a port the kernel
 * picked for us (`listen(0)`) is from that range, and between our check and the server's bind any outgoing connection
 * of any process may take it as its local port — which made a private NATS fail to start now and then.
 */
const TEST_PORTS = { from: 20_000, to: 32_000 } as const;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, LOCAL_HOST, () => server.close(() => resolve(true)));
  });
}

/** A port free right now, outside the ephemeral range (random, so parallel test files rarely pick the same). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = TEST_PORTS.from + Math.floor(Math.random() * (TEST_PORTS.to - TEST_PORTS.from));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${TEST_PORTS.from} and ${TEST_PORTS.to} after 200 tries`);
}

export interface PrivateStack {
  readonly launcher: Launcher;
  readonly ctx: StackContext;
  /** Stops its servers and deletes its data. */
  dispose(): Promise<void>;
}

/**
 * A private instance of stack servers on fresh ports with its own data, for tests that stop,
 * kill or restart servers. Tools come from the shared cache.
 */
export async function privateStack(name: string): Promise<PrivateStack> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const variable of Object.keys(STACK_PORT_DEFAULTS)) env[variable] = String(await freePort());
  const ctx = createStackContext({ env, instance: uniqueName(name), log: () => {} });
  const launcher = createLauncher(ctx, ALL_SERVERS);
  return {
    launcher,
    ctx,
    dispose: async () => {
      await launcher.down();
      rmSync(ctx.dataDir.replace(/\/data$/, ''), { recursive: true, force: true });
    },
  };
}

export function natsUrl(ctx: StackContext): string {
  return `nats://${LOCAL_HOST}:${stackPorts(ctx).natsPort}`;
}

export function temporalAddress(ctx: StackContext): string {
  return `${LOCAL_HOST}:${stackPorts(ctx).temporalPort}`;
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh logical database for one test (or file), dropped afterwards. */
export async function createTestDatabase(ctx: StackContext, prefix = 'test'): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  await createDatabaseIfMissing(ctx, name);
  return {
    name,
    url: postgresUrl(ctx, name),
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresUrl(ctx, 'postgres') });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A fresh Temporal namespace with CortexOps' search attributes, ready for workflows.
 * Namespaces are not deleted (the dev server keeps them cheaply); their names never repeat.
 */
export async function createTestNamespace(ctx: StackContext, prefix = 'test'): Promise<string> {
  const namespace = uniqueName(prefix).replace(/_/g, '-');
  const connection = await Connection.connect({ address: temporalAddress(ctx) });
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const searchAttributes = Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, 2 /* KEYWORD */]));
    for (let attempt = 0; ; attempt++) {
      try {
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
        break;
      } catch (error) {
        // A just-registered namespace takes a moment to reach every frontend cache.
        if (attempt > 50) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await connection.close();
  }
  return namespace;
}
