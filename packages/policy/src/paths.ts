import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Rego sources, their `opa test` files and the default data. */
export const POLICY_DIR = join(PACKAGE_DIR, 'policy');
export const BUILD_DIR = join(PACKAGE_DIR, 'build');
export const DEFAULT_WASM_PATH = join(BUILD_DIR, 'policy.wasm');
export const DEFAULT_DATA_PATH = join(POLICY_DIR, 'data.json');
/** The rule every caller evaluates: `data.cortexops.remediation.decision`. */
export const ENTRYPOINT = 'cortexops/remediation/decision';
export const ENTRYPOINT_QUERY = `data.${ENTRYPOINT.replaceAll('/', '.')}`;
/** What follows from the data alone; evaluated once per data load (see policy/prepared.rego). */
export const PREPARED_ENTRYPOINT = 'cortexops/remediation/prepared';
/** Where the engine hands the prepared answer back to the policy. */
export const PREPARED_DATA_KEY = 'remediation_prepared';
