#!/usr/bin/env -S node --import tsx
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { correlatorSpec, jetstreamSpec, loadConfig, natsSpec } from '@cortexops/config';
import { applyNatsLayoutAs, cortexopsKvBuckets, cortexopsObjectStores } from './admin.js';
import { createUserSeed, userPublicKey } from './nkeys.js';
import { NATS_USERS } from './permissions.js';
import { natsServerConfig } from './server-config.js';

/**
 * cortexops-admin — the NATS administration CortexOps needs (the admin user's, never a service's):
 *   nats apply                 create or update the streams, KV buckets and object stores (idempotent); run it before
 *                              the services start and after an upgrade (Kubernetes: the cortexops-nats-apply Job)
 *   nats keys --out DIR        a new nkey seed per user (DIR/<user>.nk, 0600; an existing file is kept)
 *   nats server-config ...     nats-server's configuration (accounts, users with their permissions, TLS) from the
 *                              seeds' or the public keys' files, printed on stdout; it holds public keys only
 * Exit codes: 0 done, 1 the work failed, 2 usage.
 */
const USERS = [...NATS_USERS, 'system'] as const;
type User = (typeof USERS)[number];

const USAGE = `usage:
  cortexops-admin nats apply            (CORTEXOPS_NATS_URL, CORTEXOPS_NATS_NKEY_SEED_FILE of the admin user, CORTEXOPS_NATS_CA_FILE, ...)
  cortexops-admin nats keys --out DIR
  cortexops-admin nats server-config --keys DIR [--listen 0.0.0.0:4222] [--http 0.0.0.0:8222] [--store-dir /data]
        [--server-name cortexops] [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--verify-clients]]
  (--keys DIR: each user's <user>.nk seed or <user>.pub public key; a user may have several in <user>.pub, one a line)`;

class UsageError extends Error {}

function keys(out: string): void {
  mkdirSync(out, { recursive: true, mode: 0o700 });
  for (const user of USERS) {
    const file = join(out, `${user}.nk`);
    if (!existsSync(file)) writeFileSync(file, `${createUserSeed()}\n`, { mode: 0o600, flag: 'wx' });
    process.stdout.write(`${user}\t${userPublicKey(readFileSync(file, 'utf8'))}\t${file}\n`);
  }
}

/** A user's public keys: every line of `<user>.pub` (rotation: old and new), else the key of `<user>.nk`. */
function publicKeysOf(dir: string, user: User): string[] {
  const pub = join(dir, `${user}.pub`);
  if (existsSync(pub)) return readFileSync(pub, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const seed = join(dir, `${user}.nk`);
  if (existsSync(seed)) return [userPublicKey(readFileSync(seed, 'utf8'))];
  throw new UsageError(`no ${user}.pub or ${user}.nk in ${dir}`);
}

function serverConfig(values: Record<string, string | boolean | undefined>): void {
  const dir = values.keys;
  if (typeof dir !== 'string') throw new UsageError('--keys DIR is required');
  const str = (name: string, fallback: string): string => {
    const value = values[name];
    return typeof value === 'string' ? value : fallback;
  };
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((typeof cert === 'string') !== (typeof key === 'string')) throw new UsageError('--tls-cert and --tls-key go together');
  const ca = values['tls-ca'];
  process.stdout.write(
    natsServerConfig({
      serverName: str('server-name', 'cortexops'),
      listen: str('listen', '0.0.0.0:4222'),
      http: str('http', '0.0.0.0:8222'),
      storeDir: str('store-dir', '/data'),
      ...(typeof cert === 'string' && typeof key === 'string'
        ? { tls: { certFile: cert, keyFile: key, ...(typeof ca === 'string' ? { caFile: ca } : {}), verifyClients: values['verify-clients'] === true } }
        : {}),
      publicKeys: Object.fromEntries(USERS.map((user) => [user, publicKeysOf(dir, user)])) as Record<User, string[]>,
    }),
  );
}

async function apply(): Promise<void> {
  const nats = loadConfig(natsSpec);
  const settings = loadConfig(jetstreamSpec);
  const { stateTtlMs } = loadConfig({ stateTtlMs: correlatorSpec.stateTtlMs });
  const layout = await applyNatsLayoutAs(nats, { layout: { settings }, buckets: cortexopsKvBuckets({ correlatorTtlMs: stateTtlMs }), objectStores: cortexopsObjectStores(settings) });
  process.stdout.write(`applied: streams ${Object.values(layout.streams).join(', ')}; KV buckets and object stores of every service\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      keys: { type: 'string' },
      listen: { type: 'string' },
      http: { type: 'string' },
      'store-dir': { type: 'string' },
      'server-name': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'verify-clients': { type: 'boolean' },
    },
  });
  const [area, command] = positionals;
  if (area !== 'nats') throw new UsageError(`unknown area ${JSON.stringify(area ?? '')}`);
  if (command === 'apply') await apply();
  else if (command === 'keys') {
    if (values.out === undefined) throw new UsageError('--out DIR is required');
    keys(values.out);
  } else if (command === 'server-config') serverConfig(values);
  else throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`cortexops-admin: ${error instanceof Error ? error.message : String(error)}\n${usage ? `${USAGE}\n` : ''}`);
    process.exit(usage ? 2 : 1);
  },
);
