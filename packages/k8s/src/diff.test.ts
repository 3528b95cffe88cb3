import { describe, expect, it } from 'vitest';
import { objectDiff } from './diff.js';

const deployment = (replicas: number, extra: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', resourceVersion: String(replicas), generation: replicas, managedFields: [{ manager: 'x' }], annotations: { a: '1', ...extra } },
  spec: { replicas },
  status: { replicas },
});

describe('diff — what a person reviews', () => {
  it('shows the changed lines as a unified YAML diff, leaving out status and server bookkeeping', () => {
    const { text, changed } = objectDiff('Deployment shop/web', deployment(2), deployment(4, { 'cortexops.io/remediation-id': 'r-1', 'cortexops.io/remediation-receipt': '{"big":"json"}' }));
    expect(changed).toBe(true);
    expect(text).toContain('--- Deployment shop/web (live)');
    expect(text).toContain('+++ Deployment shop/web (after)');
    expect(text).toMatch(/^-\s+replicas: 2$/m);
    expect(text).toMatch(/^\+\s+replicas: 4$/m);
    expect(text).toContain('+    cortexops.io/remediation-id: r-1');
    for (const hidden of ['resourceVersion', 'generation', 'managedFields', 'status', 'remediation-receipt', '=====']) expect(text).not.toContain(hidden);
  });

  it('is empty when only bookkeeping differs, and shows a deletion as every line removed', () => {
    const a = deployment(2);
    const b = { ...deployment(2), metadata: { ...deployment(2).metadata, resourceVersion: '99' }, status: { replicas: 0 } };
    expect(objectDiff('x', a, b)).toEqual({ text: '', changed: false });
    const deleted = objectDiff('Pod shop/web-1', { kind: 'Pod', metadata: { name: 'web-1' } }, undefined);
    expect(deleted.text).toContain('+++ Pod shop/web-1 (deleted)');
    expect(deleted.text).toMatch(/^-kind: Pod$/m);
  });

  it('names the two sides and shortens a long diff, counting what it left out', () => {
    const many = (n: number) => ({ spec: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, n])) });
    const { text } = objectDiff('Deployment shop/web spec', many(1), many(2), { names: { before: 'before the apply', after: 'live' }, maxLines: 10 });
    expect(text).toContain('--- Deployment shop/web spec (before the apply)');
    expect(text).toContain('+++ Deployment shop/web spec (live)');
    expect(text.split('\n')).toHaveLength(11);
    expect(text).toMatch(/\.\.\. \d+ more lines$/);
  });
});
