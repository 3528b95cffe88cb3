import { optionalStringVar } from './env.js';

/**
 * How a service authenticates to NATS and verifies it (packages/messaging `connectNats`). Every secret is a file
 * (mounted from a Secret), never a value in the environment; the files are read at each (re)connect, so a rotated
 * seed is picked up without a restart. Unset seed: no credentials (a server with accounts refuses the connection; a
 * warning says so at start). TLS is on when the URL's scheme is `tls` or a CA or client certificate is configured.
 */
export const natsCredentialsSpec = {
  natsNkeySeedFile: optionalStringVar(
    'CORTEXOPS_NATS_NKEY_SEED_FILE',
    "file holding this service's NATS user nkey seed (SU…; `nsc generate nkey --user` or the stack's generator): the server signs a nonce challenge with it and keeps only the public key in its configuration",
  ),
  natsCaFile: optionalStringVar('CORTEXOPS_NATS_CA_FILE', "PEM of the CA that signed the NATS server's certificate (TLS on, the server verified against it)"),
  natsCertFile: optionalStringVar('CORTEXOPS_NATS_CERT_FILE', 'client certificate (PEM) for a NATS server that verifies clients (mTLS); with CORTEXOPS_NATS_KEY_FILE'),
  natsKeyFile: optionalStringVar('CORTEXOPS_NATS_KEY_FILE', 'private key (PEM) of CORTEXOPS_NATS_CERT_FILE'),
} as const;
