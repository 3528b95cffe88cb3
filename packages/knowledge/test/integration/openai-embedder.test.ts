import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAIStub, freePort, hashVector } from '@cortexops/testkit';
import { KNOWLEDGE_ERROR_CODES, OpenAIEmbedder } from '../../src/index.js';
import { codeOf } from './stores.js';

describe('OpenAI embedder — against a local server speaking the embeddings API', () => {
  let stub: OpenAIStub;
  beforeAll(async () => {
    stub = await OpenAIStub.start();
  });
  afterAll(async () => {
    await stub.stop();
  });
  beforeEach(() => {
    stub.embeddingsReply = undefined;
    stub.embeddingDimension = 8;
  });
  const embedder = (options: Partial<Parameters<typeof OpenAIEmbedder.create>[0]> = {}) =>
    OpenAIEmbedder.create({ baseURL: stub.baseURL, apiKey: 'sk-test-key', model: 'text-embedding-3-small', dimension: 8, timeoutMs: 2000, ...options });

  it('OpenAI embedder — one vector per text in the texts’ order, the model and key sent, its id names the model', async () => {
    const e = embedder();
    const vectors = await e.embed(['a', 'b']);
    expect(vectors.map((v) => Array.from(v))).toEqual(['a', 'b'].map((t) => Array.from(Float32Array.from(hashVector(t, 8)))));
    const call = stub.callsTo('/embeddings').at(-1);
    expect(call?.body).toMatchObject({ model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float' });
    expect(call?.authorization).toBe('Bearer sk-test-key');
    expect(e.id).toBe('openai-text-embedding-3-small');
  });

  it('OpenAI embedder — answers out of order are put back in order by index', async () => {
    stub.embeddingsReply = (input) => ({ data: input.map((t, index) => ({ object: 'embedding', index, embedding: hashVector(t, 8) })).reverse() });
    const [a, b] = await embedder().embed(['first', 'second']);
    expect(Array.from(a ?? [])).toEqual(Array.from(Float32Array.from(hashVector('first', 8))));
    expect(Array.from(b ?? [])).toEqual(Array.from(Float32Array.from(hashVector('second', 8))));
  });

  it('OpenAI embedder — bad answers refused: too few vectors, another dimension, a repeated or foreign index, strings for numbers', async () => {
    const bad: Record<string, (input: readonly string[]) => unknown> = {
      fewer: () => [{ object: 'embedding', index: 0, embedding: hashVector('x', 8) }],
      dimension: (input) => input.map((t, index) => ({ object: 'embedding', index, embedding: hashVector(t, 7) })),
      repeated: (input) => input.map((t) => ({ object: 'embedding', index: 0, embedding: hashVector(t, 8) })),
      foreign: (input) => input.map((t, index) => ({ object: 'embedding', index: index + 5, embedding: hashVector(t, 8) })),
      strings: (input) => input.map((t, index) => ({ object: 'embedding', index, embedding: hashVector(t, 8).map(String) })),
      notArray: () => 'no',
    };
    for (const [name, data] of Object.entries(bad)) {
      stub.embeddingsReply = (input) => ({ data: data(input) });
      expect([name, await codeOf(embedder().embed(['a', 'b']))]).toEqual([name, KNOWLEDGE_ERROR_CODES.badResponse]);
    }
  });

  it('OpenAI embedder — a server error, a body that is not JSON, a server that does not answer: unavailable', async () => {
    stub.embeddingsReply = () => ({ status: 500 });
    expect(await codeOf(embedder().embed(['a']))).toBe(KNOWLEDGE_ERROR_CODES.unavailable);
    stub.embeddingsReply = () => ({ rawBody: '{"data": [' });
    expect(await codeOf(embedder().embed(['a']))).toBe(KNOWLEDGE_ERROR_CODES.unavailable);
    const closed = `http://127.0.0.1:${await freePort()}/v1`;
    expect(await codeOf(embedder({ baseURL: closed }).embed(['a']))).toBe(KNOWLEDGE_ERROR_CODES.unavailable);
  });

  it('OpenAI embedder — bad options: a base URL that is not http(s), a model name with spaces, dimension 0', () => {
    const codeOfSync = (f: () => unknown) => {
      try {
        f();
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    expect(codeOfSync(() => embedder({ baseURL: 'file:///etc/passwd' }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(codeOfSync(() => embedder({ baseURL: 'not a url' }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(codeOfSync(() => embedder({ model: 'gpt 4; rm -rf' }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    expect(codeOfSync(() => embedder({ dimension: 0 }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
  });
});
