import type pg from 'pg';

/**
 * Runs `work` on a client checked out of `pool`. While a client is checked out the pool's own error listener is off
 * it, so a backend terminated between two of its queries (PostgreSQL restarted, `57P01`) would be an unhandled
 * 'error' event that ends the process. Here the event is absorbed — the error reaches the next query on the client —
 * and a client that failed is destroyed on release instead of going back to the pool.
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (error) {
    broken ??= error instanceof Error && isConnectionError(error) ? error : undefined;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** Errors after which a connection is not reused: class 08 (connection exception), 57P0x (operator intervention), or no SQLSTATE at all. */
function isConnectionError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code !== 'string' || code.startsWith('08') || code.startsWith('57P');
}
