import { Connection } from '@temporalio/client';
import { tlsHandshakeProblem } from './diagnose.js';
import { type TemporalConnectionConfig, type TemporalConnectOptions, temporalConnectOptions, TEMPORAL_CONNECTION_ERROR_CODES } from './options.js';

/** A Temporal connection class: `Connection` (clients) or the worker's `NativeConnection`. */
export interface TemporalConnector<C> {
  connect(options: TemporalConnectOptions): Promise<C>;
}

/** Temporal could not be reached; with TLS, the message says why the handshake failed when it did. */
export class TemporalConnectionError extends Error {
  readonly code = TEMPORAL_CONNECTION_ERROR_CODES.unreachable;
  constructor(
    readonly address: string,
    readonly tlsProblem: string | undefined,
    cause: unknown,
  ) {
    super(`cannot connect to Temporal at ${address}: ${tlsProblem === undefined ? (cause instanceof Error ? cause.message : String(cause)) : `TLS handshake failed: ${tlsProblem}`}`, cause === undefined ? {} : { cause });
    this.name = 'TemporalConnectionError';
  }
}

/**
 * The one way a service connects to Temporal: address, TLS/mTLS, server name and API key from its configuration
 * (`CORTEXOPS_TEMPORAL_*`). Clients get a `Connection`; the worker passes `NativeConnection`, so this package does not
 * load the worker's native runtime into the other services. With TLS, a handshake of its own comes first: a certificate
 * problem fails at once and says what it is (grpc-js says only "Failed to connect before the deadline", after 10 s).
 */
export function connectTemporal(config: TemporalConnectionConfig): Promise<Connection>;
export function connectTemporal<C>(config: TemporalConnectionConfig, connector: TemporalConnector<C>): Promise<C>;
export async function connectTemporal<C>(config: TemporalConnectionConfig, connector?: TemporalConnector<C>): Promise<C | Connection> {
  const options = temporalConnectOptions(config);
  // A certificate problem fails at once with its reason, instead of after the SDK's 10 s deadline without one.
  const early = await tlsHandshakeProblem(options);
  if (early?.tls === true) throw new TemporalConnectionError(options.address, early.reason, undefined);
  try {
    return connector === undefined ? await Connection.connect(options) : await connector.connect(options);
  } catch (error) {
    throw new TemporalConnectionError(options.address, (await tlsHandshakeProblem(options))?.reason, error);
  }
}
