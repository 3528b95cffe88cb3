import { ConfigError } from './env.js';

/** For tests: the `variable: problem` lines of the ConfigError that `load` throws (throws itself when `load` succeeds). */
export function configProblems(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.problem}`);
    throw error;
  }
  throw new Error('expected a ConfigError, the configuration loaded');
}
