import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_HOST } from '@cortexops/config';
import { PortInUseError, privateStack, runningPid, type PrivateStack } from '@cortexops/testkit';

describe('launcher — local stack lifecycle', () => {
  let stack: PrivateStack;

  beforeAll(async () => {
    stack = await privateStack('launcher');
  });
  afterAll(async () => {
    await stack.dispose();
  });

  it('starts servers, and a second up changes nothing', async () => {
    const first = await stack.launcher.up(['nats', 'postgres']);
    expect(first.map((r) => [r.name, r.action])).toEqual([
      ['nats', 'started'],
      ['postgres', 'started'],
    ]);
    const pids = ['nats', 'postgres'].map((n) => runningPid(stack.ctx, n));
    const second = await stack.launcher.up(['nats', 'postgres']);
    expect(second.map((r) => r.action)).toEqual(['already running', 'already running']);
    expect(['nats', 'postgres'].map((n) => runningPid(stack.ctx, n))).toEqual(pids);
  });

  it('restarts only the server that died', async () => {
    const natsPid = runningPid(stack.ctx, 'nats');
    const postgresPid = runningPid(stack.ctx, 'postgres');
    expect(natsPid).toBeDefined();
    process.kill(natsPid as number, 'SIGKILL');
    await expect.poll(() => runningPid(stack.ctx, 'nats')).toBeUndefined();

    const statuses = await stack.launcher.status(['nats', 'postgres']);
    expect(statuses.map((s) => [s.name, s.healthy])).toEqual([
      ['nats', false],
      ['postgres', true],
    ]);

    const results = await stack.launcher.up(['nats', 'postgres']);
    expect(results.map((r) => [r.name, r.action])).toEqual([
      ['nats', 'started'],
      ['postgres', 'already running'],
    ]);
    expect(runningPid(stack.ctx, 'nats')).not.toBe(natsPid);
    expect(runningPid(stack.ctx, 'postgres')).toBe(postgresPid);
  });

  it('refuses a taken port with an error naming the port and its variable', async () => {
    const port = Number(stack.ctx.env.CORTEXOPS_ALERTMANAGER_PORT);
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, LOCAL_HOST, resolve));
    try {
      const attempt = stack.launcher.up(['alertmanager']);
      await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
      await expect(attempt).rejects.toThrow(`port ${port} (CORTEXOPS_ALERTMANAGER_PORT) needed by alertmanager is already in use`);
      expect(runningPid(stack.ctx, 'alertmanager')).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('down stops everything it started and status reports it', async () => {
    const stopped = await stack.launcher.down();
    expect(stopped.sort()).toEqual(['nats', 'postgres']);
    const statuses = await stack.launcher.status(['nats', 'postgres']);
    expect(statuses.every((s) => s.pid === undefined && s.problem === 'not running')).toBe(true);
  });
});
