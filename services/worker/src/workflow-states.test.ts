import { describe, expect, it } from 'vitest';
import { historyOf, type ListedWorkflow, OPEN_STATES, type ReadHistory, summarise, toRead } from './workflow-states.js';

type State = NonNullable<ListedWorkflow['state']>;
const listed = (id: string, state: ListedWorkflow['state'], startedAt = 0): ListedWorkflow => ({ key: `${id}/run`, workflowId: id, runId: 'run', state, startedAt });
const read = (refresh: number, ...history: [State, number][]): ReadHistory => ({ refresh, history: history.map(([state, at]) => ({ state, at })) });

describe('workflow gauges — summary of the running workflows', () => {
  it('every open state has a value, 0 when no workflow is in it; terminal states have none', () => {
    const summary = summarise([], new Map(), 1);
    expect(Object.keys(summary.open).sort()).toEqual([...OPEN_STATES].sort());
    expect(Object.values(summary.open).every((n) => n === 0)).toBe(true);
    expect(OPEN_STATES).not.toContain('RESOLVED');
    expect(summary).toMatchObject({ enteredAt: {}, unread: 0 });
  });

  it('counts by the visibility state, takes the longest wait per current state and the most visits per state', () => {
    const workflows = [listed('a', 'APPROVAL_PENDING'), listed('b', 'APPROVAL_PENDING'), listed('c', 'DRY_RUNNING')];
    const histories = new Map([
      ['a/run', read(4, ['DIAGNOSING', 1], ['DRY_RUNNING', 2], ['APPROVAL_PENDING', 500])],
      ['b/run', read(4, ['DRY_RUNNING', 3], ['APPROVAL_PENDING', 100])],
      ['c/run', read(4, ['DRY_RUNNING', 4], ['APPROVAL_PENDING', 5], ['DRY_RUNNING', 6], ['APPROVAL_PENDING', 7], ['DRY_RUNNING', 800])],
    ]);
    const summary = summarise(workflows, histories, 4);
    expect(summary.open).toMatchObject({ APPROVAL_PENDING: 2, DRY_RUNNING: 1, APPLYING: 0 });
    expect(summary.enteredAt).toEqual({ APPROVAL_PENDING: 100, DRY_RUNNING: 800 });
    expect(summary.visits).toMatchObject({ DRY_RUNNING: 3, APPROVAL_PENDING: 2, DIAGNOSING: 1, APPLYING: 0 });
    expect(summary.unread).toBe(0);
  });

  it('a history read earlier counts while it ends in the state visibility shows; one read now counts even if visibility lags; else the workflow is unread', () => {
    const workflows = [listed('same', 'APPROVAL_PENDING'), listed('moved', 'APPLYING'), listed('lagging', 'PLANNING'), listed('never', 'DIAGNOSING'), listed('fresh', undefined)];
    const histories = new Map([
      ['same/run', read(2, ['APPROVAL_PENDING', 50])],
      ['moved/run', read(2, ['APPROVAL_PENDING', 60])],
      ['lagging/run', read(3, ['PLANNING', 1], ['DRY_RUNNING', 70])],
    ]);
    const summary = summarise(workflows, histories, 3);
    expect(summary.enteredAt).toEqual({ APPROVAL_PENDING: 50, DRY_RUNNING: 70 });
    expect(summary.open).toMatchObject({ APPROVAL_PENDING: 1, APPLYING: 1, PLANNING: 1, DIAGNOSING: 1 });
    expect(summary.unread).toBe(3);
  });

  it('queries the moved and unread first (oldest started first), then the least recently read, at most the bound; a workflow without a state yet waits', () => {
    const workflows = [
      listed('new', 'PLANNING', 300),
      listed('old', 'PLANNING', 100),
      listed('stale', 'PLANNING', 50),
      listed('recent', 'PLANNING', 40),
      listed('moved', 'APPLYING', 200),
      listed('blank', undefined, 10),
    ];
    const histories = new Map([
      ['stale/run', read(1, ['PLANNING', 1])],
      ['recent/run', read(5, ['PLANNING', 1])],
      ['moved/run', read(5, ['PLANNING', 1])],
    ]);
    expect(toRead(workflows, histories, 10).map((w) => w.workflowId)).toEqual(['old', 'moved', 'new', 'stale', 'recent']);
    expect(toRead(workflows, histories, 4).map((w) => w.workflowId)).toEqual(['old', 'moved', 'new', 'stale']);
  });

  it('keeps only history entries with a known state and a readable time (bad answers read as empty)', () => {
    expect(historyOf({ history: [{ state: 'PLANNING', at: '2026-11-30T08:00:00.000Z' }, { state: 'NAPPING', at: '2026-11-30T08:00:00.000Z' }, { state: 'DRY_RUNNING', at: 'yesterday' }, null, 7] })).toEqual([
      { state: 'PLANNING', at: Date.parse('2026-11-30T08:00:00.000Z') },
    ]);
    expect(historyOf({ history: 'not a list' })).toEqual([]);
    expect(historyOf({})).toEqual([]);
  });
});
