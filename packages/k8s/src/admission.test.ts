import { readFileSync } from 'node:fs';
import { ANNOTATIONS } from '@cortexops/contracts';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { GATEWAY_ANNOTATIONS } from './receipt.js';

const MANIFEST = new URL('../../../deploy/k8s/worker-admission.yaml', import.meta.url);

interface Policy {
  kind: string;
  spec: { variables?: { name: string; expression: string }[] };
}

describe('worker admission policy (deploy/k8s/worker-admission.yaml)', () => {
  it('lets the worker write exactly the annotations the gateway writes on a node', () => {
    const policy = parseAllDocuments(readFileSync(MANIFEST, 'utf8'))
      .map((d) => d.toJSON() as Policy)
      .find((d) => d.kind === 'ValidatingAdmissionPolicy');
    const expression = policy?.spec.variables?.find((v) => v.name === 'ownAnnotation')?.expression ?? '';
    const listed = JSON.parse(expression.replace(/'/g, '"')) as string[];
    expect(listed.sort()).toEqual([ANNOTATIONS.remediationId, ...Object.values(GATEWAY_ANNOTATIONS)].sort());
  });
});
