import { loadServiceConfig } from '@cortexops/config';
import { main, runService } from '@cortexops/observability';
import { startApi } from './api.js';

main(async () => {
  const config = loadServiceConfig('api');
  await runService('api', config, (context) => startApi(config, context));
});
