import { TENANT_HEADER } from '@cortexops/contracts';
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { PrometheusQueryError } from './errors.js';
import { readTlsMaterial, readToken, type TlsMaterial, type ValidatedOptions } from './options.js';
import { WatchedFile } from './watched-file.js';

/** What one HTTP exchange gave: the status and the body as text. */
export interface Exchange {
  readonly status: number;
  readonly text: string;
}

/** Node's codes for a failed TLS handshake or certificate check (`tls.connect`, OpenSSL). */
const TLS_ERROR = /CERT|SIGNATURE|HOSTNAME_MISMATCH|^ERR_TLS_|^ERR_SSL_|^EPROTO$/;

/** What to check, for the handshake failures a setting causes. */
function tlsHint(code: string): string {
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO') return ' (is the server speaking plain http? then use an http URL)';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return ' (the certificate names another host: set the server name it carries)';
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE/.test(code)) return ' (the server refused the client certificate, or wants one)';
  if (/CERT|SIGNATURE/.test(code)) return ' (the server certificate does not chain to the trusted CA: check the CA file)';
  return '';
}

function causeOf(error: unknown): { code?: string; message?: string } {
  const cause = (error as { cause?: unknown }).cause;
  if (cause === null || typeof cause !== 'object') return {};
  const { code, message } = cause as { code?: unknown; message?: unknown };
  return { ...(typeof code === 'string' ? { code } : {}), ...(typeof message === 'string' ? { message } : {}) };
}

/** The first line of a body, shortened, with every credential the client holds taken out. */
function excerpt(text: string, secrets: readonly string[]): string {
  let line = text.trim().split('\n')[0] ?? '';
  for (const secret of secrets) if (secret.length > 0) line = line.split(secret).join('[redacted]');
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/**
 * The HTTP side of the client: one connection pool carrying the TLS settings (rebuilt when a CA, certificate or key
 * file changes), the tenant header and the credentials read from their files on each request (a rotated token is
 * sent from the next request on). Failures become `PrometheusQueryError`s with a reason; no message carries a
 * credential.
 */
export class PrometheusTransport {
  private readonly base: string;
  private readonly token?: WatchedFile;
  private readonly password?: WatchedFile;
  private readonly tlsFiles: { ca?: WatchedFile; cert?: WatchedFile; key?: WatchedFile };
  private pool: { readonly version: string; readonly agent: Agent } | undefined;

  constructor(private readonly options: ValidatedOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    if (options.bearerTokenFile !== undefined) this.token = new WatchedFile(options.bearerTokenFile);
    if (options.passwordFile !== undefined) this.password = new WatchedFile(options.passwordFile);
    const { caFile, certFile, keyFile } = options.tls ?? {};
    this.tlsFiles = {
      ...(caFile === undefined ? {} : { ca: new WatchedFile(caFile) }),
      ...(certFile === undefined ? {} : { cert: new WatchedFile(certFile) }),
      ...(keyFile === undefined ? {} : { key: new WatchedFile(keyFile) }),
    };
  }

  /** How requests authenticate, for logs and messages (never the secret itself). */
  describeAuth(): string {
    if (this.token) return `bearer token from ${this.token.path}`;
    if (this.password) return `basic auth as ${JSON.stringify(this.options.username)}`;
    return 'no credentials';
  }

  /** One request to `<base><path>` (GET with `params` as the query string, or POST with them as a form). */
  async send(method: 'GET' | 'POST', path: string, params: URLSearchParams): Promise<Exchange> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.credentials() };
    if (this.options.tenant !== undefined) headers[TENANT_HEADER] = this.options.tenant;
    let url = `${this.base}${path}`;
    let body: string | undefined;
    if (method === 'POST') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = params.toString();
    } else if ([...params.keys()].length > 0) {
      url = `${url}?${params.toString()}`;
    }
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = this.options.fetch
        ? await this.options.fetch(url, { method, headers, body, signal })
        : await undiciFetch(url, { method, headers, body, signal, dispatcher: this.agent() } satisfies UndiciRequestInit);
      const text = await response.text();
      if (response.status === 401 || response.status === 403) {
        const tenant = this.options.tenant === undefined ? '' : `, tenant ${this.options.tenant}`;
        throw new PrometheusQueryError(
          `HTTP ${response.status} from ${this.options.baseUrl}: ${response.status === 401 ? 'not authenticated' : 'not authorised'} (sent ${this.describeAuth()}${tenant}): ${excerpt(text, this.secrets())}`,
          'auth',
          response.status,
        );
      }
      return { status: response.status, text };
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** Closes the connection pool (requests in flight finish first). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.agent.close();
  }

  private credentials(): Record<string, string> {
    try {
      if (this.token) return { authorization: `Bearer ${readToken(this.token)}` };
      if (this.password) return { authorization: `Basic ${Buffer.from(`${this.options.username}:${this.password.text()}`).toString('base64')}` };
      return {};
    } catch (error) {
      throw new PrometheusQueryError(`cannot read the credentials for ${this.options.baseUrl}: ${(error as Error).message}`, 'credentials', undefined, { cause: error });
    }
  }

  private secrets(): string[] {
    const secrets: string[] = [];
    try {
      if (this.token) secrets.push(this.token.text());
      if (this.password) secrets.push(this.password.text());
    } catch {
      // a file that went away has nothing left to hide
    }
    return secrets;
  }

  /** The pool for the TLS files as they are now; a new one (and the old closed) when any of them changed. */
  private agent(): Agent {
    const { ca, cert, key } = this.tlsFiles;
    let version: string;
    try {
      version = [ca, cert, key].map((f) => f?.read().version ?? '-').join('|');
    } catch (error) {
      throw new PrometheusQueryError(`cannot read the TLS files for ${this.options.baseUrl}: ${(error as Error).message}`, 'credentials', undefined, { cause: error });
    }
    if (this.pool?.version === version) return this.pool.agent;
    let material: TlsMaterial;
    try {
      material = readTlsMaterial(this.tlsFiles, this.options.tls?.serverName);
    } catch (error) {
      throw new PrometheusQueryError(`the TLS files for ${this.options.baseUrl} are not usable: ${(error as Error).message}`, 'credentials', undefined, { cause: error });
    }
    const previous = this.pool;
    this.pool = { version, agent: new Agent({ connect: { ...material, rejectUnauthorized: true }, connections: 8 }) };
    void previous?.agent.close().catch(() => undefined);
    return this.pool.agent;
  }

  private failure(error: unknown): PrometheusQueryError {
    if (error instanceof PrometheusQueryError) return error;
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new PrometheusQueryError(`no answer from ${this.options.baseUrl} within ${this.options.timeoutMs} ms`, 'timeout', undefined, { cause: error });
    }
    const { code, message } = causeOf(error);
    if (code !== undefined && TLS_ERROR.test(code)) {
      return new PrometheusQueryError(`TLS with ${this.options.baseUrl} failed: ${code}${message ? ` — ${message}` : ''}${tlsHint(code)}`, 'tls', undefined, { cause: error });
    }
    const what = code ?? message ?? (error instanceof Error ? error.message : String(error));
    // TLS 1.3: a server refusing the client's certificate (or wanting one) closes after the handshake; undici only
    // sees the connection closed. Still retried (a server may close for other reasons), but said.
    const closed = code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
    const hint = closed && this.options.baseUrl.startsWith('https:') ? ` (${message ?? 'closed'}; over https this is also how a server refuses a client certificate it does not trust, or wants one)` : '';
    return new PrometheusQueryError(`cannot reach ${this.options.baseUrl}: ${what}${hint}`, 'network', undefined, { cause: error });
  }
}
