import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST, loadConfig, natsSpec } from '@cortexops/config';
import { createUserSeed, natsConnectOptions as clientOptions, natsServerConfig, NATS_USERS, userPublicKey, type NatsUser } from '@cortexops/messaging';
import type { ConnectionOptions } from 'nats';
import { stackPorts } from './context.js';
import { ensurePki, generateLeaf } from './servers/kubernetes/pki.js';
import { pkiDir, pkiFile } from './servers/kubernetes/paths.js';
import type { StackContext } from './types.js';

/**
 * The local NATS's accounts, users and TLS: one nkey per user generated once per cache (the seed 0600 in
 * `<data>/nats-auth/<user>.nk`, never printed; the server's configuration holds only the public keys), the server's
 * certificate issued by the stack's local CA (the one of the Kubernetes control plane and its clients), and the
 * server's configuration file written from them (packages/messaging `natsServerConfig`).
 */
const authDir = (ctx: StackContext) => join(ctx.dataDir, 'nats-auth');
const SERVER_CERT = 'nats-server';

/** Every user of the stack's NATS, the system account's included. */
export type StackNatsUser = NatsUser | 'system';

/** The file of `user`'s nkey seed, generated once (mode 0600; a file already there stands). */
export function natsSeedFile(ctx: StackContext, user: StackNatsUser): string {
  const file = join(authDir(ctx), `${user}.nk`);
  if (!existsSync(file)) {
    mkdirSync(authDir(ctx), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${createUserSeed()}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return file;
}

function publicKeyOf(seedFile: string): string {
  return userPublicKey(readFileSync(seedFile, 'utf8'));
}

/** The configuration file the stack's nats-server runs from; its presence says the server runs with accounts and TLS. */
export function natsConfigFile(ctx: StackContext): string {
  return join(authDir(ctx), 'nats-server.conf');
}

/** The CA clients verify the stack's NATS with (the stack's local CA). */
export function natsCaFile(ctx: StackContext): string {
  return pkiFile(ctx, 'ca.crt');
}

/**
 * True when the stack's NATS was started with accounts and TLS (its configuration file exists: written when the server
 * starts). A NATS started before this change runs without them until it is restarted; clients follow what it runs.
 */
export function natsSecured(ctx: StackContext): boolean {
  return existsSync(natsConfigFile(ctx));
}

/** Issues the server's certificate from the local CA (once) and writes the configuration; returns its path. */
export async function writeNatsServerConfig(ctx: StackContext, storeDir: string, serverName: string): Promise<string> {
  await ensurePki(ctx);
  if (!existsSync(pkiFile(ctx, `${SERVER_CERT}.crt`))) {
    await generateLeaf(pkiDir(ctx), { stem: SERVER_CERT, subject: '/CN=cortexops-nats', usage: 'serverAuth', altNames: [`IP:${LOCAL_HOST}`, 'DNS:localhost'] });
  }
  const ports = stackPorts(ctx);
  const publicKeys = Object.fromEntries([...NATS_USERS, 'system'].map((user) => [user, [publicKeyOf(natsSeedFile(ctx, user as StackNatsUser))]])) as Record<StackNatsUser, string[]>;
  const text = natsServerConfig({
    serverName,
    listen: `${LOCAL_HOST}:${ports.natsPort}`,
    http: `${LOCAL_HOST}:${ports.natsMonitorPort}`,
    storeDir,
    tls: { certFile: pkiFile(ctx, `${SERVER_CERT}.crt`), keyFile: pkiFile(ctx, `${SERVER_CERT}.key`), caFile: natsCaFile(ctx) },
    publicKeys,
  });
  const file = natsConfigFile(ctx);
  const temp = `${file}.${process.pid}`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, file);
  return file;
}

/**
 * The environment a process connecting to the stack's NATS as `user` needs: `CORTEXOPS_NATS_URL`, and with accounts
 * and TLS on, `CORTEXOPS_NATS_NKEY_SEED_FILE` and `CORTEXOPS_NATS_CA_FILE`. Tests spread it into a service's
 * environment (`...natsEnv(ctx)`: admin, which may use a test's own stream names).
 */
export function natsEnv(ctx: StackContext, user: NatsUser = 'admin'): Record<string, string> {
  const url = `nats://${LOCAL_HOST}:${stackPorts(ctx).natsPort}`;
  if (!natsSecured(ctx)) return { CORTEXOPS_NATS_URL: url };
  return { CORTEXOPS_NATS_URL: url, CORTEXOPS_NATS_NKEY_SEED_FILE: natsSeedFile(ctx, user), CORTEXOPS_NATS_CA_FILE: natsCaFile(ctx) };
}

/** Connection options for the stack's NATS as `user` (default admin: manages streams, any subject). */
export function natsConnectOptions(ctx: StackContext, user: NatsUser = 'admin'): ConnectionOptions {
  return clientOptions(loadConfig(natsSpec, natsEnv(ctx, user)), user);
}

/** The admin's connection options (stream and bucket management, backups and restores). */
export function natsAdminConnectOptions(ctx: StackContext): ConnectionOptions {
  return natsConnectOptions(ctx, 'admin');
}
