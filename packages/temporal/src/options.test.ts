import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadServiceConfig } from '@cortexops/config';
import { afterAll, describe, expect, it } from 'vitest';
import { temporalConnectOptions, TemporalSettingsError } from './options.js';

const dir = mkdtempSync(join(tmpdir(), 'cortexops-temporal-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const ca = file('ca.crt', CERT);
const cert = file('client.crt', CERT);
const key = file('client.key', KEY);

/** The options a service gets from its environment, through its real configuration. */
const optionsOf = (env: Record<string, string>) => temporalConnectOptions(loadServiceConfig('worker', env));

function problemOf(env: Record<string, string>): string {
  try {
    optionsOf(env);
  } catch (error) {
    if (error instanceof TemporalSettingsError || error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the settings to be refused');
}

describe('temporal connection — options from configuration', () => {
  it('plain by default, at the configured address', () => {
    expect(optionsOf({ CORTEXOPS_TEMPORAL_ADDRESS: 'temporal.internal:7233' })).toEqual({ address: 'temporal.internal:7233' });
  });

  it('CA, client certificate and key, server name: TLS with each file read', () => {
    const options = optionsOf({ CORTEXOPS_TEMPORAL_TLS_CA_FILE: ca, CORTEXOPS_TEMPORAL_TLS_CERT_FILE: cert, CORTEXOPS_TEMPORAL_TLS_KEY_FILE: key, CORTEXOPS_TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal' });
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toBe(CERT);
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toBe(CERT);
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toBe(KEY);
    expect(options.tls!.serverNameOverride).toBe('frontend.temporal');
  });

  it("TLS=true alone: TLS with the system's roots; an API key turns TLS on unless TLS=false", () => {
    expect(optionsOf({ CORTEXOPS_TEMPORAL_TLS: 'true' }).tls).toEqual({});
    const apiKey = file('api-key', '  eyJhbGciOi.key.sig\n');
    expect(optionsOf({ CORTEXOPS_TEMPORAL_API_KEY_FILE: apiKey })).toEqual({ address: '127.0.0.1:7233', tls: {}, apiKey: 'eyJhbGciOi.key.sig' });
    expect(optionsOf({ CORTEXOPS_TEMPORAL_API_KEY_FILE: apiKey, CORTEXOPS_TEMPORAL_TLS: 'false' })).toEqual({ address: '127.0.0.1:7233', apiKey: 'eyJhbGciOi.key.sig' });
  });

  it('refuses contradictions and unusable files, naming the variable', () => {
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS_CERT_FILE: cert })).toBe('CORTEXOPS_TEMPORAL_TLS_CERT_FILE is set without CORTEXOPS_TEMPORAL_TLS_KEY_FILE');
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS_KEY_FILE: key })).toBe('CORTEXOPS_TEMPORAL_TLS_KEY_FILE is set without CORTEXOPS_TEMPORAL_TLS_CERT_FILE');
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS: 'false', CORTEXOPS_TEMPORAL_TLS_CA_FILE: ca })).toMatch(/^CORTEXOPS_TEMPORAL_TLS is false but CORTEXOPS_TEMPORAL_TLS_CA_FILE is set/);
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS_CA_FILE: join(dir, 'missing.crt') })).toMatch(/^CORTEXOPS_TEMPORAL_TLS_CA_FILE: cannot read .*missing\.crt: ENOENT/);
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS_CA_FILE: dir })).toMatch(/^CORTEXOPS_TEMPORAL_TLS_CA_FILE: cannot read .*: EISDIR/);
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS_CA_FILE: file('empty.crt', '\n') })).toMatch(/^CORTEXOPS_TEMPORAL_TLS_CA_FILE: .* is empty/);
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS_CA_FILE: key })).toMatch(/^CORTEXOPS_TEMPORAL_TLS_CA_FILE: .* is not PEM of the right kind/);
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS_CERT_FILE: key, CORTEXOPS_TEMPORAL_TLS_KEY_FILE: cert })).toMatch(/^CORTEXOPS_TEMPORAL_TLS_CERT_FILE: .* is not PEM/);
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS_CERT_FILE: cert, CORTEXOPS_TEMPORAL_TLS_KEY_FILE: cert })).toMatch(/^CORTEXOPS_TEMPORAL_TLS_KEY_FILE: .* is not PEM/);
    expect(problemOf({ CORTEXOPS_TEMPORAL_API_KEY_FILE: file('two-words', 'a b') })).toBe('CORTEXOPS_TEMPORAL_API_KEY_FILE: the key must be one line without spaces');
    expect(problemOf({ CORTEXOPS_TEMPORAL_TLS: 'yes' })).toMatch(/CORTEXOPS_TEMPORAL_TLS: must be true or false/);
  });

  it('the API key is never in a refusal', () => {
    const secret = 'sk-temporal-secret-value';
    const message = problemOf({ CORTEXOPS_TEMPORAL_API_KEY_FILE: file('bad-key', `${secret} extra`) });
    expect(message).not.toContain(secret);
  });
});
