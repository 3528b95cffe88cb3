import { loadServiceConfig } from '@cortexops/config';
import { main, runService } from '@cortexops/observability';
import { startIngestion } from './ingestion.js';

main(async () => {
  const config = loadServiceConfig('ingestion');
  await runService('ingestion', config, (context) => startIngestion(config, context));
});
