import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_HOST } from '@cortexops/config';
import { Gauge, Registry } from 'prom-client';

/** One mounted filesystem as node-exporter's filesystem collector reports it. */
export interface Filesystem {
  readonly device: string;
  readonly fstype: string;
  readonly mountpoint: string;
  readonly sizeBytes: number;
  /** Space available to non-root users. */
  readonly availBytes: number;
  readonly files?: number;
  readonly filesFree?: number;
  readonly readonly?: boolean;
}

export interface NodeExporterStub {
  /** `host:port` to scrape (`/metrics`). */
  readonly target: string;
  /** Adds the filesystem, or changes its values (keyed by device and mountpoint). */
  setFilesystem(filesystem: Filesystem): void;
  close(): Promise<void>;
}

const LABELS = ['device', 'fstype', 'mountpoint'] as const;

/**
 * A node-exporter of one node for tests (the local stack runs none): its filesystem collector's series with
 * node-exporter's own metric names, help texts and labels, served over HTTP in the Prometheus text format, so
 * Prometheus scrapes and the node-exporter-mixin rules evaluate them as they would the real exporter. What
 * kube-prometheus adds (`job`, `instance` relabelled to the node, the exporter pod's target labels) is the
 * scraping Prometheus's business.
 */
export async function startNodeExporterStub(): Promise<NodeExporterStub> {
  const registry = new Registry();
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: LABELS, registers: [registry] });
  const size = gauge('node_filesystem_size_bytes', 'Filesystem size in bytes.');
  const free = gauge('node_filesystem_free_bytes', 'Filesystem free space in bytes.');
  const avail = gauge('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.');
  const files = gauge('node_filesystem_files', 'Filesystem total file nodes.');
  const filesFree = gauge('node_filesystem_files_free', 'Filesystem total free file nodes.');
  const readonly = gauge('node_filesystem_readonly', 'Filesystem read-only status.');
  const deviceError = gauge('node_filesystem_device_error', 'Whether an error occurred while getting statistics for the given device.');

  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => response.writeHead(500).end(error.message),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // This process binds the port itself: nobody can take it between choosing and binding.
    server.listen(0, LOCAL_HOST, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    target: `${LOCAL_HOST}:${port}`,
    setFilesystem: (fs) => {
      const labels = { device: fs.device, fstype: fs.fstype, mountpoint: fs.mountpoint };
      size.set(labels, fs.sizeBytes);
      free.set(labels, fs.availBytes);
      avail.set(labels, fs.availBytes);
      files.set(labels, fs.files ?? 6_553_600);
      filesFree.set(labels, fs.filesFree ?? 6_000_000);
      readonly.set(labels, fs.readonly ? 1 : 0);
      deviceError.set(labels, 0);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
