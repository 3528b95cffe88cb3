import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ACTION_TYPES } from '@cortexops/contracts';

/** One section of a runbook: its heading path and its text. */
export interface RunbookChunk {
  /** `<file>#<n>`, stable while the file keeps its sections in order. */
  readonly id: string;
  /** The action the runbook is about (its file name), when it names one of the catalogue. */
  readonly action?: string;
  /** `Title › Section`. */
  readonly heading: string;
  readonly text: string;
}

const MAX_CHUNK_CHARS = 2000;

/** Splits markdown at its headings (`#` to `######`, outside code fences); each chunk carries its heading path. */
export function chunkMarkdown(file: string, markdown: string): RunbookChunk[] {
  const name = basename(file, '.md');
  const action = (ACTION_TYPES as readonly string[]).includes(name) ? name : undefined;
  const chunks: RunbookChunk[] = [];
  const path: string[] = [];
  let body: string[] = [];
  let fenced = false;
  const flush = () => {
    const text = body.join('\n').trim();
    if (text !== '' && path.length > 0) chunks.push({ id: `${name}#${chunks.length + 1}`, ...(action ? { action } : {}), heading: path.join(' › '), text: text.slice(0, MAX_CHUNK_CHARS) });
    body = [];
  };
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading === null) {
      body.push(line);
      continue;
    }
    flush();
    const level = heading[1]?.length ?? 1;
    path.splice(level - 1, path.length, heading[2] ?? '');
  }
  flush();
  return chunks;
}

/** Every runbook of a folder (`*.md` but its README), chunked. */
export async function loadRunbooks(dir: string): Promise<RunbookChunk[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.md') && f !== 'README.md').sort();
  const chunks = await Promise.all(files.map(async (f) => chunkMarkdown(f, await readFile(join(dir, f), 'utf8'))));
  return chunks.flat();
}
