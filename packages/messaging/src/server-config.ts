import { InvalidMessagingOptionError } from './errors.js';
import { isUserPublicKey } from './nkeys.js';
import { NATS_USERS, natsPermissions, type NatsPermissionNames, type NatsUser } from './permissions.js';

/** The application account (every CortexOps user, JetStream on) and the system account (server administration). */
export const NATS_ACCOUNTS = { app: 'CORTEXOPS', system: 'SYS' } as const;

export interface NatsServerTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA that client certificates must chain to; with `verifyClients` every client must present one (mTLS). */
  readonly caFile?: string;
  readonly verifyClients?: boolean;
}

export interface NatsServerConfigOptions {
  readonly serverName: string;
  /** `host:port` of the client listener. */
  readonly listen: string;
  /** `host:port` of the monitoring listener (plain HTTP; keep it on a private interface). */
  readonly http?: string;
  readonly storeDir: string;
  readonly tls?: NatsServerTls;
  /**
   * Public nkeys (U…) of each user; two keys of one user are both accepted (rotation: add the new, move the clients,
   * remove the old, reload). `system` is the system account's user.
   */
  readonly publicKeys: Readonly<Record<NatsUser | 'system', readonly string[]>>;
  readonly names?: NatsPermissionNames;
}

function checkedUserKey(user: string, key: string): string {
  if (!isUserPublicKey(key)) throw new InvalidMessagingOptionError(`publicKeys.${user}`, `must be user public nkeys (U…), got ${JSON.stringify(key.slice(0, 8))}…`);
  return key;
}

/**
 * nats-server's configuration (JSON, which nats-server's format accepts) with accounts, nkey users and their
 * permissions, TLS, and the system account. It holds public keys only: nothing in it is secret.
 */
export function natsServerConfig(options: NatsServerConfigOptions): string {
  const permissions = natsPermissions(options.names);
  const users = NATS_USERS.flatMap((user) =>
    options.publicKeys[user].map((key) => ({ nkey: checkedUserKey(user, key), ...(user === 'admin' ? {} : { permissions: permissions[user] }) })),
  );
  const config = {
    server_name: options.serverName,
    listen: options.listen,
    ...(options.http ? { http: options.http } : {}),
    jetstream: { store_dir: options.storeDir },
    ...(options.tls
      ? {
          tls: {
            cert_file: options.tls.certFile,
            key_file: options.tls.keyFile,
            ...(options.tls.caFile ? { ca_file: options.tls.caFile } : {}),
            verify: options.tls.verifyClients ?? false,
            timeout: 2,
          },
        }
      : {}),
    accounts: {
      [NATS_ACCOUNTS.app]: { jetstream: 'enabled', users },
      [NATS_ACCOUNTS.system]: { users: options.publicKeys.system.map((key) => ({ nkey: checkedUserKey('system', key) })) },
    },
    system_account: NATS_ACCOUNTS.system,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
