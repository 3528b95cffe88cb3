import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { LOCAL_HOST, loadServiceConfig } from '@cortexops/config';
import { renderPromql } from '@cortexops/prometheus';
import { createLogger } from '@cortexops/observability';
import {
  createTestPki,
  privateStack,
  startSecuredPrometheus,
  startTenantGateway,
  type PrivateStack,
  type SecuredPrometheus,
  type TenantGateway,
  type TestPki,
} from '@cortexops/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureCheck, prometheusCheck, prometheusClientFromConfig, PrometheusClient, type PrometheusClientOptions } from '../../src/index.js';
import { tempFiles } from '../temp-files.js';

// Real Prometheus servers (the stack's pinned binary) on free ports of a private context: one behind Prometheus' own
// web configuration (TLS with client certificates, basic auth, the /prometheus route prefix), one plain behind a
// gateway demanding a bearer token and X-Scope-OrgID as Mimir's does.
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'gateway-token-5d1f0c7e9a2b4c6d8e0f';
const SERVER_NAME = 'prometheus.cortexops.test';

let stack: PrivateStack;
let pki: TestPki;
let secured: SecuredPrometheus;
let plain: SecuredPrometheus;
let gateway: TenantGateway;
const files = tempFiles('prometheus-backends');
const passwordFile = files.file('password', `${PASSWORD}\n`);
const tokenFile = files.file('token', `${TOKEN}\n`);
const gatewayTokenFile = files.file('gateway-token', TOKEN);

beforeAll(async () => {
  stack = await privateStack('prometheus-backends');
  pki = await createTestPki(SERVER_NAME);
  [secured, plain] = await Promise.all([
    startSecuredPrometheus(stack.ctx, { routePrefix: '/prometheus', tls: { pki, clientCertificates: true }, users: { cortexops: PASSWORD } }),
    startSecuredPrometheus(stack.ctx, {}),
  ]);
  gateway = await startTenantGateway({ upstream: plain.url, tokenFile: gatewayTokenFile, tenants: ['team-a', 'team-b'], pathPrefix: '/prometheus', tls: { cert: pki.serverCert, key: pki.serverKey } });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await secured?.stop();
  await plain?.stop();
  await stack?.dispose();
  pki?.remove();
  files.remove();
});

/** Log lines the client wrote (through the services' real logger), to show no secret reaches them. */
function logged() {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
  return { logger: createLogger({ service: 'test', level: 'debug', destination }), lines };
}

/** A client of the secured Prometheus: mutual TLS with the test CA, basic auth from the password file. */
function securedClient(options: Partial<PrometheusClientOptions> = {}) {
  return PrometheusClient.create({
    baseUrl: secured.url,
    timeoutMs: 5000,
    retries: 3,
    minBackoffMs: 10,
    maxBackoffMs: 20,
    username: 'cortexops',
    passwordFile,
    tls: { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey },
    ...options,
  });
}

function gatewayClient(options: Partial<PrometheusClientOptions> = {}) {
  return PrometheusClient.create({ baseUrl: gateway.url, timeoutMs: 5000, retries: 3, minBackoffMs: 10, maxBackoffMs: 20, tenant: 'team-a', bearerTokenFile: tokenFile, tls: { caFile: pki.ca }, ...options });
}

