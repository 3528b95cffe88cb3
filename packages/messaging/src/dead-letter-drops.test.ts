import { describe, expect, it } from 'vitest';
import { type DeadLetterSnapshot, droppedBetween } from './dead-letter-drops.js';

const DAY = 24 * 3600_000;
const look = (at: number, firstSeq: number, lastSeq: number, firstAt?: number, maxAgeMs = 14 * DAY): DeadLetterSnapshot => ({
  at,
  firstSeq,
  lastSeq,
  messages: lastSeq - firstSeq + 1,
  ...(firstAt === undefined ? {} : { firstAt }),
  maxAgeMs,
});

describe('dead-letter drops — which limit discarded what', () => {
  it('nothing discarded: nothing counted (new letters only move the last sequence)', () => {
    expect(droppedBetween(look(0, 1, 10, 0), look(1000, 1, 50, 0))).toBeUndefined();
  });

  it('letters younger than the age limit gone: the byte limit discarded them', () => {
    expect(droppedBetween(look(10_000, 1, 16, 9_000), look(20_000, 25, 40, 19_000))).toEqual({ limit: 'bytes', count: 24 });
    // The stream was empty at the earlier look: everything since was at most 10 s old.
    expect(droppedBetween({ at: 10_000, firstSeq: 17, lastSeq: 16, messages: 0, maxAgeMs: 14 * DAY }, look(20_000, 30, 40, 19_000))).toEqual({ limit: 'bytes', count: 13 });
  });

  it('the oldest letter could have reached the age limit: counted as age (retention), never as bytes', () => {
    expect(droppedBetween(look(14 * DAY, 1, 16, 0), look(14 * DAY + 1000, 4, 16, 3000))).toEqual({ limit: 'age', count: 3 });
    expect(droppedBetween(look(0, 1, 3, 0, 1000), look(5000, 4, 3, undefined, 1000))).toEqual({ limit: 'age', count: 3 });
  });

  it('no age limit: every discard is the byte limit', () => {
    expect(droppedBetween(look(0, 1, 3, 0, 0), look(100 * DAY, 3, 9, 50 * DAY, 0))).toEqual({ limit: 'bytes', count: 2 });
  });

  it('a recreated stream (sequences went back) counts nothing, and neither does a stale look', () => {
    expect(droppedBetween(look(0, 100, 200, 0), look(1000, 1, 5, 900))).toBeUndefined();
    expect(droppedBetween(look(1000, 10, 20, 900), look(2000, 5, 20, 500))).toBeUndefined();
  });
});
