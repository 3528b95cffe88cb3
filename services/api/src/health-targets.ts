import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HealthTarget } from '@cortexops/config';
import type { DependencyCheck } from '@cortexops/observability';

const BODY_LIMIT = 64 * 1024;

/** GET `url`; resolves with the status and (bounded) body, rejects on a network error or an abort. */
function get(url: URL, ca: string | undefined, signal: AbortSignal): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', signal, ...(ca ? { ca } : {}) }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < BODY_LIMIT) body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/** A CortexOps service's health body: which of its own dependencies are down, and why. */
function downDependencies(body: string): string {
  try {
    const report = JSON.parse(body) as { dependencies?: Record<string, { status?: string; lastError?: string }> };
    const down = Object.entries(report.dependencies ?? {}).filter(([, d]) => d.status === 'down');
    return down.map(([name, d]) => `${name} down${d.lastError ? ` (${d.lastError})` : ''}`).join('; ');
  } catch {
    return body.trim().slice(0, 200);
  }
}

/**
 * One component of the aggregated `/debug/healthz`: up when its URL answers 2xx. Not required — a peer being down is
 * reported (with the peer's own reason) but does not make the api itself unhealthy. An https target is verified with
 * the CA in `caFile` (read at each check: a cluster CA written after the api started, or replaced, is used as it is).
 */
export function healthTargetCheck(target: HealthTarget, caFile?: string): DependencyCheck {
  const url = new URL(target.url);
  return {
    name: target.name,
    required: false,
    check: async (signal) => {
      let ca: string | undefined;
      if (caFile !== undefined && url.protocol === 'https:') {
        ca = await readFile(caFile, 'utf8').catch((error: unknown) => {
          throw new Error(`the CA file ${caFile} (CORTEXOPS_API_HEALTH_CA_FILE) is unreadable: ${(error as Error).message}`);
        });
      }
      const { status, body } = await get(url, ca, signal);
      if (status < 200 || status >= 300) {
        const reason = downDependencies(body);
        throw new Error(`${url.origin}${url.pathname} answered ${status}${reason ? `: ${reason}` : ''}`);
      }
    },
  };
}
