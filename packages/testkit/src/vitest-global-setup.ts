import { sharedStack } from './testing.js';
import { STACK_SERVERS } from './stack/registry.js';

/**
 * Brings the shared local stack up once before the integration tests (installing what is missing)
 * and stops afterwards only the servers this run started, leaving a developer's `make up` alone.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const launcher = sharedStack();
  const results = await launcher.up(
    STACK_SERVERS.map((s) => s.name),
    (r) => process.stderr.write(`stack: ${r.name} ${r.action} (${(r.millis / 1000).toFixed(1)} s)\n`),
  );
  const startedHere = results.filter((r) => r.action === 'started').map((r) => r.name);
  return async () => {
    if (startedHere.length > 0) await launcher.down(startedHere);
  };
}
