import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { LOCAL_HOST } from '@cortexops/config';
import { generateCa, generateLeaf } from './stack/servers/kubernetes/pki.js';

/** File paths of a throwaway PKI: a CA with a loopback server certificate and a client certificate, and an unrelated CA. */
export interface TestPki {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Only for a name other than the loopback addresses: the server certificate carries `serverName` too. */
  readonly serverName: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing here (a client trusting only it must refuse the server). */
  readonly otherCa: string;
  /** A client certificate from the other CA (a server trusting `ca` must refuse it). */
  readonly otherClientCert: string;
  readonly otherClientKey: string;
  remove(): void;
}

/** Generates a fresh PKI with openssl (P-256) in a temporary directory; `remove()` deletes it. */
export async function createTestPki(serverName = 'temporal.cortexops.test'): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'cortexops-pki-'));
  const other = join(dir, 'other');
  mkdirSync(other);
  await Promise.all([generateCa(dir), generateCa(other)]);
  await generateLeaf(dir, { stem: 'server', subject: '/CN=cortexops-test-server', usage: 'serverAuth', altNames: [`IP:${LOCAL_HOST}`, 'DNS:localhost', `DNS:${serverName}`] });
  await generateLeaf(dir, { stem: 'client', subject: '/CN=cortexops-test-client', usage: 'clientAuth' });
  await generateLeaf(other, { stem: 'client', subject: '/CN=cortexops-test-intruder', usage: 'clientAuth' });
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    serverName,
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    otherCa: join(other, 'ca.crt'),
    otherClientCert: join(other, 'client.crt'),
    otherClientKey: join(other, 'client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsTerminator {
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** TLS handshakes the terminator refused, with the reason (e.g. no client certificate when one is required). */
  readonly refused: readonly string[];
  /** Connections passed through to the target after a complete handshake. */
  readonly forwarded: () => number;
  close(): Promise<void>;
}

/**
 * A TLS front for a plain TCP server (how a Temporal frontend sits behind a TLS-terminating proxy or load balancer):
 * it serves `cert`/`key` with ALPN h2 (gRPC), demands a client certificate signed by `clientCa` when given (mTLS),
 * and pipes each accepted connection to `target`.
 */
export async function startTlsTerminator(options: { readonly target: string; readonly cert: string; readonly key: string; readonly clientCa?: string }): Promise<TlsTerminator> {
  const [host, port] = options.target.split(':') as [string, string];
  const refused: string[] = [];
  let forwarded = 0;
  const sockets = new Set<TLSSocket>();
  const server = createServer(
    {
      cert: readFileSync(options.cert),
      key: readFileSync(options.key),
      ALPNProtocols: ['h2'],
      ...(options.clientCa === undefined ? {} : { ca: readFileSync(options.clientCa), requestCert: true, rejectUnauthorized: true }),
    },
    (socket) => {
      forwarded += 1;
      sockets.add(socket);
      const upstream = connectTcp(Number(port), host);
      socket.pipe(upstream).pipe(socket);
      const end = () => {
        socket.destroy();
        upstream.destroy();
        sockets.delete(socket);
      };
      socket.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    },
  );
  server.on('tlsClientError', (error) => refused.push(error.message));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOCAL_HOST, () => resolve());
  });
  const { port: listening } = server.address() as AddressInfo;
  return {
    address: `${LOCAL_HOST}:${listening}`,
    refused,
    forwarded: () => forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
