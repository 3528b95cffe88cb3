import type { Logger } from '@cortexops/observability';
import pg from 'pg';

/**
 * One holder among the replicas of a service, by a PostgreSQL session advisory lock (`pg_try_advisory_lock` on
 * `hashtext(name)`) on a connection of its own: the replica whose session holds the lock is the one; when its process
 * or its connection goes, PostgreSQL releases the lock and the next replica to ask takes it. Needs a session-level
 * connection (not through a transaction-pooling PgBouncer).
 */
export class AdvisoryLeadership {
  private client: pg.Client | undefined;
  private held = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Whether this replica holds the lock now: checks that the connection holding it still lives, else (re)connects and
   * tries to take it. A failure to reach PostgreSQL is thrown (the caller reports nothing this round) after the broken
   * connection was dropped, so the next call starts afresh.
   */
  async holds(): Promise<boolean> {
    if (this.client && this.held) {
      try {
        await this.client.query('SELECT 1');
        return true;
      } catch (error) {
        this.logger.warn({ err: error, lock: this.name }, 'lost the connection that held the lock');
        await this.drop();
      }
    }
    try {
      this.client ??= await this.connect();
      const result = await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [this.name]);
      const locked = result.rows[0]?.locked === true;
      if (locked && !this.held) this.logger.info({ lock: this.name }, 'this replica holds the lock');
      this.held = locked;
      return locked;
    } catch (error) {
      await this.drop();
      throw error;
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 2000, application_name: `cortexops ${this.name}` });
    // A terminated backend is an 'error' event on an idle client: without a listener it would kill the process.
    client.on('error', (error) => {
      this.logger.warn({ err: error, lock: this.name }, 'the lock connection failed');
      if (this.client === client) {
        this.client = undefined;
        this.held = false;
      }
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held = false;
    await client?.end().catch(() => undefined);
  }

  /** Gives the lock up (its session ends). */
  async release(): Promise<void> {
    await this.drop();
  }
}
