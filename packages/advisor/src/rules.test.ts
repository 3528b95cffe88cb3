import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONDITIONS, RULES } from './rules.js';

describe('rules — the table', () => {
  it('has unique ids and ends with a rule that always holds', () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    expect(RULES.at(-1)?.id).toBe('no-rule-matched');
  });

  it('names only known conditions', () => {
    for (const rule of RULES) for (const name of rule.when) expect(Object.keys(CONDITIONS)).toContain(name);
  });

  it('is documented in the README, in order', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| \d+ \| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(RULES.map((r) => r.id));
  });
});
