import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syncRuleFiles } from './prometheus-rule-files.js';

const dirs: string[] = [];
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'rule-files-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('prometheus rule files — the stack copies deploy/prometheus/rules beside its rendered configuration', () => {
  it('rule files — copies the YAML files, says when something changed, removes files gone from the source', () => {
    const from = dir();
    const to = join(dir(), 'rules');
    writeFileSync(join(from, 'a.yml'), 'groups: []\n');
    writeFileSync(join(from, 'b.yaml'), 'groups: []\n');
    writeFileSync(join(from, 'README.md'), 'not a rule file');
    expect(syncRuleFiles(from, to)).toBe(true);
    expect(readdirSync(to).sort()).toEqual(['a.yml', 'b.yaml']);
    expect(syncRuleFiles(from, to)).toBe(false);

    writeFileSync(join(from, 'a.yml'), 'groups: [{name: x, rules: []}]\n');
    expect(syncRuleFiles(from, to)).toBe(true);
    expect(readFileSync(join(to, 'a.yml'), 'utf8')).toContain('name: x');

    rmSync(join(from, 'b.yaml'));
    expect(syncRuleFiles(from, to)).toBe(true);
    expect(readdirSync(to)).toEqual(['a.yml']);
  });

  it('rule files — a missing source directory is an error naming it', () => {
    expect(() => syncRuleFiles(join(dir(), 'absent'), join(dir(), 'rules'))).toThrow(/absent/);
  });
});
