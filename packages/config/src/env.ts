import { redactCredentials } from '@cortexops/contracts';
import { z } from 'zod';

export type Env = Readonly<Record<string, string | undefined>>;

/** One environment variable: its name, how to read it, and its default. */
export interface EnvVar<T> {
  readonly name: string;
  readonly description: string;
  /** A default, possibly computed from other (already read) variables' raw values. */
  readonly fallback?: string | ((env: Env) => string | undefined);
  readonly schema: z.ZodType<T>;
  /** A secret's value is never echoed in a configuration problem. */
  readonly secret?: boolean;
}

export type EnvSpec = Readonly<Record<string, EnvVar<unknown>>>;
export type ConfigOf<S extends EnvSpec> = { readonly [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

export interface ConfigProblem {
  readonly variable: string;
  readonly problem: string;
}

/** Start-up configuration is wrong; one line per bad variable. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * How a rejected value is shown: a secret never (only its length); anything else with the credentials of any URL or
 * connection string in it hidden first (a database URL with a mistyped scheme must not print its password), then
 * shortened.
 */
function describeValue(raw: string | undefined, secret = false): string {
  if (raw === undefined) return 'it is not set';
  if (secret) return `got ${raw.length} characters, value hidden`;
  const shown = redactCredentials(raw);
  return `got ${JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown)}`;
}

/** Reads every variable of `spec`, collecting all problems before failing. */
export function loadConfig<S extends EnvSpec>(spec: S, env: Env = process.env): ConfigOf<S> {
  const problems: ConfigProblem[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(spec)) {
    const given = env[variable.name];
    const raw =
      given !== undefined && given !== ''
        ? given
        : typeof variable.fallback === 'function'
          ? variable.fallback(env)
          : variable.fallback;
    const result = variable.schema.safeParse(raw);
    if (result.success) {
      out[key] = result.data;
    } else {
      const reason = result.error.issues[0]?.message ?? 'is invalid';
      problems.push({ variable: variable.name, problem: `${reason} (${describeValue(raw, variable.secret)})` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

// ---- variable builders -------------------------------------------------------------

const required = (what: string) => ({ error: (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : `must be ${what}`) });

export function portVar(name: string, fallback: number, description: string): EnvVar<number> {
  return {
    name,
    description,
    fallback: String(fallback),
    schema: z.coerce
      .number(required('a port number'))
      .pipe(z.int('must be a whole number').min(1, 'must be between 1 and 65535').max(65535, 'must be between 1 and 65535')),
  };
}

export function intVar(name: string, fallback: number | undefined, min: number, max: number, description: string): EnvVar<number> {
  return {
    name,
    description,
    ...(fallback === undefined ? {} : { fallback: String(fallback) }),
    schema: z.coerce
      .number(required('a number'))
      .pipe(z.int('must be a whole number').min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`)),
  };
}

export function stringVar(name: string, fallback: EnvVar<string>['fallback'], description: string): EnvVar<string> {
  return { name, description, ...(fallback === undefined ? {} : { fallback }), schema: z.string(required('a string')).min(1, 'must not be empty') };
}

export function optionalStringVar(name: string, description: string): EnvVar<string | undefined> {
  return { name, description, schema: z.string().min(1).optional() };
}

/** A comma-separated list; blanks are dropped, an unset variable is an empty list. */
export function listVar(name: string, description: string): EnvVar<readonly string[]> {
  return {
    name,
    description,
    fallback: '',
    schema: z.string().transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0)),
  };
}

/** An optional secret; when set it must be long enough to resist guessing. */
export function optionalSecretVar(name: string, minLength: number, description: string): EnvVar<string | undefined> {
  return { name, description, secret: true, schema: z.string().min(minLength, `must be at least ${minLength} characters`).optional() };
}

function hasScheme(value: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
  } catch {
    return false;
  }
}

/** A URL with one of `protocols`. A rejected value is shown with its credentials hidden (see `describeValue`). */
export function urlVar(name: string, fallback: EnvVar<string>['fallback'], protocols: readonly string[], description: string): EnvVar<string> {
  return {
    name,
    description,
    ...(fallback === undefined ? {} : { fallback }),
    schema: z.string(required('a URL')).refine((value) => hasScheme(value, protocols), `must be a URL with scheme ${protocols.join(' or ')}`),
  };
}

/** An optional URL (unset: undefined). */
export function optionalUrlVar(name: string, protocols: readonly string[], description: string): EnvVar<string | undefined> {
  return { name, description, schema: z.string().refine((value) => hasScheme(value, protocols), `must be a URL with scheme ${protocols.join(' or ')}`).optional() };
}

export function hostPortVar(name: string, fallback: EnvVar<string>['fallback'], description: string): EnvVar<string> {
  return {
    name,
    description,
    ...(fallback === undefined ? {} : { fallback }),
    schema: z.string(required('host:port')).regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port'),
  };
}

export function enumVar<const T extends readonly [string, ...string[]]>(name: string, values: T, fallback: T[number], description: string): EnvVar<T[number]> {
  return { name, description, fallback, schema: z.enum(values, { error: () => `must be one of ${values.join(', ')}` }) };
}

export function booleanVar(name: string, fallback: boolean, description: string): EnvVar<boolean> {
  return {
    name,
    description,
    fallback: String(fallback),
    schema: z.enum(['true', 'false', '1', '0'], { error: () => 'must be true or false' }).transform((v) => v === 'true' || v === '1'),
  };
}
