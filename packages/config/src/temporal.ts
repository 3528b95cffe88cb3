import { z } from 'zod';
import { type EnvVar, optionalStringVar } from './env.js';

/** true/false/1/0, or unset (undefined: decided from the other variables). */
function optionalBooleanVar(name: string, description: string): EnvVar<boolean | undefined> {
  return {
    name,
    description,
    schema: z
      .enum(['true', 'false', '1', '0'], { error: () => 'must be true or false' })
      .transform((v) => v === 'true' || v === '1')
      .optional(),
  };
}

/**
 * How the services reach Temporal beyond its address and namespace (packages/temporal builds the connection from
 * these): TLS with the server checked against a CA file (or the system's roots), a client certificate for mTLS, a
 * server-name override, and an API key read from a file (Temporal Cloud, or a frontend with an authorizer). Unset
 * `CORTEXOPS_TEMPORAL_TLS`: TLS is on when a TLS file, the server name or an API key is given.
 */
export const temporalTlsSpec = {
  temporalTls: optionalBooleanVar(
    'CORTEXOPS_TEMPORAL_TLS',
    "true: TLS to Temporal (the server checked against CORTEXOPS_TEMPORAL_TLS_CA_FILE, or the system's roots); false: plain (then no TLS variable may be set). Unset: TLS when a TLS file, the server name or an API key is given",
  ),
  temporalTlsCaFile: optionalStringVar('CORTEXOPS_TEMPORAL_TLS_CA_FILE', "PEM file of the CA(s) Temporal's server certificate is checked against (default: the system's roots)"),
  temporalTlsCertFile: optionalStringVar('CORTEXOPS_TEMPORAL_TLS_CERT_FILE', 'PEM client certificate presented to Temporal (mTLS); needs CORTEXOPS_TEMPORAL_TLS_KEY_FILE'),
  temporalTlsKeyFile: optionalStringVar('CORTEXOPS_TEMPORAL_TLS_KEY_FILE', 'PEM private key of CORTEXOPS_TEMPORAL_TLS_CERT_FILE (needs the certificate)'),
  temporalTlsServerName: optionalStringVar('CORTEXOPS_TEMPORAL_TLS_SERVER_NAME', 'name the server certificate must carry when it is not the host of CORTEXOPS_TEMPORAL_ADDRESS (sent as SNI too)'),
  temporalApiKeyFile: optionalStringVar('CORTEXOPS_TEMPORAL_API_KEY_FILE', 'file holding the API key sent to Temporal as a bearer token (Temporal Cloud, or a frontend with an authorizer); read at start'),
} as const;
