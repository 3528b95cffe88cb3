import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackContext } from './types.js';
import { DEMO_NAMESPACE } from './servers/kubernetes/paths.js';

/** The policy bundle's data, as the worker image ships it (it enrols no namespace). */
const BUNDLE_DATA = join('packages', 'policy', 'policy', 'data.json');

interface PolicyData {
  remediation_policy: { modes: { namespaces: Record<string, string> } };
}

/**
 * The local stack's policy data: the bundle's data with the demo namespace enrolled as `auto` (the policy half of
 * the local enrolment; deploy/local/demo-enrolment.yaml is its RBAC half). Written anew at every start, so a changed
 * data.json is picked up; the worker reads it through CORTEXOPS_POLICY_DATA. Returns its path.
 */
export function writeLocalPolicyData(ctx: StackContext): string {
  const data = JSON.parse(readFileSync(join(ctx.repoRoot, BUNDLE_DATA), 'utf8')) as PolicyData;
  data.remediation_policy.modes.namespaces[DEMO_NAMESPACE] = 'auto';
  const dir = join(ctx.dataDir, 'policy');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'data.json');
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}
