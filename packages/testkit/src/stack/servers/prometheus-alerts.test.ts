import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../context.js';
import { PROMETHEUS_RULES_DIR } from './prometheus.js';

interface RuleFile {
  groups: { name: string; rules: { alert?: string; labels?: Record<string, string> }[] }[];
}
interface PrometheusConfig {
  rule_files?: string[];
  alerting?: { alert_relabel_configs?: { source_labels?: string[]; regex?: string; action?: string }[] };
}

const read = (path: string): unknown => parse(readFileSync(join(REPO_ROOT, path), 'utf8'));

describe('prometheus alerts — CortexOps alerts about itself never reach its own ingestion', () => {
  it('alert rules — every alert is labelled component=cortexops and has a severity', () => {
    const files = readdirSync(join(REPO_ROOT, PROMETHEUS_RULES_DIR)).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const group of (read(join(PROMETHEUS_RULES_DIR, file)) as RuleFile).groups) {
        for (const rule of group.rules.filter((r) => r.alert !== undefined)) {
          const where = `${file} › ${group.name} › ${rule.alert}`;
          expect(rule.labels?.component, where).toBe('cortexops');
          expect(rule.labels?.severity, where).toMatch(/^(critical|warning)$/);
        }
      }
    }
  });

  it.each(['deploy/prometheus/prometheus.local.yml', 'deploy/prometheus/prometheus.compose.yml'])('%s — loads the rules and drops component=cortexops alerts before its Alertmanager', (path) => {
    const config = read(path) as PrometheusConfig;
    expect(config.rule_files?.length).toBe(1);
    expect(config.rule_files?.[0]).toMatch(/rules\/\*\.yml$/);
    expect(config.alerting?.alert_relabel_configs).toContainEqual({ source_labels: ['component'], regex: 'cortexops', action: 'drop' });
  });
});
