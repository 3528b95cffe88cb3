import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { AuditCheckpointer, AuditStore, FileCheckpointStore } from '@cortexops/audit';
import { BACKUP_MANIFEST_FILE as MANIFEST_FILE, CONSUMERS, HTTP_PATHS, remediationStateQuery, type RemediationStateView, STREAMS, signalSubject } from '@cortexops/contracts';
import { Client, Connection } from '@temporalio/client';
import { connect, type NatsConnection } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { BackupError } from '../../src/backup/errors.js';
import type { Manifest } from '../../src/backup/manifest.js';
import { streamInfo } from '../../src/backup/nats-snapshot.js';
import { tablesWithRows } from '../../src/backup/postgres.js';
import { pointCount } from '../../src/backup/qdrant.js';
import { backupStack, restoreStack } from '../../src/backup/stack.js';
import { sqliteCheck } from '../../src/backup/tools.js';
import { correlatorGroup } from '../../src/chaos/correlator-state.js';
import { APPROVER, podAlert } from '../../src/chaos/environment.js';
import { auditCheckpointFile, auditCheckpointKey } from '../../src/stack/servers/audit-checkpointer.js';
import { createDatabaseIfMissing } from '../../src/stack/servers/postgres.js';
import { temporalDbFile } from '../../src/stack/servers/temporal.js';
import {
  createLauncher,
  createTestNamespace,
  enrolForRemediation,
  ensureServers,
  freePort,
  kubeconfigPaths,
  kubectl,
  memoryLimitedDeployment,
  natsConnectOptions,
  natsEnv,
  postgresUrl,
  privateStack,
  qdrantUrl,
  REPO_ROOT,
  spawnService,
  temporalAddress,
  uniqueName,
  workflowRecord,
  ALL_SERVERS,
  type PrivateStack,
  type ServiceProcess,
  type StackContext,
} from '../../src/index.js';

const run = promisify(execFile);

/**
 * Backup and restore on private servers (never the shared stack's): an incident opened by a real alert through
 * ingestion → correlator → worker waits for approval; the stack is backed up, its servers and their data destroyed,
 * fresh servers started and the backup restored into them; then the audit chain verifies against the restored
 * checkpoint, the workflow still waits, the correlator's state is back (a repeat of the alert is deduplicated, no new
 * incident), the Qdrant points are there, and an approval through the approvals API carries the incident to its end.
 * Bad backups (truncated, missing file, changed byte, bad manifest, not a backup) are refused before anything changes.
 */

