import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, natsSpec } from '@cortexops/config';
import { afterAll, describe, expect, it } from 'vitest';
import { natsConnectOptions, natsSecurityGaps } from './connect.js';
import { InvalidMessagingOptionError } from './errors.js';
import { createUserSeed } from './nkeys.js';

const dir = mkdtempSync(join(tmpdir(), 'cortexops-nats-connect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
};
const config = (env: Record<string, string>) => loadConfig(natsSpec, { CORTEXOPS_NATS_URL: 'nats://127.0.0.1:4222', ...env });

function problem(env: Record<string, string>, name = 'ingestion'): InvalidMessagingOptionError {
  try {
    natsConnectOptions(config(env), name);
  } catch (error) {
    if (error instanceof InvalidMessagingOptionError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('messaging — NATS connection options', () => {
  it('connect — a user seed file gives an nkey authenticator, the name and inbox of the user, TLS with the CA', () => {
    const seed = file('user.nk', `${createUserSeed()}\n`);
    const ca = file('ca.crt', '-----BEGIN CERTIFICATE-----\n');
    const options = natsConnectOptions(config({ CORTEXOPS_NATS_NKEY_SEED_FILE: seed, CORTEXOPS_NATS_CA_FILE: ca }), 'ingestion');
    expect(options).toMatchObject({ name: 'cortexops-ingestion', inboxPrefix: '_INBOX.ingestion', tls: { caFile: ca }, maxReconnectAttempts: -1 });
    expect(typeof options.authenticator).toBe('function');
    expect(natsSecurityGaps(config({ CORTEXOPS_NATS_NKEY_SEED_FILE: seed, CORTEXOPS_NATS_CA_FILE: ca }))).toEqual([]);
  });

  it('connect — nothing configured: no authenticator, no TLS, and both gaps named for the start-up warning', () => {
    const options = natsConnectOptions(config({}), 'api');
    expect(options.authenticator).toBeUndefined();
    expect(options.tls).toBeUndefined();
    expect(natsSecurityGaps(config({}))).toHaveLength(2);
    expect(natsConnectOptions(config({ CORTEXOPS_NATS_URL: 'tls://nats:4222' }), 'api').tls).toEqual({});
  });

  it.each([
    ['a missing seed file', { CORTEXOPS_NATS_NKEY_SEED_FILE: '/nonexistent/seed.nk' }, 'CORTEXOPS_NATS_NKEY_SEED_FILE', /ENOENT/],
    ['a seed file with garbage', { CORTEXOPS_NATS_NKEY_SEED_FILE: 'garbage.nk' }, 'CORTEXOPS_NATS_NKEY_SEED_FILE', /user nkey seed/],
    ['a public key instead of a seed', { CORTEXOPS_NATS_NKEY_SEED_FILE: 'public.nk' }, 'CORTEXOPS_NATS_NKEY_SEED_FILE', /user nkey seed/],
    ['a client certificate without its key', { CORTEXOPS_NATS_CERT_FILE: 'cert.pem' }, 'CORTEXOPS_NATS_KEY_FILE', /both/],
    ['a key without its certificate', { CORTEXOPS_NATS_KEY_FILE: 'key.pem' }, 'CORTEXOPS_NATS_CERT_FILE', /both/],
    ['a CA file that is not there', { CORTEXOPS_NATS_CA_FILE: '/nonexistent/ca.crt' }, 'CORTEXOPS_NATS_CA_FILE', /ENOENT/],
  ])('connect — %s is refused naming the variable, never showing a secret', (_what, given, variable, reason) => {
    const env = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, v.startsWith('/') ? v : file(v, v === 'garbage.nk' ? 'SUnotaseed' : v === 'public.nk' ? 'UAQND4FHZWNYILGIIFMTULPF6N4NYMZOLLAUOTI2WLZ6RCTFBTQY64DI' : 'x')]));
    const error = problem(env);
    expect(error.option).toBe(variable);
    expect(error.message).toMatch(reason);
    expect(error.message).not.toContain('SUnotaseed');
  });

  it.each(['', 'Ingestion', 'a b', 'x'.repeat(64), '_INBOX'])('connect — a bad client name %j is refused', (name) => {
    expect(problem({}, name).option).toBe('name');
  });
});
