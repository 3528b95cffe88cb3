import { readFileSync } from 'node:fs';
import type { ConfigOf, natsSpec } from '@cortexops/config';
import { connect, nkeyAuthenticator, type Authenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import { InvalidMessagingOptionError } from './errors.js';
import { userPublicKey } from './nkeys.js';

/** What a NATS client needs: the URL, the user's nkey seed file, and TLS (CA, optional client certificate). */
export type NatsClientConfig = ConfigOf<typeof natsSpec>;

/** A client's identity on the server: `cortexops-<name>` as connection name, `_INBOX.<name>` as its reply subjects. */
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The subject prefix of `name`'s replies (the server lets each user subscribe to its own only). */
export function natsInboxPrefix(name: string): string {
  return `_INBOX.${name}`;
}

function readSecret(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new InvalidMessagingOptionError(variable, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The seed of `path`, checked to be a user seed; the message names the variable and never shows the seed. */
export function readUserSeed(path: string): Uint8Array {
  const seed = readSecret('CORTEXOPS_NATS_NKEY_SEED_FILE', path);
  try {
    userPublicKey(seed);
  } catch {
    throw new InvalidMessagingOptionError('CORTEXOPS_NATS_NKEY_SEED_FILE', `${path} does not hold a user nkey seed (SU…)`);
  }
  return new TextEncoder().encode(seed);
}

/**
 * Signs the server's nonce with the seed read from `path` at every (re)connect: a rotated seed file is used on the
 * next connection without a restart.
 */
function seedFileAuthenticator(path: string): Authenticator {
  readUserSeed(path);
  return (nonce) => nkeyAuthenticator(readUserSeed(path))(nonce);
}

/**
 * Connection options of `name` (a service, `admin`, or a test): servers, name, reconnect without end, the nkey
 * authenticator and TLS. TLS is on with a `tls://` URL, a CA or a client certificate; the server is then verified
 * against the CA (or the system's roots). Bad options throw {@link InvalidMessagingOptionError} naming the variable.
 */
export function natsConnectOptions(config: NatsClientConfig, name: string): ConnectionOptions {
  if (!NAME.test(name)) throw new InvalidMessagingOptionError('name', `must be 1-63 of a-z, 0-9 and "-" (got ${JSON.stringify(name)})`);
  if ((config.natsCertFile === undefined) !== (config.natsKeyFile === undefined)) {
    throw new InvalidMessagingOptionError(config.natsCertFile === undefined ? 'CORTEXOPS_NATS_CERT_FILE' : 'CORTEXOPS_NATS_KEY_FILE', 'a client certificate needs both CORTEXOPS_NATS_CERT_FILE and CORTEXOPS_NATS_KEY_FILE');
  }
  const tlsWanted = config.natsUrl.startsWith('tls://') || config.natsCaFile !== undefined || config.natsCertFile !== undefined;
  for (const [variable, file] of [['CORTEXOPS_NATS_CA_FILE', config.natsCaFile], ['CORTEXOPS_NATS_CERT_FILE', config.natsCertFile], ['CORTEXOPS_NATS_KEY_FILE', config.natsKeyFile]] as const) {
    if (file !== undefined) readSecret(variable, file);
  }
  return {
    servers: config.natsUrl,
    name: `cortexops-${name}`,
    inboxPrefix: natsInboxPrefix(name),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // No stack captured per request (a large share of the per-message cost); a timed-out publish still names its subject.
    noAsyncTraces: true,
    ...(config.natsNkeySeedFile === undefined ? {} : { authenticator: seedFileAuthenticator(config.natsNkeySeedFile) }),
    ...(tlsWanted
      ? {
          tls: {
            ...(config.natsCaFile === undefined ? {} : { caFile: config.natsCaFile }),
            ...(config.natsCertFile === undefined ? {} : { certFile: config.natsCertFile }),
            ...(config.natsKeyFile === undefined ? {} : { keyFile: config.natsKeyFile }),
          },
        }
      : {}),
  };
}

/** What a connection lacks, for the warning a service logs at start (nothing when it has credentials and TLS). */
export function natsSecurityGaps(config: NatsClientConfig): string[] {
  const gaps: string[] = [];
  if (config.natsNkeySeedFile === undefined) gaps.push('no CORTEXOPS_NATS_NKEY_SEED_FILE: connecting without credentials');
  if (!config.natsUrl.startsWith('tls://') && config.natsCaFile === undefined && config.natsCertFile === undefined) gaps.push('no TLS (neither a tls:// URL nor CORTEXOPS_NATS_CA_FILE): traffic and credentials in the clear');
  return gaps;
}

/**
 * The one way every service (and the tests' helpers) connects to NATS: {@link natsConnectOptions}, and a warning through
 * `warn` for each security gap (no credentials, no TLS) so an installation running without them says so.
 */
export async function connectNats(config: NatsClientConfig, name: string, warn?: (message: string) => void): Promise<NatsConnection> {
  const options = natsConnectOptions(config, name);
  for (const gap of natsSecurityGaps(config)) warn?.(`NATS: ${gap}`);
  return connect(options);
}
