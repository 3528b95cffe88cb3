import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RULE_FILE = /\.ya?ml$/;

/**
 * Makes `to` hold exactly the rule files (`*.yml`, `*.yaml`) of `from`, so that a Prometheus whose rendered
 * configuration lives outside the repository reads them as `rules/*.yml`; true when anything changed (then it reloads).
 */
export function syncRuleFiles(from: string, to: string): boolean {
  mkdirSync(to, { recursive: true });
  const wanted = new Map(readdirSync(from).filter((f) => RULE_FILE.test(f)).map((f) => [f, readFileSync(join(from, f), 'utf8')]));
  let changed = false;
  for (const stale of readdirSync(to).filter((f) => !wanted.has(f))) {
    rmSync(join(to, stale));
    changed = true;
  }
  for (const [name, text] of wanted) {
    const target = join(to, name);
    if (existsSync(target) && readFileSync(target, 'utf8') === text) continue;
    writeFileSync(target, text);
    changed = true;
  }
  return changed;
}
