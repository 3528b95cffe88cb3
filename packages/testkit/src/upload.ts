import { request as httpRequest } from 'node:http';

export interface ChunkedUploadResult {
  /** The status answered before the upload ended, if any. */
  readonly status?: number;
  /** The answer's `Connection` header (`close`: the server stopped reading). */
  readonly connection?: string;
  /** Bytes written before the answer came (or the connection closed). */
  readonly sentBytes: number;
  /** Most this process's heap plus array buffers grew while uploading (meaningful when the server runs in-process). */
  readonly peakGrowthBytes: number;
}

const CHUNK = Buffer.alloc(64 * 1024, ' ');

/**
 * POSTs `totalBytes` as a chunked body (no Content-Length) in 64 KiB chunks, honouring back-pressure, and stops as soon
 * as the server answers: how an ingress bound is tested (a server that buffers everything answers only at the end).
 */
export async function chunkedUpload(url: string, options: { readonly totalBytes: number; readonly headers?: Record<string, string> }): Promise<ChunkedUploadResult> {
  const target = new URL(url);
  const before = process.memoryUsage();
  let peak = 0;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peak = Math.max(peak, now.heapUsed + now.arrayBuffers - (before.heapUsed + before.arrayBuffers));
  }, 5);
  try {
    return await new Promise<ChunkedUploadResult>((resolve) => {
      let sent = 0;
      let answer: { status?: number; connection?: string } = {};
      const done = () => resolve({ ...answer, sentBytes: sent, peakGrowthBytes: peak });
      const req = httpRequest(
        { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: 'POST', headers: { ...options.headers, 'transfer-encoding': 'chunked' } },
        (res) => {
          answer = { ...(res.statusCode === undefined ? {} : { status: res.statusCode }), ...(res.headers.connection ? { connection: res.headers.connection } : {}) };
          res.resume();
          req.destroy();
          done();
        },
      );
      req.on('error', done);
      const pump = () => {
        while (sent < options.totalBytes && answer.status === undefined && !req.destroyed) {
          sent += CHUNK.length;
          if (!req.write(CHUNK)) return void req.once('drain', pump);
        }
        if (sent >= options.totalBytes) req.end();
      };
      pump();
    });
  } finally {
    clearInterval(sampler);
  }
}
