import { loadServiceConfig } from '@cortexops/config';
import { main, runService } from '@cortexops/observability';
import { startWorker } from './worker.js';

main(async () => {
  const config = loadServiceConfig('worker');
  await runService('worker', config, (context) => startWorker(config, context));
});
