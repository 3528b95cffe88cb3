import { readFileSync } from 'node:fs';
import type { ConfigOf, temporalSpec } from '@cortexops/config';
import type { TLSConfig } from '@temporalio/client';

/** What a connection needs from a service's configuration (every service with Temporal has `temporalSpec`). */
export type TemporalConnectionConfig = Pick<
  ConfigOf<typeof temporalSpec>,
  'temporalAddress' | 'temporalTls' | 'temporalTlsCaFile' | 'temporalTlsCertFile' | 'temporalTlsKeyFile' | 'temporalTlsServerName' | 'temporalApiKeyFile'
>;

/** The options both `Connection.connect` (clients) and `NativeConnection.connect` (the worker) take. */
export interface TemporalConnectOptions {
  readonly address: string;
  readonly tls?: TLSConfig;
  readonly apiKey?: string;
}

export const TEMPORAL_CONNECTION_ERROR_CODES = { invalidSettings: 'TEMPORAL_SETTINGS_INVALID', unreachable: 'TEMPORAL_UNREACHABLE' } as const;

/** The Temporal settings contradict each other or name a file that cannot be used; the message names the variable. */
export class TemporalSettingsError extends Error {
  readonly code = TEMPORAL_CONNECTION_ERROR_CODES.invalidSettings;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemporalSettingsError';
  }
}

function readSetting(variable: string, file: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw new TemporalSettingsError(`${variable}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  if (content.toString('utf8').trim().length === 0) throw new TemporalSettingsError(`${variable}: ${file} is empty`);
  return content;
}

function readPem(variable: string, file: string, label: RegExp): Buffer {
  const content = readSetting(variable, file);
  if (!label.test(content.toString('utf8'))) throw new TemporalSettingsError(`${variable}: ${file} is not PEM of the right kind (no ${label.source.replace(/\\/g, '')} block)`);
  return content;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * The connection options of a service's configuration, files read once (a rotated certificate or key needs a
 * restart). Fails with {@link TemporalSettingsError} naming the variable: a certificate without its key (or the
 * reverse), TLS files with `CORTEXOPS_TEMPORAL_TLS=false`, an unreadable, empty or non-PEM file.
 */
export function temporalConnectOptions(config: TemporalConnectionConfig): TemporalConnectOptions {
  const { temporalTlsCaFile: caFile, temporalTlsCertFile: certFile, temporalTlsKeyFile: keyFile, temporalTlsServerName: serverName } = config;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new TemporalSettingsError(
      certFile === undefined ? 'CORTEXOPS_TEMPORAL_TLS_KEY_FILE is set without CORTEXOPS_TEMPORAL_TLS_CERT_FILE' : 'CORTEXOPS_TEMPORAL_TLS_CERT_FILE is set without CORTEXOPS_TEMPORAL_TLS_KEY_FILE',
    );
  }
  const tlsNamed = [caFile && 'CORTEXOPS_TEMPORAL_TLS_CA_FILE', certFile && 'CORTEXOPS_TEMPORAL_TLS_CERT_FILE', serverName && 'CORTEXOPS_TEMPORAL_TLS_SERVER_NAME'].filter((v): v is string => typeof v === 'string');
  if (config.temporalTls === false && tlsNamed.length > 0) throw new TemporalSettingsError(`CORTEXOPS_TEMPORAL_TLS is false but ${tlsNamed.join(', ')} ${tlsNamed.length === 1 ? 'is' : 'are'} set: set it true or unset them`);
  const apiKey = config.temporalApiKeyFile === undefined ? undefined : readSetting('CORTEXOPS_TEMPORAL_API_KEY_FILE', config.temporalApiKeyFile).toString('utf8').trim();
  if (apiKey !== undefined && /[\s]/.test(apiKey)) throw new TemporalSettingsError('CORTEXOPS_TEMPORAL_API_KEY_FILE: the key must be one line without spaces');
  // An API key travels as a bearer token: over TLS unless TLS is explicitly off (Temporal's SDK does the same).
  const useTls = config.temporalTls ?? (tlsNamed.length > 0 || apiKey !== undefined);
  const tls: TLSConfig | undefined = useTls
    ? {
        ...(caFile === undefined ? {} : { serverRootCACertificate: readPem('CORTEXOPS_TEMPORAL_TLS_CA_FILE', caFile, CERTIFICATE) }),
        ...(certFile === undefined || keyFile === undefined
          ? {}
          : { clientCertPair: { crt: readPem('CORTEXOPS_TEMPORAL_TLS_CERT_FILE', certFile, CERTIFICATE), key: readPem('CORTEXOPS_TEMPORAL_TLS_KEY_FILE', keyFile, PRIVATE_KEY) } }),
        ...(serverName === undefined ? {} : { serverNameOverride: serverName }),
      }
    : undefined;
  return { address: config.temporalAddress, ...(tls === undefined ? {} : { tls }), ...(apiKey === undefined ? {} : { apiKey }) };
}
