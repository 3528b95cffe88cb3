import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KV_BUCKETS, STREAMS } from '@cortexops/contracts';
import { connectNats, createUserSeed, natsInboxPrefix, userPublicKey } from '@cortexops/messaging';
import { loadConfig, natsSpec } from '@cortexops/config';
import {
  createTestNamespace,
  ensureServers,
  kubeconfigPaths,
  logFile,
  natsCaFile,
  natsConfigFile,
  natsConnectOptions,
  natsEnv,
  natsSeedFile,
  privateStack,
  runningPid,
  spawnService,
  stackPorts,
  type PrivateStack,
  type ServiceProcess,
} from '@cortexops/testkit';
import { connect, nkeyAuthenticator, type NatsConnection, type NatsError } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiDir, pkiFile } from '../../src/stack/servers/kubernetes/paths.js';
import { generateCa, generateLeaf } from '../../src/stack/servers/kubernetes/pki.js';

/**
 * The local NATS with accounts, nkey users and TLS (a private instance, the stack's own configuration): every attack
 * refused by the server itself, and the services' legitimate paths working with their own users.
 */
let stack: PrivateStack;
let admin: NatsConnection;
const opened: NatsConnection[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'cortexops-nats-auth-'));
const data = new TextEncoder().encode('{}');

beforeAll(async () => {
  stack = await privateStack('nats-auth');
  await stack.launcher.up(['nats']);
  admin = await connect(natsConnectOptions(stack.ctx, 'admin'));
}, 120_000);

