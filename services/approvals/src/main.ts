import { loadServiceConfig } from '@cortexops/config';
import { main, runService } from '@cortexops/observability';
import { startApprovals } from './approvals.js';

main(async () => {
  const config = loadServiceConfig('approvals');
  await runService('approvals', config, (context) => startApprovals(config, context));
});
