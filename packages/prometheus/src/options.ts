import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { tenantHeaderSchema } from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';
import { z } from 'zod';
import { InvalidPrometheusOptionError } from './errors.js';
import { FileReadError, WatchedFile } from './watched-file.js';

/** TLS of an `https` base URL. Files are PEM; each is re-read when it changes (a rotated certificate needs no restart). */
export interface PrometheusTlsOptions {
  /** CA bundle the server's certificate must chain to (default: the system roots). */
  readonly caFile?: string;
  /** Client certificate and its key, for servers that demand mutual TLS. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** The name the server's certificate must carry, also sent as SNI (default: the URL's host). */
  readonly serverName?: string;
}

export interface PrometheusClientOptions {
  /**
   * `http(s)://host:port[/path]` of a Prometheus-compatible HTTP API, without credentials: Prometheus (the path being
   * its `--web.route-prefix`), Thanos Query (its root), Mimir and Cortex (`/prometheus`).
   */
  readonly baseUrl: string;
  /** Per attempt: the request is aborted after this long, and the server is asked to stop evaluating by then. */
  readonly timeoutMs: number;
  /** Attempts after the first, for retryable failures only (network, timeout, 429, 5xx). */
  readonly retries: number;
  /** First backoff (default 200 ms), doubling with jitter up to `maxBackoffMs` (default 2000 ms). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** `X-Scope-OrgID` of every request (Mimir, Cortex, multi-tenant Thanos); `a|b` for a federated read. */
  readonly tenant?: string;
  /** File holding a bearer token (`Authorization: Bearer`), re-read when it changes. Not with basic auth. */
  readonly bearerTokenFile?: string;
  /** Basic auth: the user, and the file holding the password (re-read when it changes). */
  readonly username?: string;
  readonly passwordFile?: string;
  readonly tls?: PrometheusTlsOptions;
  /** Told of each retried and each failed request (never of a credential). */
  readonly logger?: Logger;
  /** The fetch to use (unit tests); by default undici's, with a connection pool carrying the TLS settings. */
  readonly fetch?: typeof globalThis.fetch;
}

const DEFAULTS = { minBackoffMs: 200, maxBackoffMs: 2000 } as const;
const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*\.?$/;
const path = z.string().min(1, 'must not be empty');
const urlOf = (v: string) => (URL.canParse(v) ? new URL(v) : undefined);

const schema = z
  .object({
    baseUrl: z
      .string()
      .min(1, 'is required')
      .refine((v) => ['http:', 'https:'].includes(urlOf(v)?.protocol ?? ''), 'must be an http(s) URL')
      .refine((v) => urlOf(v)?.username === '' && urlOf(v)?.password === '', 'must not carry credentials (use username and passwordFile, or bearerTokenFile)')
      .refine((v) => urlOf(v)?.search === '' && urlOf(v)?.hash === '', 'must not have a query or fragment'),
    timeoutMs: z.int('must be an integer').min(1, 'must be at least 1').max(300_000, 'must be at most 300000'),
    retries: z.int('must be an integer').min(0, 'must be at least 0').max(10, 'must be at most 10'),
    minBackoffMs: z.int('must be an integer').min(0, 'must be at least 0').max(60_000, 'must be at most 60000'),
    maxBackoffMs: z.int('must be an integer').min(0, 'must be at least 0').max(60_000, 'must be at most 60000'),
    tenant: tenantHeaderSchema.optional(),
    bearerTokenFile: path.optional(),
    // RFC 7617: the user-id of basic auth cannot hold a colon, and no control character goes in a header.
    username: z
      .string()
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .refine((v) => !v.includes(':'), 'must not contain a colon (basic auth separates user and password with it)')
      .refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters')
      .optional(),
    passwordFile: path.optional(),
    tls: z
      .object({
        caFile: path.optional(),
        certFile: path.optional(),
        keyFile: path.optional(),
        serverName: z
          .string()
          .refine((v) => HOSTNAME.test(v) || isIP(v) !== 0, 'must be a DNS name or an IP address')
          .optional(),
      })
      .strict()
      .optional(),
  })
  .superRefine((o, ctx) => {
    const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (o.minBackoffMs > o.maxBackoffMs) issue(['maxBackoffMs'], 'must be at least minBackoffMs');
    if (o.bearerTokenFile !== undefined && (o.username !== undefined || o.passwordFile !== undefined)) {
      issue(['bearerTokenFile'], 'choose one way of authenticating: a bearer token or basic auth (username and passwordFile), not both');
    }
    if (o.username !== undefined && o.passwordFile === undefined) issue(['passwordFile'], 'is required with username (basic auth)');
    if (o.passwordFile !== undefined && o.username === undefined) issue(['username'], 'is required with passwordFile (basic auth)');
    const tls = o.tls ?? {};
    const firstTls = (['caFile', 'certFile', 'keyFile', 'serverName'] as const).find((k) => tls[k] !== undefined);
    if (firstTls !== undefined && urlOf(o.baseUrl)?.protocol === 'http:') issue(['tls', firstTls], 'TLS settings need an https baseUrl (it is http: nothing would be encrypted or verified)');
    if (tls.certFile !== undefined && tls.keyFile === undefined) issue(['tls', 'keyFile'], 'is required with certFile (mutual TLS)');
    if (tls.keyFile !== undefined && tls.certFile === undefined) issue(['tls', 'certFile'], 'is required with keyFile (mutual TLS)');
  });

