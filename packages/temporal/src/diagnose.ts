import { checkServerIdentity, connect } from 'node:tls';
import type { TemporalConnectOptions } from './options.js';

/** How long the diagnosis waits for the handshake, and after it for the server's refusal of our certificate (TLS 1.3). */
const HANDSHAKE_TIMEOUT_MS = 5000;
const ALERT_WAIT_MS = 300;

/** Errors of the network, not of TLS: the server may still be starting, so the SDK's own connect (with its deadline) goes on. */
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

export interface TlsProblem {
  readonly reason: string;
  /** A certificate or protocol refusal (fails the same way on every attempt), as opposed to the network. */
  readonly tls: boolean;
}

/**
 * Why a TLS connection to Temporal fails, in the words of Node's TLS stack (grpc-js reports only "Failed to connect
 * before the deadline"): the server's certificate not trusted or not for that name, or the server refusing our
 * certificate. Undefined when the handshake is fine (the failure is elsewhere).
 */
export function tlsHandshakeProblem(options: TemporalConnectOptions): Promise<TlsProblem | undefined> {
  const { tls } = options;
  if (tls === undefined) return Promise.resolve(undefined);
  const separator = options.address.lastIndexOf(':');
  const host = options.address.slice(0, separator);
  const servername = tls.serverNameOverride ?? (/^[\d.]+$|:/.test(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: Number(options.address.slice(separator + 1)),
      ALPNProtocols: ['h2'],
      ...(servername === undefined ? {} : { servername }),
      ...(tls.serverRootCACertificate === undefined ? {} : { ca: Buffer.from(tls.serverRootCACertificate) }),
      ...(tls.clientCertPair === undefined ? {} : { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) }),
      // Checked like grpc-js does: the certificate for the override name when one is given, else for the address.
      ...(tls.serverNameOverride === undefined ? {} : { checkServerIdentity: (_: string, cert) => checkServerIdentity(tls.serverNameOverride!, cert) }),
    });
    const done = (problem: TlsProblem | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done({ reason: `no TLS handshake within ${HANDSHAKE_TIMEOUT_MS} ms`, tls: false }), HANDSHAKE_TIMEOUT_MS);
    socket.once('error', (error: NodeJS.ErrnoException) => done({ reason: `${error.code ? `${error.code}: ` : ''}${error.message}`, tls: !NETWORK_ERRORS.has(error.code ?? '') }));
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      // TLS 1.3: the server refuses our certificate after the handshake, with an alert the next read returns.
      socket.resume();
      // Node's TLS server refusing a certificate of another CA just closes the connection.
      socket.once('close', () => done({ reason: 'the server closed the connection right after the handshake (it did not accept our client certificate?)', tls: true }));
      setTimeout(() => done(undefined), ALERT_WAIT_MS);
    });
  });
}
