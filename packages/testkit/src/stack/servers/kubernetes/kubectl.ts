import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackContext } from '../../types.js';
import { kubeconfigPaths, kubernetesBinary, pkiFile } from './paths.js';

const PROBE_TIMEOUT_MS = 2000;
const KUBECTL_TIMEOUT_MS = 60_000;

/** Resolves when `url` answers 2xx over TLS verified against the cluster CA (health endpoints need no credentials). */
export function httpsOk(ctx: StackContext, url: string): Promise<void> {
  const ca = readFileSync(pkiFile(ctx, 'ca.crt'));
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: PROBE_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`${url} answered ${status}: ${body.trim().split('\n').filter((l) => l.includes('failed')).join('; ') || body.trim().slice(0, 200)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export class KubectlError extends Error {
  readonly code = 'STACK_KUBECTL_FAILED';
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    /** What kubectl printed before failing (`auth can-i` prints its "no" and exits 1). */
    readonly stdout: string,
    options?: ErrorOptions,
  ) {
    super(`kubectl ${args.join(' ')} failed: ${stderr.trim()}`, options);
    this.name = 'KubectlError';
  }
}

/** Runs the stack's own kubectl as the administrator (or with `kubeconfig`), optionally feeding `stdin`. */
export function kubectl(ctx: StackContext, args: readonly string[], options: { stdin?: string; kubeconfig?: string } = {}): Promise<string> {
  const fullArgs = ['--kubeconfig', options.kubeconfig ?? kubeconfigPaths(ctx).admin, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(kubernetesBinary(ctx, 'kubectl'), fullArgs, { timeout: KUBECTL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new KubectlError(args, stderr || error.message, stdout, { cause: error }));
      else resolve(stdout);
    });
    child.stdin?.end(options.stdin ?? '');
  });
}

/** Any Kubernetes object, as JSON (kubectl reads JSON as readily as YAML). */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/**
 * Creates `manifest` unless an object of that kind and name exists. Existing objects are left as they
 * are (a test may have scaled the demo Deployment; kwok owns node status), so `up` never undoes them.
 */
export async function createIfMissing(ctx: StackContext, manifest: Manifest): Promise<boolean> {
  const ns = manifest.metadata.namespace ? ['--namespace', manifest.metadata.namespace] : [];
  const found = await kubectl(ctx, ['get', manifest.kind, manifest.metadata.name, ...ns, '--ignore-not-found', '-o', 'name']);
  if (found.trim() !== '') return false;
  await kubectl(ctx, ['create', '-f', '-'], { stdin: JSON.stringify(manifest) });
  return true;
}

/** Polls `read` until it returns a value, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(250);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
}