/** Polls until the server has scraped itself (bounded). */
async function scraped(client: PrometheusClient, job: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await client.vector(`up{job="${job}"}`)).length === 0) {
    if (Date.now() > deadline) throw new Error(`no up{job="${job}"} within 30 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Prometheus behind TLS (client certificates), basic auth and a route prefix', () => {
  it('queries succeed with the right credentials over TLS verified by the CA, under /prometheus', async () => {
    const client = securedClient();
    await scraped(client, secured.job);
    expect(secured.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/prometheus$/);
    // its own scrape went through the same TLS and basic auth
    expect(await client.instant(`up{job="${secured.job}"}`)).toEqual({ kind: 'value', value: 1 });
    expect(await client.instant('vector(1) / vector(0)')).toEqual({ kind: 'not-a-number', raw: '+Inf' });
    expect(await client.get('status/buildinfo')).toMatchObject({ version: expect.any(String) as string });
    await client.close();
  });

  it('the server name a certificate carries can be set: it is checked, and a wrong one is a TLS error', async () => {
    const named = securedClient({ tls: { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey, serverName: SERVER_NAME } });
    expect(await named.instant('vector(2)')).toEqual({ kind: 'value', value: 2 });
    const wrong = securedClient({ tls: { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey, serverName: 'mimir.elsewhere.test' } });
    expect(await wrong.instant('vector(2)')).toMatchObject({ kind: 'error', reason: 'tls', attempts: 1, message: expect.stringMatching(/ERR_TLS_CERT_ALTNAME_INVALID.*names another host/) as string });
    await Promise.all([named.close(), wrong.close()]);
  });

  it('a wrong password is an auth error at once (one attempt), clear, and the password is in no message or log line', async () => {
    const wrongPassword = files.file('wrong-password', 'Tr0ub4dor&3');
    const { logger, lines } = logged();
    const client = securedClient({ passwordFile: wrongPassword, logger });
    const sample = await client.instant('vector(1)');
    expect(sample).toMatchObject({ kind: 'error', reason: 'auth', attempts: 1 });
    expect(sample.kind === 'error' && sample.message).toMatch(/^HTTP 401 from https:\/\/127\.0\.0\.1:\d+\/prometheus: not authenticated \(sent basic auth as "cortexops"\): Unauthorized$/);
    expect(lines.join('')).toContain('prometheus query failed');
    expect(lines.join('')).not.toContain('Tr0ub4dor');
    expect(JSON.stringify(sample)).not.toContain('Tr0ub4dor');
    await client.close();
  });

  it('a rotated password file is used from the next query on (no restart)', async () => {
    const rotating = files.file('rotating-password', 'not-yet-the-password');
    const client = securedClient({ passwordFile: rotating });
    expect(await client.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'auth' });
    writeFileSync(rotating, `${PASSWORD}\n`);
    expect(await client.instant('vector(1)')).toEqual({ kind: 'value', value: 1 });
    await client.close();
  });

  it('the health check (not required) is up with the right settings and down with the reason otherwise', async () => {
    const good = securedClient();
    const bad = securedClient({ passwordFile: files.file('health-wrong-password', 'nope') });
    await expect(prometheusCheck(good).check(AbortSignal.timeout(5000))).resolves.toBeUndefined();
    expect(prometheusCheck(bad)).toMatchObject({ name: 'prometheus', required: false });
    await expect(prometheusCheck(bad).check(AbortSignal.timeout(5000))).rejects.toMatchObject({ reason: 'auth', message: expect.stringMatching(/^HTTP 401 /) as string });
    await Promise.all([good.close(), bad.close()]);
  });

  it('a CA that did not sign the server certificate is a TLS error at once, naming what to check', async () => {
    const client = securedClient({ tls: { caFile: pki.otherCa, certFile: pki.clientCert, keyFile: pki.clientKey } });
    const sample = await client.instant('vector(1)');
    expect(sample).toMatchObject({ kind: 'error', reason: 'tls', attempts: 1 });
    expect(sample.kind === 'error' && sample.message).toMatch(/^TLS with https:\/\/127\.0\.0\.1:\d+\/prometheus failed: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY) .*check the CA file/);
    await client.close();
  });

  it('a replaced CA file is used from the next query on: the connection pool is rebuilt (certificate rotation without restart)', async () => {
    const caFile = files.file('rotating-ca.crt', readFileSync(pki.otherCa));
    const client = securedClient({ tls: { caFile, certFile: pki.clientCert, keyFile: pki.clientKey } });
    expect(await client.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'tls' });
    writeFileSync(caFile, readFileSync(pki.ca));
    expect(await client.instant('vector(1)')).toEqual({ kind: 'value', value: 1 });
    await client.close();
  });

  it('the system CAs alone do not trust a private CA: a TLS error', async () => {
    const client = securedClient({ tls: { certFile: pki.clientCert, keyFile: pki.clientKey } });
    expect(await client.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'tls', attempts: 1 });
    await client.close();
  });

  it('without a client certificate, or with one another CA signed, the server refuses the connection: said, after the bounded retries', async () => {
    const none = securedClient({ tls: { caFile: pki.ca } });
    const other = securedClient({ tls: { caFile: pki.ca, certFile: pki.otherClientCert, keyFile: pki.otherClientKey } });
    for (const client of [none, other]) {
      // TLS 1.3: the server's refusal comes after the client's side of the handshake, as a closed connection (retried,
      // with the hint); should the alert itself arrive first, it is a TLS failure at once. Either names the certificate.
      const sample = await client.instant('vector(1)');
      if (sample.kind === 'error' && sample.reason === 'tls') {
        expect(sample).toMatchObject({ attempts: 1, message: expect.stringMatching(/client certificate/) as string });
      } else {
        expect(sample).toMatchObject({
          kind: 'error',
          reason: 'network',
          attempts: 4,
          message: expect.stringMatching(/^cannot reach https:.*: (UND_ERR_SOCKET|ECONNRESET) \(.*over https this is also how a server refuses a client certificate/) as string,
        });
      }
      await client.close();
    }
  });

  it('the base URL without the route prefix finds nothing: HTTP 404, not retried', async () => {
    const client = securedClient({ baseUrl: secured.url.replace(/\/prometheus$/, '') });
    expect(await client.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'answer', attempts: 1, message: expect.stringMatching(/^HTTP 404 /) as string });
    await client.close();
  });

  it('http spoken to the https server, and https to an http one, say which to use', async () => {
    const http = PrometheusClient.create({ baseUrl: secured.url.replace('https:', 'http:'), timeoutMs: 5000, retries: 2, username: 'cortexops', passwordFile });
    expect(await http.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'answer', attempts: 1, message: expect.stringMatching(/use an https URL$/) as string });
    const https = PrometheusClient.create({ baseUrl: plain.url.replace('http:', 'https:'), timeoutMs: 5000, retries: 2, tls: { caFile: pki.ca } });
    expect(await https.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'tls', attempts: 1, message: expect.stringMatching(/plain http/) as string });
    await Promise.all([http.close(), https.close()]);
  });

  it('a password file that went away is a credentials error naming it, and nothing is sent', async () => {
    const vanishing = files.file('vanishing-password', PASSWORD);
    const client = securedClient({ passwordFile: vanishing });
    rmSync(vanishing);
    expect(await client.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'credentials', attempts: 1, message: expect.stringMatching(/vanishing-password does not exist$/) as string });
    await client.close();
  });
});

describe('a bearer token and X-Scope-OrgID, as Mimir\'s gateway demands them (a stand-in gateway before a real Prometheus)', () => {
  it('with the token and a tenant it may read, queries pass through to the real Prometheus', async () => {
    const client = gatewayClient();
    await scraped(client, plain.job);
    expect(await client.instant(`up{job="${plain.job}"}`)).toEqual({ kind: 'value', value: 1 });
    expect(gateway.requests.at(-1)).toMatchObject({ tenant: 'team-a', path: '/prometheus/api/v1/query', status: 200 });
    await client.close();
  });

  it('a federated read names both tenants in one header', async () => {
    const client = gatewayClient({ tenant: 'team-a|team-b' });
    expect(await client.instant('vector(3)')).toEqual({ kind: 'value', value: 3 });
    expect(gateway.requests.at(-1)?.tenant).toBe('team-a|team-b');
    await client.close();
  });

  it('no tenant is refused as Mimir refuses it (401 no org id), at once', async () => {
    const client = gatewayClient({ tenant: undefined });
    expect(await client.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'auth', attempts: 1, message: expect.stringMatching(/: no org id$/) as string });
    await client.close();
  });

  it('a tenant the token may not read is 403, naming the tenant sent', async () => {
    const client = gatewayClient({ tenant: 'team-c' });
    expect(await client.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'auth', attempts: 1, message: expect.stringMatching(/not authorised \(sent bearer token from .*, tenant team-c\)/) as string });
    await client.close();
  });

  it('a wrong token is 401 and shows in no message or log line', async () => {
    const { logger, lines } = logged();
    const client = gatewayClient({ bearerTokenFile: files.file('wrong-token', 'wrong-token-9f8e7d6c5b4a'), logger });
    const sample = await client.instant('vector(1)');
    expect(sample).toMatchObject({ kind: 'error', reason: 'auth', attempts: 1 });
    expect(`${JSON.stringify(sample)}${lines.join('')}`).not.toMatch(/wrong-token-9f8e|gateway-token-5d1f/);
    await client.close();
  });

  it('rotating the token: the gateway takes the new one at once, the client sends it from its next query (no restart)', async () => {
    const clientToken = files.file('client-token', TOKEN);
    const client = gatewayClient({ bearerTokenFile: clientToken });
    expect(await client.instant('vector(1)')).toEqual({ kind: 'value', value: 1 });
    const rotated = 'gateway-token-rotated-0a1b2c3d4e5f';
    writeFileSync(gatewayTokenFile, rotated);
    try {
      expect(await client.instant('vector(1)')).toMatchObject({ kind: 'error', reason: 'auth' });
      writeFileSync(clientToken, `${rotated}\n`);
      expect(await client.instant('vector(1)')).toEqual({ kind: 'value', value: 1 });
    } finally {
      writeFileSync(gatewayTokenFile, TOKEN);
      await client.close();
    }
  });

  it("the worker's client from CORTEXOPS_PROMETHEUS_* measures a verification check through the gateway", async () => {
    const config = loadServiceConfig('worker', {
      CORTEXOPS_PROMETHEUS_URL: gateway.url,
      CORTEXOPS_PROMETHEUS_TENANT: 'team-b',
      CORTEXOPS_PROMETHEUS_BEARER_TOKEN_FILE: tokenFile,
      CORTEXOPS_PROMETHEUS_CA_FILE: pki.ca,
      CORTEXOPS_PROMETHEUS_SERVER_NAME: SERVER_NAME,
    });
    const client = prometheusClientFromConfig(config);
    expect(client.describe()).toEqual({ baseUrl: gateway.url, tenant: 'team-b', auth: `bearer token from ${tokenFile}`, tls: `CA ${pki.ca}, server name ${SERVER_NAME}` });
    const target = { kind: 'Node', name: 'worker-1' } as const;
    const check = { type: 'promql', name: 'ready', template: 'node-ready', query: renderPromql('node-ready', target), successCondition: { op: '==', threshold: 1 } } as const;
    // the private Prometheus scrapes no kube-state-metrics: the check is measured (no error) and inconclusive for lack of data
    expect(await measureCheck(check, target, client)).toMatchObject({ outcome: 'inconclusive', detail: expect.stringMatching(/^no data/) as string });
    expect(gateway.requests.at(-1)).toMatchObject({ tenant: 'team-b', status: 200 });
    await client.close();
  });
});

describe('a plain http Prometheus still works with no settings at all', () => {
  it('no tenant, no credentials, no TLS', async () => {
    const client = PrometheusClient.create({ baseUrl: plain.url, timeoutMs: 5000, retries: 0 });
    expect(plain.url).toBe(`http://${LOCAL_HOST}:${new URL(plain.url).port}`);
    expect(await client.instant('vector(4)')).toEqual({ kind: 'value', value: 4 });
    await client.close();
  });
});
