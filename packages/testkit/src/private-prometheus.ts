import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { installDebianPackage } from './stack/install.js';
import { createLauncher } from './stack/launcher.js';
import type { ServerDefinition, StackContext } from './stack/types.js';
import { VERSIONS } from './stack/versions.js';

export interface PrivatePrometheusLaunch {
  /** Launcher name, also the data directory under the context (`<dataDir>/<name>`). */
  readonly name: string;
  readonly description: string;
  readonly port: number;
  /** `prometheus.yml`, given the server's directory (JSON is YAML: Prometheus reads it as written). */
  readonly config: (dir: string) => Record<string, unknown>;
  /** Further files written beside it before the start (rule files, `web.yml`), by file name. */
  readonly files?: (dir: string) => Readonly<Record<string, string>>;
  /** Flags after the config, storage and listen address ones. */
  readonly args?: (dir: string) => readonly string[];
  /** Resolves once the server answers (rejects until then). */
  readonly probe: () => Promise<void>;
}

/**
 * A Prometheus of a test's own: the stack's pinned Debian binary (installed once into the cache) started by the stack
 * launcher in the private context `ctx` (e.g. a `privateStack`'s) on `port`, with its own configuration and files.
 * Returns the function that stops it.
 */
export async function launchPrivatePrometheus(ctx: StackContext, o: PrivatePrometheusLaunch): Promise<() => Promise<void>> {
  const dir = join(ctx.dataDir, o.name);
  let binary = '';
  const definition: ServerDefinition = {
    name: o.name,
    description: o.description,
    group: 'stack',
    ports: () => [{ variable: `${o.name} (a free test port)`, port: o.port }],
    install: async () => {
      binary = join(await installDebianPackage(ctx, VERSIONS.prometheus.package, VERSIONS.prometheus.version), 'usr', 'bin', 'prometheus');
    },
    prepare: async () => {
      mkdirSync(join(dir, 'storage'), { recursive: true });
      for (const [file, text] of Object.entries(o.files?.(dir) ?? {})) writeFileSync(join(dir, file), text, { mode: 0o600 });
      writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(o.config(dir), null, 2));
    },
    command: () => ({
      command: binary,
      args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'storage')}`, `--web.listen-address=${LOCAL_HOST}:${o.port}`, ...(o.args?.(dir) ?? [])],
    }),
    probe: o.probe,
    endpoints: () => ({ ui: `${LOCAL_HOST}:${o.port}` }),
  };
  const launcher = createLauncher(ctx, [definition]);
  await launcher.up([o.name]);
  return async () => {
    await launcher.down([o.name]);
  };
}
