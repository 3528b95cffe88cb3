import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../stack/context.js';
import { DASHBOARDS, dashboardJson } from './dashboards.js';

/** Writes the dashboards as code to deploy/grafana/dashboards/ (`scripts/pnpm exec tsx packages/testkit/src/grafana/write-dashboards.ts`). */
const DASHBOARDS_DIR = 'deploy/grafana/dashboards';

for (const [file, build] of Object.entries(DASHBOARDS)) {
  writeFileSync(join(REPO_ROOT, DASHBOARDS_DIR, file), dashboardJson(build()));
  process.stdout.write(`wrote ${DASHBOARDS_DIR}/${file}\n`);
}