const cleanups: (() => Promise<unknown>)[] = [];
const defer = (cleanup: () => Promise<unknown>) => cleanups.push(cleanup);
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => process.stderr.write(`cleanup: ${(error as Error).message}\n`));
}, 180_000);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(500);
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s${last ? ` (last error: ${last})` : ''}`);
}

/** A private stack with Qdrant on ports of its own too (the stack's port variables do not cover Qdrant's). */
async function stackWithQdrant(name: string): Promise<{ stack: PrivateStack; qdrant: ReturnType<typeof createLauncher> }> {
  process.env.CORTEXOPS_QDRANT_PORT = String(await freePort());
  process.env.CORTEXOPS_QDRANT_GRPC_PORT = String(await freePort());
  const stack = await privateStack(name);
  defer(() => stack.dispose());
  await stack.launcher.up(['nats', 'postgres', 'temporal', 'qdrant']);
  return { stack, qdrant: createLauncher(stack.ctx, ALL_SERVERS) };
}

const VERIFY = { CORTEXOPS_VERIFY_ROLLOUT_TIMEOUT_MS: '30000', CORTEXOPS_VERIFY_STABILISATION_MS: '6000', CORTEXOPS_VERIFY_INTERVAL_MS: '3000', CORTEXOPS_VERIFY_COUNT: '5', CORTEXOPS_VERIFY_MIN_SAMPLES: '2' };

/** The scenario's CortexOps processes on one set of servers (the original ones, or the restored ones). */
class Services {
  readonly all: ServiceProcess[] = [];
  approvalsUrl = '';
  ingestionUrl = '';

  constructor(
    private readonly shared: StackContext,
    private readonly servers: StackContext,
    private readonly names: { readonly temporalNamespace: string; readonly database: string; readonly kubeNamespace: string },
    private readonly secrets: { readonly apiToken: string; readonly signingKeyFile: string; readonly verifyKey: string; readonly policyData: string },
  ) {}

  private common(): Record<string, string> {
    return {
      ...natsEnv(this.servers),
      CORTEXOPS_TEMPORAL_ADDRESS: temporalAddress(this.servers),
      CORTEXOPS_TEMPORAL_NAMESPACE: this.names.temporalNamespace,
      CORTEXOPS_DATABASE_URL: postgresUrl(this.servers, this.names.database),
      CORTEXOPS_JS_STORAGE: 'file',
    };
  }

  private async start(service: 'correlator' | 'approvals' | 'ingestion' | 'worker', env: Record<string, string>): Promise<ServiceProcess> {
    const started = await spawnService(service, { ...this.common(), ...env });
    this.all.push(started);
    defer(() => started.terminate());
    await started.waitForHealth((status) => status === 200, 120_000);
    return started;
  }

  async up(): Promise<void> {
    await this.start('correlator', { CORTEXOPS_CORRELATOR_MIN_SIGNALS: '1' });
    this.approvalsUrl = (await this.start('approvals', { CORTEXOPS_APPROVALS_API_TOKEN: this.secrets.apiToken, CORTEXOPS_APPROVALS_SIGNING_KEY_FILE: this.secrets.signingKeyFile })).baseUrl;
    this.ingestionUrl = (await this.start('ingestion', { CORTEXOPS_KUBECONFIG: kubeconfigPaths(this.shared).ingestion, CORTEXOPS_INGESTION_WATCH_EVENTS: 'false' })).baseUrl;
    await this.start('worker', {
      ...VERIFY,
      CORTEXOPS_WORKER_KUBECONFIG: kubeconfigPaths(this.shared).worker,
      CORTEXOPS_POLICY_DATA: this.secrets.policyData,
      CORTEXOPS_ENVIRONMENTS: `${this.names.kubeNamespace}=development`,
      CORTEXOPS_MAX_MEMORY: '256Gi',
      CORTEXOPS_APPROVALS_VERIFY_KEYS: this.secrets.verifyKey,
      CORTEXOPS_APPROVALS_URL: this.approvalsUrl,
      CORTEXOPS_APPROVALS_API_TOKEN: this.secrets.apiToken,
    });
  }

  async stop(): Promise<void> {
    for (const service of this.all) await service.terminate();
  }

  /** The approvals service's CLI against these servers. */
  async approvalsCli(args: readonly string[]): Promise<string> {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services', 'approvals', 'src', 'cli-main.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, CORTEXOPS_DATABASE_URL: postgresUrl(this.servers, this.names.database) },
      timeout: 60_000,
    });
    return stdout;
  }
}

async function temporalClient(ctx: StackContext, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress(ctx) });
  defer(() => connection.close());
  return new Client({ connection, namespace });
}

async function natsOf(ctx: StackContext): Promise<NatsConnection> {
  const nc = await connect({ ...natsConnectOptions(ctx), maxReconnectAttempts: 0 });
  defer(() => nc.close());
  return nc;
}

const QDRANT_COLLECTION = 'incident_memory_backup_test';
const POINTS = [
  { id: 1, vector: [1, 0, 0, 0], payload: { incident: 'a' } },
  { id: 2, vector: [0, 1, 0, 0], payload: { incident: 'b' } },
  { id: 3, vector: [0, 0, 1, 0], payload: { incident: 'c' } },
];

async function qdrantPut(base: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${base}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`Qdrant PUT ${path}: ${response.status} ${await response.text()}`);
}

async function rejection(promise: Promise<unknown>): Promise<BackupError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof BackupError)) throw new Error(`expected a BackupError, got ${error === undefined ? 'success' : (error as Error).message}`);
  return error;
}

describe('backup and restore — into fresh servers, the incident carries on', () => {
  it(
    'backup-restore — an incident waiting for approval survives the loss of every server: chain verifies against the checkpoint, correlator state back, approval carries it to RESOLVED; bad backups refused with nothing restored',
    async () => {
      const shared = await ensureServers(['prometheus', 'kube-state-metrics', 'kube-controller-manager', 'kwok']);
      const source = await stackWithQdrant('backup-source');
      const database = uniqueName('backup').replace(/-/g, '_');
      const names = { temporalNamespace: await createTestNamespace(source.stack.ctx, 'backup'), database, kubeNamespace: uniqueName('backup').replace(/_/g, '-') };
      // The database the services use, one of the tests' own (the stack's set-up makes `cortexops`).
      await createDatabaseIfMissing(source.stack.ctx, database);
      defer(() => kubectl(shared, ['delete', 'namespace', names.kubeNamespace, '--wait=false', '--ignore-not-found']));
      await enrolForRemediation(shared, names.kubeNamespace);

      // Secrets an operator keeps outside the servers (a secret store): they survive the disaster.
      const scratch = mkdtempSync(join(tmpdir(), 'cortexops-backup-test-'));
      defer(async () => rmSync(scratch, { recursive: true, force: true }));
      const policy = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', 'policy', 'policy', 'data.json'), 'utf8')) as { remediation_policy: Record<string, unknown> & { modes: { namespaces: Record<string, string> } } };
      policy.remediation_policy.modes.namespaces[names.kubeNamespace] = 'approve';
      policy.remediation_policy['bounds'] = { maxReplicas: 50, maxMemory: '256Gi' };
      writeFileSync(join(scratch, 'policy.json'), JSON.stringify(policy));
      const signing = generateKeyPairSync('ed25519');
      writeFileSync(join(scratch, 'signing.pem'), signing.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      const secrets = {
        apiToken: randomBytes(32).toString('hex'),
        signingKeyFile: join(scratch, 'signing.pem'),
        verifyKey: signing.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        policyData: join(scratch, 'policy.json'),
      };
      const checkpointKey = auditCheckpointKey(source.stack.ctx);

      // --- The incident: a real alert through the webhook, waiting for approval.
      const before = new Services(shared, source.stack.ctx, names, secrets);
      await before.up();
      const deployment = memoryLimitedDeployment(names.kubeNamespace, 'ledger', '1Gi');
      await kubectl(shared, ['apply', '-f', '-'], { stdin: JSON.stringify(deployment) });
      const pod = await waitFor('the ledger pod', async () => {
        const list = JSON.parse(await kubectl(shared, ['get', 'pods', '-n', names.kubeNamespace, '-l', 'app=ledger', '-o', 'json'])) as { items: { metadata: { name: string }; status?: { phase?: string } }[] };
        return list.items.find((p) => p.status?.phase === 'Running')?.metadata.name;
      });
      const alert = podAlert(names.kubeNamespace, pod, 'KubePodOOMKilled');
      const notification = JSON.stringify({ version: '4', groupKey: '{}:{backup}', status: 'firing', receiver: 'cortexops', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, alerts: [alert] });
      const posted = await fetch(`${before.ingestionUrl}${HTTP_PATHS.alertmanagerWebhook}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: notification });
      expect(posted.status, await posted.text()).toBe(200);

      const sourceClient = await temporalClient(source.stack.ctx, names.temporalNamespace);
      const workflowId = await waitFor('the incident workflow', async () => {
        for await (const execution of sourceClient.workflow.list()) return execution.workflowId;
        return undefined;
      });
      const incidentId = workflowId.replace(/^incident-/, '');
      const waiting = await waitFor('APPROVAL_PENDING with its request', async () => {
        const view = await sourceClient.workflow.getHandle(workflowId).query(remediationStateQuery);
        return view.state === 'APPROVAL_PENDING' && view.approvalRequest ? view : undefined;
      });
      const sourceNats = await natsOf(source.stack.ctx);
      const group = await correlatorGroup(sourceNats, names.kubeNamespace, 'ledger');
      expect(group?.status, 'the correlator holds the incident open').toBe('open');
      const qdrantBase = qdrantUrl(source.stack.ctx);
      await qdrantPut(qdrantBase, `/collections/${QDRANT_COLLECTION}`, { vectors: { size: 4, distance: 'Cosine' } });
      await qdrantPut(qdrantBase, `/collections/${QDRANT_COLLECTION}/points?wait=true`, { points: POINTS });

      // The checkpointer's job (the stack runs audit-checkpointer): the chain head signed outside PostgreSQL.
      const sourceAudit = await AuditStore.create({ databaseUrl: postgresUrl(source.stack.ctx, database), migrate: false, poolSize: 1 });
      defer(() => sourceAudit.close());
      const signed = await new AuditCheckpointer(sourceAudit, new FileCheckpointStore(auditCheckpointFile(source.stack.ctx)), { current: checkpointKey }).checkpoint();
      expect(signed.ok).toBe(true);
      const auditRows = (await sourceAudit.verify()).rows;

      // --- Backup.
      const into = join(scratch, 'backups');
      const backup = await backupStack(source.stack.ctx, { into, databases: [database] });
      const manifest: Manifest = backup.manifest;
      expect(manifest.databases.map((d) => d.database)).toEqual([database]);
      expect(manifest.temporalSqlite?.executions).toBeGreaterThanOrEqual(1);
      expect(manifest.streams.find((s) => s.stream === 'KV_cortexops_correlator')?.messages).toBeGreaterThan(0);
      expect(manifest.collections).toEqual([{ collection: QDRANT_COLLECTION, file: `qdrant/${QDRANT_COLLECTION}.snapshot`, points: POINTS.length }]);
      expect(manifest.checkpoint?.sequence).toBe(signed.ok ? signed.checkpoint.sequence : -1);

      // A restore over servers that hold data is refused, naming what they hold.
      const occupied = await rejection(restoreStack(source.stack.launcher, backup.dir));
      expect(occupied.code).toBe('TARGET_NOT_EMPTY');
      expect(occupied.message).toContain(`postgres: database ${database} has rows`);
      expect(occupied.message).toContain('temporal: ');
      expect(occupied.message).toContain(`qdrant: collection ${QDRANT_COLLECTION} has ${POINTS.length} points`);

      // --- The disaster: every process and server stopped, their data gone.
      await before.stop();
      await sourceNats.close();
      await source.stack.launcher.down();
      rmSync(source.stack.ctx.dataDir, { recursive: true, force: true });

      // --- Fresh servers; the checkpoint key comes back from where the operator keeps it.
      const fresh = await stackWithQdrant('backup-fresh');
      // Without the key that signed the checkpoint, the restored chain could not be proved: refused, naming the key ids.
      const keyless = await rejection(restoreStack(fresh.stack.launcher, backup.dir));
      expect(keyless.code).toBe('CHECKPOINT_KEY_MISMATCH');
      expect(keyless.message).toContain(`signed with key ${manifest.checkpoint?.keyId ?? '?'}`);
      const keyFile = join(fresh.stack.ctx.dataDir, 'audit', 'checkpoint.key');
      mkdirSync(join(fresh.stack.ctx.dataDir, 'audit'), { recursive: true, mode: 0o700 });
      writeFileSync(keyFile, `${checkpointKey}\n`, { mode: 0o600 });
      const freshIsEmpty = async () => {
        const nc = await connect({ ...natsConnectOptions(fresh.stack.ctx), maxReconnectAttempts: 0 });
        try {
          return {
            tables: await tablesWithRows(postgresUrl(fresh.stack.ctx, 'postgres'), database),
            executions: (await sqliteCheck(temporalDbFile(fresh.stack.ctx), "SELECT count(*) FROM current_executions WHERE workflow_id NOT LIKE 'temporal-sys-%'")).rows,
            correlatorMessages: (await streamInfo(nc, 'KV_cortexops_correlator'))?.state.messages ?? 0,
            points: await pointCount(qdrantUrl(fresh.stack.ctx), QDRANT_COLLECTION),
          };
        } finally {
          await nc.close();
        }
      };
      const empty = { tables: [], executions: 0, correlatorMessages: 0, points: undefined };
      expect(await freshIsEmpty()).toEqual(empty);

      // --- Bad backups: each refused with its reason, the fresh servers untouched.
      const damaged = (name: string, harm: (dir: string) => void): string => {
        const copy = join(scratch, name);
        cpSync(backup.dir, copy, { recursive: true });
        harm(copy);
        return copy;
      };
      const dumpFile = join('postgres', `${database}.dump`);
      const bad: [string, string, BackupError['code'], RegExp][] = [
        ['truncated dump', damaged('truncated', (d) => truncateSync(join(d, dumpFile), 100)), 'BACKUP_CORRUPT', new RegExp(`${dumpFile} has 100 bytes, the manifest says \\d+`)],
        ['missing stream data', damaged('missing', (d) => rmSync(join(d, 'nats', 'KV_cortexops_correlator', 'stream.tar.s2'))), 'BACKUP_CORRUPT', /nats\/KV_cortexops_correlator\/stream\.tar\.s2 is missing/],
        [
          'one byte changed in Temporal’s store',
          damaged('flipped', (d) => {
            const file = join(d, 'temporal', 'temporal.db');
            const bytes = readFileSync(file);
            bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
            writeFileSync(file, bytes);
          }),
          'BACKUP_CORRUPT',
          /temporal\/temporal\.db has sha256 [0-9a-f]{16}…, the manifest says/,
        ],
        ['manifest not JSON', damaged('manifest', (d) => writeFileSync(join(d, MANIFEST_FILE), '{"format": "cortexops-backup/1", ')), 'BACKUP_CORRUPT', /manifest\.json is not JSON/],
        [
          'manifest naming a file outside the backup',
          damaged('escape', (d) => {
            const m = JSON.parse(readFileSync(join(d, MANIFEST_FILE), 'utf8')) as { databases: { file: string }[] };
            m.databases[0]!.file = '../../etc/passwd';
            writeFileSync(join(d, MANIFEST_FILE), JSON.stringify(m));
          }),
          'BACKUP_CORRUPT',
          /databases\[0\]\.file: must be a path inside the backup directory/,
        ],
        ['a directory that is not a backup', into, 'BACKUP_NOT_FOUND', /is not a CortexOps backup: it has no manifest\.json/],
        ['a directory that does not exist', join(scratch, 'nowhere'), 'BACKUP_NOT_FOUND', /nowhere is not a directory/],
      ];
      for (const [what, dir, code, message] of bad) {
        const error = await rejection(restoreStack(fresh.stack.launcher, dir));
        expect({ what, code: error.code }).toEqual({ what, code });
        expect(error.message, what).toMatch(message);
      }
      expect(await freshIsEmpty(), 'nothing restored by a refused backup').toEqual(empty);

      // --- Restore.
      const restored = await restoreStack(fresh.stack.launcher, backup.dir);
      expect(restored.audit).toMatchObject({ checkpointSequence: manifest.checkpoint?.sequence });
      expect(restored.audit?.rows).toBeGreaterThanOrEqual(auditRows);
      expect((await freshIsEmpty()).points).toBe(POINTS.length);
      const freshQdrant = await fetch(`${qdrantUrl(fresh.stack.ctx)}/collections/${QDRANT_COLLECTION}/points/2`);
      expect(((await freshQdrant.json()) as { result: { payload: unknown } }).result.payload).toEqual({ incident: 'b' });
      // A second restore now finds data.
      expect((await rejection(restoreStack(fresh.stack.launcher, backup.dir))).code).toBe('TARGET_NOT_EMPTY');

      // --- The incident carries on, on the restored servers.
      const freshClient = await temporalClient(fresh.stack.ctx, names.temporalNamespace);
      const handle = freshClient.workflow.getHandle(workflowId);
      const freshNats = await natsOf(fresh.stack.ctx);
      expect((await correlatorGroup(freshNats, names.kubeNamespace, 'ledger'))?.status).toBe(group?.status);

      const after = new Services(shared, fresh.stack.ctx, names, secrets);
      await after.up();
      // With a worker polling again, the workflow answers: still waiting, on the same request and plan.
      const still: RemediationStateView = await handle.query(remediationStateQuery);
      expect(still.state).toBe('APPROVAL_PENDING');
      expect(still.approvalRequest?.requestId).toBe(waiting.approvalRequest?.requestId);
      expect(still.approvalRequest?.planHash).toBe(waiting.approvalRequest?.planHash);
      // A repeat of the incident's signal (a new message: ingestion would give it a new id) reaches the restored
      // correlator: its restored group holds the fingerprint, so it is deduplicated — no new incident, no new workflow.
      const [original] = (await workflowRecord(freshClient, incidentId)).signals;
      expect(original, 'the workflow received the alert’s signal').toBeDefined();
      const repeat = { ...original!, id: `${original!.id}-repeat`, receivedAt: new Date().toISOString() };
      await freshNats.jetstream().publish(signalSubject(repeat.cluster, repeat.namespace), new TextEncoder().encode(JSON.stringify(repeat)), { msgID: repeat.id });
      const jsm = await freshNats.jetstreamManager();
      await waitFor('the restored correlator decided the repeat', async () => {
        const info = await jsm.consumers.info(STREAMS.signals, CONSUMERS.correlator);
        return info.delivered.stream_seq >= 1 && info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
      });
      const workflows: string[] = [];
      for await (const execution of freshClient.workflow.list()) workflows.push(execution.workflowId);
      expect(workflows, 'no new incident').toEqual([workflowId]);
      expect((await correlatorGroup(freshNats, names.kubeNamespace, 'ledger'))?.status).toBe(group?.status);

      // The approval, through the approvals service of the restored servers (the approver's token was restored too).
      const token = (await after.approvalsCli(['tokens', 'create', '--name', APPROVER, '--expires-in', '1', '--by', 'backup-test'])).trim();
      await after.approvalsCli(['approve', incidentId, '--api-url', after.approvalsUrl, '--token', token, '--output', 'json']);
      const final = (await handle.result()) as { state: string };
      expect(final.state).toBe('RESOLVED');
      const view = await handle.query(remediationStateQuery);
      expect(view.decisions.map((d) => d.decision)).toEqual(['approve']);
      const limit = await kubectl(shared, ['get', 'deployment', '-n', names.kubeNamespace, 'ledger', '-o', 'jsonpath={.spec.template.spec.containers[0].resources.limits.memory}']);
      expect(limit.trim()).toBe('1536Mi');
      const freshAudit = await AuditStore.create({ databaseUrl: postgresUrl(fresh.stack.ctx, database), migrate: false, poolSize: 1 });
      defer(() => freshAudit.close());
      const chain = await freshAudit.verify();
      expect(chain.ok && chain.rows).toBeGreaterThan(restored.audit?.rows ?? 0);
      await after.stop();

      // --force: the same backup over servers that hold more (the approval and what followed): back to the backup's point.
      const again = await restoreStack(fresh.stack.launcher, backup.dir, { force: true });
      expect(again.audit).toEqual(restored.audit);
    },
    600_000,
  );
});
