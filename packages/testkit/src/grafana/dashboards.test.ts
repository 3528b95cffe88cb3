import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../stack/context.js';
import { DASHBOARDS, dashboardJson } from './dashboards.js';
import { dashboardQueries, selectors, withGrafanaVariables } from './queries.js';

const DIR = join(REPO_ROOT, 'deploy', 'grafana', 'dashboards');

describe('grafana dashboards — the files under deploy/grafana are what the code builds', () => {
  it('dashboards — every file is generated (run write-dashboards.ts after changing dashboards.ts), and nothing else is there', () => {
    expect(readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(DASHBOARDS).sort());
    for (const [file, build] of Object.entries(DASHBOARDS)) expect(readFileSync(join(DIR, file), 'utf8'), file).toBe(dashboardJson(build()));
  });

  it('dashboards — the panels the operators asked for are there, each query valid PromQL over cortexops_ or up', () => {
    const dashboard = DASHBOARDS['cortexops-overview.json']!();
    const queries = dashboardQueries(dashboard, 'overview');
    const titles = new Set(queries.map((q) => q.source.split(' › ')[1]));
    for (const title of [
      'Correlation latency p50 / p95 / p99',
      'Workflow success rate',
      'Workflows ended, by outcome',
      'LLM token usage',
      'Ingestion rate by source and outcome',
      'Drops and backpressure',
      'Dead letters',
      'Approvals pending',
      'Oldest pending approval',
      'Policy denials',
      'Compensations',
      'Verification results',
    ]) {
      expect(titles).toContain(title);
    }
    for (const q of queries) for (const s of selectors(withGrafanaVariables(q.expr))) expect(s.metric, q.source).toMatch(/^(cortexops_|up$)/);
  });
});
