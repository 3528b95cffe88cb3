import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceName } from '@cortexops/contracts';
import {
  type ServiceProcess,
  type StackContext,
  type TestDatabase,
  createTestDatabase,
  createTestNamespace,
  ensureServers,
  kubeconfigPaths,
  postgresRoleUrl,
  prepareRoles,
  spawnService,
  natsEnv,
} from '@cortexops/testkit';

let ctx: StackContext;
let db: TestDatabase;
let namespace: string;
const started: ServiceProcess[] = [];

beforeAll(async () => {
  ctx = await ensureServers(['postgres', 'temporal', 'nats', 'kube-controller-manager']);
  db = await createTestDatabase(ctx, 'audit_services');
  await prepareRoles(ctx, db.name);
  namespace = await createTestNamespace(ctx, 'audit-services');
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.terminate()));
  await db.drop();
});

async function start(service: ServiceName, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const child = await spawnService(service, {
    // Each service as its own NATS user (approvals does not use NATS).
    ...(service === 'approvals' ? {} : natsEnv(ctx, service)),
    CORTEXOPS_DATABASE_URL: postgresRoleUrl(ctx, 'app', db.name),
    CORTEXOPS_TEMPORAL_NAMESPACE: namespace,
    CORTEXOPS_WORKER_KUBECONFIG: kubeconfigPaths(ctx).worker,
    ...env,
  });
  started.push(child);
  return child;
}

describe('services as the application role', () => {
  it('api, approvals and worker start healthy connected as the application role, and its password is in none of their logs', async () => {
    const password = new URL(postgresRoleUrl(ctx, 'app', db.name)).password;
    const services = await Promise.all((['api', 'approvals', 'worker'] as const).map((service) => start(service)));
    for (const service of services) {
      // The only credentials a service has are the application role's: its PostgreSQL check passing is that role connecting.
      const health = await service.waitForHealth((status, body) => status === 200 && body.dependencies.postgres?.status === 'up', 90_000);
      expect(health.status).toBe('up');
    }
    for (const service of services) expect(service.output()).not.toContain(password);
  });

  it('a database URL with a mistyped scheme stops the service with a configuration error that does not print the password', async () => {
    const password = 'n0t-t0-be-pr1nted';
    const service = await start('api', { CORTEXOPS_DATABASE_URL: `postgress://cortexops_app:${password}@127.0.0.1:5432/cortexops` });
    const code = service.child.exitCode ?? (await new Promise<number | null>((resolve) => service.child.once('exit', resolve)));
    expect(code).toBe(1);
    expect(service.output()).toContain('CORTEXOPS_DATABASE_URL: must be a URL with scheme postgres or postgresql (got "postgress://[redacted]@127.0.0.1:5432/cortexops")');
    expect(service.output()).not.toContain(password);
  });
});