export type ValidatedOptions = z.output<typeof schema> & Pick<PrometheusClientOptions, 'logger' | 'fetch'>;

/** Every certificate of a PEM bundle; none, or one that does not parse, throws. */
export function pemCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`${what}: certificate ${i + 1} does not parse (${(error as Error).message})`, { cause: error });
    }
  });
}

function privateKey(pem: Buffer, what: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${what} holds no usable PEM private key (${(error as Error).message}; an encrypted key is not supported)`, { cause: error });
  }
}

/** Visible ASCII only: anything else cannot be sent in an `Authorization` header. */
const TOKEN = /^[\x21-\x7e]+$/;

/** Reads a bearer token from its file; a token a header cannot carry throws (without showing it). */
export function readToken(file: WatchedFile): string {
  const token = file.text();
  if (!TOKEN.test(token)) throw new FileReadError(file.path, 'holds characters a bearer token cannot have (only visible ASCII, one line)');
  return token;
}

/** The TLS material as the connection pool takes it, read from the files now. */
export interface TlsMaterial {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
}

/** Reads and checks the TLS files (the CA parses, the key parses and belongs to the certificate). */
export function readTlsMaterial(files: { ca?: WatchedFile; cert?: WatchedFile; key?: WatchedFile }, serverName: string | undefined): TlsMaterial {
  const material: { ca?: string; cert?: string; key?: string; servername?: string } = {};
  if (files.ca) {
    material.ca = files.ca.read().content.toString('utf8');
    pemCertificates(material.ca, files.ca.path);
  }
  if (files.cert && files.key) {
    material.cert = files.cert.read().content.toString('utf8');
    const [leaf] = pemCertificates(material.cert, files.cert.path);
    const keyPem = files.key.read().content;
    const key = privateKey(keyPem, files.key.path);
    if (leaf && !leaf.checkPrivateKey(key)) throw new Error(`${files.key.path} is not the private key of the certificate in ${files.cert.path}`);
    material.key = keyPem.toString('utf8');
  }
  if (serverName !== undefined) material.servername = serverName;
  return material;
}

/**
 * Validates the options (`InvalidPrometheusOptionError` names the first bad one) and reads every file once, so a
 * missing or unreadable file, a CA that is not PEM or a key that does not match its certificate is refused at start
 * rather than at the first measurement.
 */
export function validateOptions(options: PrometheusClientOptions): ValidatedOptions {
  const parsed = schema.safeParse({ ...DEFAULTS, ...options, logger: undefined, fetch: undefined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidPrometheusOptionError(issue?.path.join('.') || '(options)', issue?.message ?? 'invalid');
  }
  const o = parsed.data;
  const check = (option: string, read: () => unknown) => {
    try {
      read();
    } catch (error) {
      throw new InvalidPrometheusOptionError(option, error instanceof Error ? error.message : String(error));
    }
  };
  if (o.bearerTokenFile !== undefined) check('bearerTokenFile', () => readToken(new WatchedFile(o.bearerTokenFile as string)));
  if (o.passwordFile !== undefined) check('passwordFile', () => new WatchedFile(o.passwordFile as string).text());
  const tls = o.tls;
  if (tls?.caFile !== undefined) check('tls.caFile', () => readTlsMaterial({ ca: new WatchedFile(tls.caFile as string) }, undefined));
  if (tls?.certFile !== undefined) check('tls.certFile', () => new WatchedFile(tls.certFile as string).read());
  if (tls?.keyFile !== undefined && tls.certFile !== undefined) {
    check('tls.keyFile', () => readTlsMaterial({ cert: new WatchedFile(tls.certFile as string), key: new WatchedFile(tls.keyFile as string) }, undefined));
  }
  return { ...o, logger: options.logger, fetch: options.fetch };
}
