import { describe, expect, it } from 'vitest';
import { chunkMarkdown } from './runbooks.js';

describe('runbooks — chunked by heading', () => {
  it('each section is a chunk with its heading path; the action comes from a catalogue file name', () => {
    const md = '# Raise memory\nintro\n## When\nOOM\n### Detail\nmore\n## Not\nnever\n';
    expect(chunkMarkdown('raise-memory-limit.md', md)).toEqual([
      { id: 'raise-memory-limit#1', action: 'raise-memory-limit', heading: 'Raise memory', text: 'intro' },
      { id: 'raise-memory-limit#2', action: 'raise-memory-limit', heading: 'Raise memory › When', text: 'OOM' },
      { id: 'raise-memory-limit#3', action: 'raise-memory-limit', heading: 'Raise memory › When › Detail', text: 'more' },
      { id: 'raise-memory-limit#4', action: 'raise-memory-limit', heading: 'Raise memory › Not', text: 'never' },
    ]);
  });

  it('headings inside code fences are text; empty sections and text before the first heading are dropped; no action for other files', () => {
    const md = 'preamble\n# A\n```sh\n# not a heading\n```\n## Empty\n## B\nb\n';
    const chunks = chunkMarkdown('notes.md', md);
    expect(chunks.map((c) => [c.heading, c.text])).toEqual([
      ['A', '```sh\n# not a heading\n```'],
      ['A › B', 'b'],
    ]);
    expect(chunks[0]?.action).toBeUndefined();
    expect(chunkMarkdown('__proto__.md', '# x\ny')[0]?.action).toBeUndefined();
  });

  it('a huge section is bounded', () => {
    expect(chunkMarkdown('scale.md', `# S\n${'z'.repeat(100_000)}`)[0]?.text.length).toBe(2000);
  });
});
