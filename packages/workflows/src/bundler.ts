/**
 * The worker's bundler (webpack) must resolve this package's TypeScript ESM imports, which name
 * `./x.js` for the source `./x.ts`. Pass as `bundlerOptions.webpackConfigHook`.
 */
export function resolveTypeScriptImports<C extends { resolve?: object }>(config: C): C {
  return { ...config, resolve: { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } } };
}
