import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidPrometheusOptionError } from './errors.js';
import { validateOptions, type PrometheusClientOptions } from './options.js';
import { tempFiles } from '../test/temp-files.js';

const { dir, file, remove } = tempFiles('prometheus-options');
afterAll(remove);
const token = file('token', 'a-token-of-some-length-0123456789\n');
const password = file('password', 'secret\n');
mkdirSync(join(dir, 'a-directory'));

const base = { baseUrl: 'https://mimir.example/prometheus', timeoutMs: 1000, retries: 1 };

function refusal(options: Partial<PrometheusClientOptions>): InvalidPrometheusOptionError {
  try {
    validateOptions({ ...base, ...options });
  } catch (error) {
    if (error instanceof InvalidPrometheusOptionError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('client options — the tenant (X-Scope-OrgID) follows Mimir\'s rules', () => {
  it.each(['team-a', "a!-_.*'()Z9", 'x'.repeat(150), 'team-a|team-b', Array.from({ length: 32 }, (_, i) => `t${i}`).join('|')])('%j is accepted', (tenant) => {
    expect(validateOptions({ ...base, tenant }).tenant).toBe(tenant);
  });

  it.each([
    ['', /must not be empty/],
    ['team a', /only letters, digits/],
    ['team/a', /only letters, digits/],
    ['tenant\nX-Injected: 1', /only letters, digits/],
    ['équipe', /only letters, digits/],
    ['.', /not a valid tenant id/],
    ['..', /not a valid tenant id/],
    ['__mimir_cluster', /not a valid tenant id/],
    ['x'.repeat(151), /at most 150 characters/],
    ['a||b', /must not be empty \(in a \|-separated list\)/],
    ['|a', /must not be empty/],
    ['a|', /must not be empty/],
    ['a|b|a', /names tenant a twice/],
    [Array.from({ length: 33 }, (_, i) => `t${i}`).join('|'), /at most 32/],
  ])('%j is refused', (tenant, problem) => {
    const error = refusal({ tenant });
    expect(error).toMatchObject({ code: 'PROMETHEUS_INVALID_OPTION', option: 'tenant' });
    expect(error.problem).toMatch(problem);
  });
});

describe('client options — credentials and TLS that cannot work together are refused at start', () => {
  it.each([
    [{ baseUrl: 'https://user:pw@mimir.example/' }, 'baseUrl', /must not carry credentials/],
    [{ bearerTokenFile: token, username: 'u', passwordFile: password }, 'bearerTokenFile', /one way of authenticating/],
    [{ username: 'u' }, 'passwordFile', /required with username/],
    [{ passwordFile: password }, 'username', /required with passwordFile/],
    [{ username: 'a:b', passwordFile: password }, 'username', /colon/],
    [{ username: 'a\nb', passwordFile: password }, 'username', /control characters/],
    [{ baseUrl: 'http://prometheus:9090', tls: { caFile: token } }, 'tls.caFile', /need an https baseUrl/],
    [{ baseUrl: 'http://prometheus:9090', tls: { serverName: 'prometheus' } }, 'tls.serverName', /need an https baseUrl/],
    [{ tls: { certFile: token } }, 'tls.keyFile', /required with certFile/],
    [{ tls: { keyFile: token } }, 'tls.certFile', /required with keyFile/],
    [{ tls: { serverName: 'not a name' } }, 'tls.serverName', /DNS name or an IP/],
    [{ tls: { insecureSkipVerify: true } as never }, 'tls', /nrecognized key/],
    [{ bearerTokenFile: '' }, 'bearerTokenFile', /must not be empty/],
  ] as [Partial<PrometheusClientOptions>, string, RegExp][])('%o is refused, naming %s', (options, option, problem) => {
    const error = refusal(options);
    expect(error.option).toBe(option);
    expect(error.problem).toMatch(problem);
  });

  it.each([
    [{ bearerTokenFile: join(dir, 'missing') }, 'bearerTokenFile', /missing does not exist$/],
    [{ bearerTokenFile: file('empty', '\n') }, 'bearerTokenFile', /empty is empty$/],
    [{ bearerTokenFile: file('spaced', 'two words\n') }, 'bearerTokenFile', /characters a bearer token cannot have/],
    [{ username: 'u', passwordFile: join(dir, 'a-directory') }, 'passwordFile', /is a directory/],
    [{ tls: { caFile: token } }, 'tls.caFile', /holds no PEM certificate/],
    [{ tls: { caFile: file('broken-ca', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') } }, 'tls.caFile', /certificate 1 does not parse/],
    [{ tls: { certFile: join(dir, 'missing.crt'), keyFile: token } }, 'tls.certFile', /does not exist/],
  ] as [Partial<PrometheusClientOptions>, string, RegExp][])('an unusable file: %o is refused, naming %s', (options, option, problem) => {
    const error = refusal(options);
    expect(error.option).toBe(option);
    expect(error.problem).toMatch(problem);
    // the file's content never shows
    expect(error.message).not.toContain('two words');
  });
});
