import { loadServiceConfig } from '@cortexops/config';
import { main, runService } from '@cortexops/observability';
import { startCorrelator } from './correlator.js';

main(async () => {
  const config = loadServiceConfig('correlator');
  await runService('correlator', config, (context) => startCorrelator(config, context));
});
