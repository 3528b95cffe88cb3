import { describe, expect, it } from 'vitest';
import { InvalidMessagingOptionError } from './errors.js';
import { createUserSeed, userPublicKey } from './nkeys.js';
import { NATS_USERS } from './permissions.js';
import { natsServerConfig, type NatsServerConfigOptions } from './server-config.js';

const key = () => userPublicKey(createUserSeed());
const keys = () => Object.fromEntries([...NATS_USERS, 'system'].map((user) => [user, [key()]])) as unknown as NatsServerConfigOptions['publicKeys'];
const base = (publicKeys = keys()): NatsServerConfigOptions => ({ serverName: 's', listen: '127.0.0.1:4222', storeDir: '/data', publicKeys });

describe('messaging — nats-server configuration', () => {
  it('server config — accounts CORTEXOPS (JetStream) and SYS; admin unrestricted, every service with permissions; public keys only', () => {
    const publicKeys = keys();
    const text = natsServerConfig({ ...base(publicKeys), tls: { certFile: '/tls/crt', keyFile: '/tls/key' } });
    const config = JSON.parse(text) as { accounts: Record<string, { users: { nkey: string; permissions?: { publish: { allow?: string[]; deny?: string[] } } }[] }>; system_account: string; tls: { verify: boolean } };
    expect(config.system_account).toBe('SYS');
    expect(config.tls.verify).toBe(false);
    const users = config.accounts.CORTEXOPS?.users ?? [];
    expect(users.find((u) => u.nkey === publicKeys.admin[0])?.permissions).toBeUndefined();
    const ingestion = users.find((u) => u.nkey === publicKeys.ingestion[0])?.permissions;
    expect(ingestion?.publish.allow).toEqual(expect.arrayContaining(['telemetry.>', 'signals.>']));
    expect(ingestion?.publish.deny).toEqual(['signals.*._remediated']);
    expect(ingestion?.publish.allow?.some((s) => /STREAM\.(CREATE|UPDATE|DELETE)/.test(s))).toBe(false);
    expect(users.find((u) => u.nkey === publicKeys.worker[0])?.permissions?.publish.allow).toEqual(['signals.*._remediated']);
    expect(config.accounts.SYS?.users).toEqual([{ nkey: publicKeys.system[0] }]);
    expect(text).not.toMatch(/"SU/);
  });

  it('server config — two keys of one user are both accepted (rotation)', () => {
    const publicKeys = { ...keys(), correlator: [key(), key()] };
    const users = (JSON.parse(natsServerConfig(base(publicKeys))) as { accounts: { CORTEXOPS: { users: { nkey: string }[] } } }).accounts.CORTEXOPS.users;
    expect(users.filter((u) => publicKeys.correlator.includes(u.nkey))).toHaveLength(2);
  });

  it.each([
    ['a seed instead of a public key', () => createUserSeed()],
    ['an account key', () => 'ABZTXZB6IT2JNIXGQFBWCS5P3A5AUD3DNUUVYJYJ2X7GVWQZPNVPUXWC'],
    ['garbage', () => 'hello'],
    ['an empty string', () => ''],
  ])('server config — %s as a user key is refused naming the user', (_what, bad) => {
    const publicKeys = { ...keys(), worker: [bad()] };
    expect(() => natsServerConfig(base(publicKeys))).toThrow(InvalidMessagingOptionError);
    expect(() => natsServerConfig(base(publicKeys))).toThrow(/publicKeys\.worker/);
  });
});
