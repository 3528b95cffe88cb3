import { createServer } from 'node:net';
import { LOCAL_HOST } from '@cortexops/config';
import type { PortBinding } from './types.js';

export class PortInUseError extends Error {
  readonly code = 'STACK_PORT_IN_USE';
  constructor(
    readonly server: string,
    readonly binding: PortBinding,
  ) {
    super(
      `port ${binding.port} (${binding.variable}) needed by ${server} is already in use by another process; ` +
        `stop that process or set ${binding.variable} to a free port`,
    );
    this.name = 'PortInUseError';
  }
}

export function isPortFree(port: number, host = LOCAL_HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

export async function assertPortsFree(server: string, bindings: readonly PortBinding[]): Promise<void> {
  for (const binding of bindings) {
    if (!(await isPortFree(binding.port))) throw new PortInUseError(server, binding);
  }
}
