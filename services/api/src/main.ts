import { apiSpec, auditChainWatchSpec, auditSpec, loadConfig, serviceSpecs } from '@cortexops/config';
import { main, runService } from '@cortexops/observability';
import { startApi } from './api.js';

main(async () => {
  const config = loadConfig({ ...serviceSpecs.api, ...apiSpec, ...auditSpec, ...auditChainWatchSpec });
  await runService('api', config, (context) => startApi(config, context));
});