afterAll(async () => {
  for (const nc of opened) await nc.close().catch(() => undefined);
  await admin?.close();
  await stack?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

async function as(user: 'ingestion' | 'correlator' | 'worker' | 'api' | 'producer'): Promise<NatsConnection> {
  const nc = await connect({ ...natsConnectOptions(stack.ctx, user), maxReconnectAttempts: 0 });
  opened.push(nc);
  return nc;
}

async function messages(stream: string): Promise<number> {
  return (await (await admin.jetstreamManager()).streams.info(stream)).state.messages;
}

/** A JetStream publish the server refuses: no acknowledgement comes, and nothing is stored. */
async function expectPublishRefused(nc: NatsConnection, subject: string, stream: string): Promise<void> {
  const before = await messages(stream);
  await expect(nc.jetstream().publish(subject, data, { timeout: 1500 })).rejects.toThrow();
  expect(await messages(stream)).toBe(before);
}

/** A subscription the server refuses: it ends with a permissions violation. */
async function expectSubscribeRefused(nc: NatsConnection, subject: string): Promise<void> {
  const sub = nc.subscribe(subject);
  const error = await (async () => {
    try {
      for await (const _ of sub) return undefined;
    } catch (e) {
      return e as NatsError;
    }
    return undefined;
  })();
  expect(String(error?.message)).toMatch(/Permissions Violation for Subscription/);
}

/** What a plain (non-TLS) client gets: the server's INFO says TLS is required, and a CONNECT in the clear is refused. */
function plainConnect(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const socket = tcpConnect(port, '127.0.0.1', () => socket.write('CONNECT {"verbose":false}\r\nPING\r\n'));
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer; got ${seen}`)));
    socket.on('data', (chunk) => (seen += chunk.toString()));
    socket.on('close', () => resolve(seen));
    socket.on('error', reject);
  });
}

describe('NATS — accounts, users and TLS (real nats-server)', () => {
  it('authentication — a connection without credentials, and one with an nkey the server does not know, are refused', async () => {
    const url = natsEnv(stack.ctx).CORTEXOPS_NATS_URL as string;
    await expect(connect({ servers: url, tls: { caFile: natsCaFile(stack.ctx) }, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation/i);
    const stranger = nkeyAuthenticator(new TextEncoder().encode(createUserSeed()));
    await expect(connect({ servers: url, tls: { caFile: natsCaFile(stack.ctx) }, authenticator: stranger, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation/i);
  });

  it('TLS — required (a CONNECT in the clear is closed unanswered) and verified: a client trusting another CA refuses the server', async () => {
    const answer = await plainConnect(stackPorts(stack.ctx).natsPort);
    expect(answer).toContain('"tls_required":true');
    // The server closed the connection at the clear-text CONNECT: no PONG, nothing served.
    expect(answer).not.toContain('PONG');
    await generateCa(scratch);
    const options = natsConnectOptions(stack.ctx, 'ingestion');
    await expect(connect({ ...options, tls: { caFile: join(scratch, 'ca.crt') }, maxReconnectAttempts: 0 })).rejects.toThrow(/certificate|self.signed|issuer/i);
    // And the stack's own CA is what the legitimate clients use.
    expect(readFileSync(natsCaFile(stack.ctx), 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('ingestion — publishes telemetry and signals, never a remediation notice, another stage’s dead letter or outside its subjects', async () => {
    const nc = await as('ingestion');
    const js = nc.jetstream();
    expect((await js.publish('telemetry.custom', data, { timeout: 5000 })).stream).toBe(STREAMS.telemetry);
    expect((await js.publish('signals.local.shop', data, { timeout: 5000 })).stream).toBe(STREAMS.signals);
    expect((await js.publish('deadletter.ingestion', data, { timeout: 5000 })).stream).toBe(STREAMS.deadLetter);
    await expectPublishRefused(nc, 'signals.local._remediated', STREAMS.signals);
    await expectPublishRefused(nc, 'deadletter.correlator', STREAMS.deadLetter);
    await expectPublishRefused(nc, '$KV.cortexops_correlator.g.forged', `KV_${KV_BUCKETS.correlator}`);
  });

  it('ingestion — cannot create, update, purge or delete a stream, nor write the correlator’s bucket', async () => {
    const nc = await as('ingestion');
    const jsm = await nc.jetstreamManager();
    await expect(jsm.streams.delete(STREAMS.signals)).rejects.toThrow();
    await expect(jsm.streams.purge(STREAMS.signals)).rejects.toThrow();
    await expect(jsm.streams.add({ name: 'FORGED', subjects: ['forged.>'] })).rejects.toThrow();
    const { config } = await jsm.streams.info(STREAMS.telemetry);
    await expect(jsm.streams.update(STREAMS.telemetry, { ...config, max_msgs: 1 })).rejects.toThrow();
    expect((await (await admin.jetstreamManager()).streams.info(STREAMS.telemetry)).config.max_msgs).toBe(config.max_msgs);
    await expect((await admin.jetstreamManager()).streams.info('FORGED')).rejects.toThrow(/stream not found/);
    const correlatorBucket = await nc.jetstream({ timeout: 1500 }).views.kv(KV_BUCKETS.correlator, { bindOnly: true });
    await expect(correlatorBucket.put('g.forged', '{}')).rejects.toThrow();
    expect(await (await admin.jetstream().views.kv(KV_BUCKETS.correlator)).get('g.forged')).toBeNull();
    // Its own bucket it writes and reads.
    const own = await nc.jetstream().views.kv(KV_BUCKETS.ingestionDrops, { bindOnly: true });
    await own.put('test.key', 'v');
    expect((await own.get('test.key'))?.string()).toBe('v');
  });

  it('subscriptions — a service reads only its own replies: not the signals, not another service’s inbox', async () => {
    const nc = await as('ingestion');
    await expectSubscribeRefused(nc, 'signals.>');
    await expectSubscribeRefused(nc, `${natsInboxPrefix('worker')}.>`);
  });

  it('worker — publishes remediation notices and nothing else', async () => {
    const nc = await as('worker');
    const js = nc.jetstream();
    expect((await js.publish('signals.local._remediated', data, { timeout: 5000 })).stream).toBe(STREAMS.signals);
    await expectPublishRefused(nc, 'signals.local.shop', STREAMS.signals);
    await expectPublishRefused(nc, 'telemetry.custom', STREAMS.telemetry);
    // Not even the JetStream API's account information.
    await expect(nc.jetstreamManager()).rejects.toThrow();
  });

  it('producer — a JSON producer publishes telemetry.custom only: not another source, not a signal, not a notice', async () => {
    const nc = await as('producer');
    expect((await nc.jetstream().publish('telemetry.custom', data, { timeout: 5000 })).stream).toBe(STREAMS.telemetry);
    await expectPublishRefused(nc, 'telemetry.alertmanager', STREAMS.telemetry);
    await expectPublishRefused(nc, 'signals.local.shop', STREAMS.signals);
    await expectPublishRefused(nc, 'signals.local._remediated', STREAMS.signals);
    await expectSubscribeRefused(nc, 'telemetry.>');
  });

  it('api — may connect and answer its health check, and do nothing else', async () => {
    const nc = await as('api');
    await nc.flush();
    await expectPublishRefused(nc, 'telemetry.custom', STREAMS.telemetry);
  });
});

describe('NATS — rotating a user’s seed without a restart', () => {
  /** Gives the user of `oldKey` these public keys in the server's configuration and reloads the running server (SIGHUP). */
  async function serverKeys(oldKey: string, keys: readonly string[]): Promise<void> {
    const file = natsConfigFile(stack.ctx);
    const config = JSON.parse(readFileSync(file, 'utf8')) as { accounts: { CORTEXOPS: { users: { nkey: string; permissions?: unknown }[] } } };
    const users = config.accounts.CORTEXOPS.users;
    const entry = users.find((u) => u.nkey === oldKey);
    if (entry === undefined) throw new Error('the user is not in the configuration');
    config.accounts.CORTEXOPS.users = [...users.filter((u) => u.nkey !== oldKey && !keys.includes(u.nkey)), ...keys.map((nkey) => ({ ...entry, nkey }))];
    writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
    process.kill(runningPid(stack.ctx, 'nats') as number, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 500));
  }

  it('rotation — old and new key both accepted, the seed file replaced, the old key removed: the connection is closed by the server and comes back with the new seed, with no restart of the client', async () => {
    const seedFile = join(scratch, 'worker.nk');
    copyFileSync(natsSeedFile(stack.ctx, 'worker'), seedFile);
    const oldKey = userPublicKey(readFileSync(seedFile, 'utf8'));
    const nc = await connectNats(loadConfig(natsSpec, { ...natsEnv(stack.ctx, 'worker'), CORTEXOPS_NATS_NKEY_SEED_FILE: seedFile }), 'worker');
    opened.push(nc);
    const events: string[] = [];
    void (async () => {
      for await (const s of nc.status()) events.push(s.type);
    })();
    const notice = () => nc.jetstream().publish('signals.local._remediated', data, { timeout: 5000 });
    expect((await notice()).stream).toBe(STREAMS.signals);

    const newSeed = createUserSeed();
    await serverKeys(oldKey, [oldKey, userPublicKey(newSeed)]);
    writeFileSync(seedFile, `${newSeed}\n`, { mode: 0o600 });
    expect((await notice()).stream).toBe(STREAMS.signals);
    await serverKeys(oldKey, [userPublicKey(newSeed)]);
    const deadline = Date.now() + 15_000;
    while (!events.includes('reconnect') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(events).toContain('disconnect');
    expect(events).toContain('reconnect');
    expect((await notice()).stream).toBe(STREAMS.signals);
    // The old seed is refused from now on.
    await expect(connect({ ...natsConnectOptions(stack.ctx, 'worker'), maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation/i);
  });
});

describe('NATS — the services’ legitimate paths with their own users', () => {
  let ingestion: ServiceProcess | undefined;
  let correlator: ServiceProcess | undefined;

  afterAll(async () => {
    await ingestion?.terminate();
    await correlator?.terminate();
  });

  it('ingestion (with its event watcher and owner informers) and correlator start with their users (bind, own consumers, buckets), take a telemetry message to a correlator decision, and the server logs no violation by them', async () => {
    const shared = await ensureServers(['temporal', 'kube-controller-manager']);
    const namespace = await createTestNamespace(shared, 'nats-auth');
    const violationsBefore = readFileSync(logFile(stack.ctx, 'nats'), 'utf8').split('\n').filter((l) => /Violation/.test(l)).length;
    // With the local cluster's kubeconfig: the event watcher (its checkpoint bucket) and the pod-owner informers (their
    // bucket) run as the ingestion user too; what they publish goes to this private NATS only.
    ingestion = await spawnService('ingestion', { ...natsEnv(stack.ctx, 'ingestion'), CORTEXOPS_KUBECONFIG: kubeconfigPaths(shared).ingestion });
    correlator = await spawnService('correlator', { ...natsEnv(stack.ctx, 'correlator'), CORTEXOPS_TEMPORAL_ADDRESS: `127.0.0.1:${stackPorts(shared).temporalPort}`, CORTEXOPS_TEMPORAL_NAMESPACE: namespace, CORTEXOPS_CORRELATOR_MIN_SIGNALS: '1' });
    await ingestion.waitForHealth((status) => status === 200, 60_000);
    await correlator.waitForHealth((status) => status === 200, 60_000);
    const signalsBefore = await messages(STREAMS.signals);
    const envelope = { source: 'custom', payload: { title: 'checkout probe failing', severity: 'critical', namespace: 'shop', object: { kind: 'Deployment', name: 'checkout' }, key: `auth-${Date.now()}` } };
    await admin.jetstream().publish('telemetry.custom', new TextEncoder().encode(JSON.stringify(envelope)));
    const groups = await admin.jetstream().views.kv(KV_BUCKETS.correlator);
    const deadline = Date.now() + 30_000;
    let decided = false;
    while (!decided && Date.now() < deadline) {
      const keys: string[] = [];
      for await (const key of await groups.keys()) keys.push(key);
      decided = (await messages(STREAMS.signals)) > signalsBefore && keys.length > 0;
      if (!decided) await new Promise((r) => setTimeout(r, 200));
    }
    expect(decided, `${ingestion.output().slice(-2000)}\n${correlator.output().slice(-2000)}`).toBe(true);
    const violations = readFileSync(logFile(stack.ctx, 'nats'), 'utf8').split('\n').filter((l) => /Violation/.test(l));
    expect(violations.slice(violationsBefore).filter((l) => /cortexops-(ingestion|correlator)/.test(l)), violations.slice(violationsBefore).join('\n')).toEqual([]);
    expect(await ingestion.terminate()).toBe(0);
    expect(await correlator.terminate()).toBe(0);
    ingestion = undefined;
    correlator = undefined;
  }, 180_000);
});

describe('NATS — mutual TLS (the server verifying client certificates)', () => {
  it('mTLS — with verify on, a client without a certificate is refused, one with a certificate of the CA connects through connectNats (CORTEXOPS_NATS_CERT_FILE / _KEY_FILE)', async () => {
    await generateLeaf(pkiDir(stack.ctx), { stem: 'nats-test-client', subject: '/CN=cortexops-test-client', usage: 'clientAuth' });
    const file = natsConfigFile(stack.ctx);
    const config = JSON.parse(readFileSync(file, 'utf8')) as { tls: { verify: boolean; ca_file?: string } };
    expect(config.tls.ca_file).toBe(natsCaFile(stack.ctx));
    writeFileSync(file, JSON.stringify({ ...config, tls: { ...config.tls, verify: true } }, null, 2), { mode: 0o600 });
    process.kill(runningPid(stack.ctx, 'nats') as number, 'SIGHUP');
    const env = natsEnv(stack.ctx, 'api');
    const withoutCertificate = async () => {
      const nc = await connect({ ...natsConnectOptions(stack.ctx, 'api'), maxReconnectAttempts: 0 });
      await nc.flush();
      await nc.close();
    };
    await expect.poll(() => withoutCertificate().then(() => 'connected', (error: unknown) => String(error)), { timeout: 10_000 }).not.toBe('connected');
    const nc = await connectNats(loadConfig(natsSpec, { ...env, CORTEXOPS_NATS_CERT_FILE: pkiFile(stack.ctx, 'nats-test-client.crt'), CORTEXOPS_NATS_KEY_FILE: pkiFile(stack.ctx, 'nats-test-client.key') }), 'api');
    opened.push(nc);
    await nc.flush();
    expect(nc.isClosed()).toBe(false);
  });
});
