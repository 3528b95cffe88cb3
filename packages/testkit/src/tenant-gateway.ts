import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { LOCAL_HOST } from '@cortexops/config';
import { TENANT_HEADER, tenantIdProblem } from '@cortexops/contracts';

export interface TenantGatewayOptions {
  /** The Prometheus it fronts (plain http), e.g. `http://127.0.0.1:9090`. */
  readonly upstream: string;
  /** The bearer token callers must send, read from this file on every request (rotation takes effect at once). */
  readonly tokenFile: string;
  /** The tenants the token may read; a request for any other is 403. */
  readonly tenants: readonly string[];
  /** Where the query API is served (`/prometheus`, as Mimir's gateway and query-frontend serve it). */
  readonly pathPrefix: string;
  /** Serve HTTPS with this certificate and key. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export interface TenantGateway {
  readonly url: string;
  /** Each request as the gateway saw it: the tenant header, the path, the status it answered. */
  readonly requests: readonly { readonly tenant: string | undefined; readonly path: string; readonly status: number }[];
  close(): Promise<void>;
}

function refuse(res: ServerResponse, status: number, text: string): number {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
  return status;
}

/**
 * A stand-in for Mimir's authenticating gateway in front of a real Prometheus (no Mimir binary can be built here in
 * a test's time): it demands `Authorization: Bearer <the file's token>` (401 otherwise), an `X-Scope-OrgID` (401
 * `no org id`, Mimir's own answer) that names tenants the token may read (403 otherwise; `a|b` is a federated read
 * of both), serves the query API under `pathPrefix` only (404 elsewhere), and forwards what passes to the upstream's
 * `/api/v1/...` unchanged.
 */
export async function startTenantGateway(options: TenantGatewayOptions): Promise<TenantGateway> {
  const upstream = new URL(options.upstream);
  const requests: { tenant: string | undefined; path: string; status: number }[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse): number | undefined => {
    const token = readFileSync(options.tokenFile, 'utf8').trim();
    if (req.headers.authorization !== `Bearer ${token}`) return refuse(res, 401, 'unauthorized');
    const tenant = req.headers[TENANT_HEADER.toLowerCase()];
    if (typeof tenant !== 'string' || tenant === '') return refuse(res, 401, 'no org id');
    const tenants = tenant.split('|');
    const bad = tenants.map(tenantIdProblem).find((p) => p !== undefined);
    if (bad !== undefined) return refuse(res, 400, bad);
    if (!tenants.every((t) => options.tenants.includes(t))) return refuse(res, 403, `the token may not read tenant ${tenant}`);
    const path = req.url ?? '/';
    if (!path.startsWith(`${options.pathPrefix}/api/v1/`)) return refuse(res, 404, 'not found');
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: path.slice(options.pathPrefix.length), headers: { 'content-type': req.headers['content-type'] ?? '', accept: 'application/json' } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => refuse(res, 502, `upstream: ${error.message}`));
    req.pipe(forward);
    return 200;
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const status = handle(req, res);
    requests.push({ tenant: req.headers[TENANT_HEADER.toLowerCase()] as string | undefined, path: req.url ?? '', status: status ?? 0 });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOCAL_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://${LOCAL_HOST}:${port}${options.pathPrefix}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
