import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_HOST } from '@cortexops/config';
import type { StackContext } from '../../types.js';
import { apiserverUrl, CLUSTER_NAME, kubeconfigPaths, kubernetesDataDir, pkiDir, pkiFile } from './paths.js';

const run = promisify(execFile);
const VALID_DAYS = 3650;
/** The first address of the service range (`--service-cluster-ip-range`), the `kubernetes` Service. */
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const FRONT_PROXY_CLIENT = 'front-proxy-client';

export interface LeafCertificate {
  /** File stem: `<stem>.key`, `<stem>.crt`. */
  readonly stem: string;
  readonly subject: string;
  readonly usage: 'serverAuth' | 'clientAuth';
  readonly altNames?: readonly string[];
}

/**
 * The serving certificate is shared by kube-apiserver, kube-controller-manager and kube-scheduler:
 * all three listen on loopback only. Client certificates carry the identities RBAC's bootstrap
 * policy knows (`system:masters`, `system:kube-controller-manager`, `system:kube-scheduler`).
 */
const LEAVES: readonly LeafCertificate[] = [
  {
    stem: 'serving',
    subject: '/CN=kube-apiserver',
    usage: 'serverAuth',
    altNames: [`IP:${LOCAL_HOST}`, 'IP:::1', 'DNS:localhost', `IP:${KUBERNETES_SERVICE_IP}`, 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'],
  },
  { stem: 'admin', subject: '/O=system:masters/CN=cortexops-admin', usage: 'clientAuth' },
  { stem: 'controller-manager', subject: '/CN=system:kube-controller-manager', usage: 'clientAuth' },
  { stem: 'scheduler', subject: '/CN=system:kube-scheduler', usage: 'clientAuth' },
  // The aggregation layer's proxy identity (`--proxy-client-*`), accepted only under this name.
  { stem: 'front-proxy-client', subject: `/CN=${FRONT_PROXY_CLIENT}`, usage: 'clientAuth' },
];

async function openssl(cwd: string, args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args], { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`openssl ${args[0]} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}

const newKey = (cwd: string, file: string) => openssl(cwd, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);

/** A minimal OpenSSL configuration, so no distribution default (`v3_ca` on every `req -x509`) leaks in. */
function opensslConfig(extensions: readonly string[]): string {
  return ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', '[ext]', ...extensions, ''].join('\n');
}

/** Writes `<stem>.key` and `<stem>.crt` under temporary names and renames the certificate last: a present certificate is complete. */
export async function generateCa(dir: string): Promise<void> {
  writeFileSync(join(dir, 'ca.cnf'), opensslConfig(['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign, digitalSignature', 'subjectKeyIdentifier = hash']));
  await newKey(dir, 'ca.key.tmp');
  await openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key.tmp', '-subj', '/CN=cortexops-local-ca', '-days', String(VALID_DAYS), '-config', 'ca.cnf', '-extensions', 'ext', '-out', 'ca.crt.tmp']);
  renameSync(join(dir, 'ca.key.tmp'), join(dir, 'ca.key'));
  renameSync(join(dir, 'ca.crt.tmp'), join(dir, 'ca.crt'));
}

export async function generateLeaf(dir: string, leaf: LeafCertificate): Promise<void> {
  const extensions = [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    `extendedKeyUsage = ${leaf.usage}`,
    'authorityKeyIdentifier = keyid',
    ...(leaf.altNames ? [`subjectAltName = ${leaf.altNames.join(', ')}`] : []),
  ];
  const { stem } = leaf;
  writeFileSync(join(dir, `${stem}.cnf`), opensslConfig(extensions));
  await newKey(dir, `${stem}.key.tmp`);
  await openssl(dir, ['req', '-new', '-key', `${stem}.key.tmp`, '-subj', leaf.subject, '-config', `${stem}.cnf`, '-out', `${stem}.csr`]);
  await openssl(dir, ['x509', '-req', '-in', `${stem}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', String(VALID_DAYS), '-extfile', `${stem}.cnf`, '-extensions', 'ext', '-out', `${stem}.crt.tmp`]);
  renameSync(join(dir, `${stem}.key.tmp`), join(dir, `${stem}.key`));
  renameSync(join(dir, `${stem}.crt.tmp`), join(dir, `${stem}.crt`));
}

/**
 * Creates what is missing of the cluster's certificates: a CA, the loopback serving certificate,
 * client certificates and the ServiceAccount key pair. Existing files are kept (tokens already
 * issued stay valid); a new CA makes every certificate new.
 */
export async function ensurePki(ctx: StackContext): Promise<void> {
  const dir = pkiDir(ctx);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const has = (file: string) => existsSync(join(dir, file));
  const freshCa = !has('ca.crt');
  if (freshCa) await generateCa(dir);
  for (const leaf of LEAVES) {
    if (freshCa || !has(`${leaf.stem}.crt`)) await generateLeaf(dir, leaf);
  }
  // ServiceAccount tokens: kube-apiserver signs with the private key and verifies with the public one.
  if (!has('sa.pub')) {
    await newKey(dir, 'sa.key.tmp');
    await openssl(dir, ['pkey', '-in', 'sa.key.tmp', '-pubout', '-out', 'sa.pub.tmp']);
    renameSync(join(dir, 'sa.key.tmp'), join(dir, 'sa.key'));
    renameSync(join(dir, 'sa.pub.tmp'), join(dir, 'sa.pub'));
  }
}

const base64 = (file: string) => readFileSync(file).toString('base64');

export type KubeconfigUser = { readonly clientCertificate: string; readonly clientKey: string } | { readonly token: string };

/** Writes a self-contained kubeconfig (certificates embedded) for the local cluster; JSON is valid YAML. */
export function writeKubeconfig(ctx: StackContext, file: string, userName: string, user: KubeconfigUser): void {
  const credentials =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate-data': base64(user.clientCertificate), 'client-key-data': base64(user.clientKey) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CLUSTER_NAME, cluster: { server: apiserverUrl(ctx), 'certificate-authority-data': base64(pkiFile(ctx, 'ca.crt')) } }],
    users: [{ name: userName, user: credentials }],
    contexts: [{ name: `${userName}@${CLUSTER_NAME}`, context: { cluster: CLUSTER_NAME, user: userName } }],
    'current-context': `${userName}@${CLUSTER_NAME}`,
  };
  const text = `${JSON.stringify(config, null, 2)}\n`;
  // Unchanged files are left alone: kube-state-metrics watches its kubeconfig and restarts (resetting its
  // metrics) whenever the file is written, and every `up` passes here.
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  mkdirSync(kubernetesDataDir(ctx), { recursive: true });
  const temp = `${file}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, file);
}

/** Kubeconfigs of the administrator and of the control-plane components (client certificates). */
export function writeComponentKubeconfigs(ctx: StackContext): void {
  const paths = kubeconfigPaths(ctx);
  const cert = (stem: string) => ({ clientCertificate: pkiFile(ctx, `${stem}.crt`), clientKey: pkiFile(ctx, `${stem}.key`) });
  writeKubeconfig(ctx, paths.admin, 'cortexops-admin', cert('admin'));
  writeKubeconfig(ctx, paths.controllerManager, 'system:kube-controller-manager', cert('controller-manager'));
  writeKubeconfig(ctx, paths.scheduler, 'system:kube-scheduler', cert('scheduler'));
}
