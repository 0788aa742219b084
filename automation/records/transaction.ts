/**
 * The one way this server runs a PostgreSQL transaction: one pooled client, BEGIN, the work,
 * COMMIT; ROLLBACK when the work throws (its error is what the caller sees, never the
 * rollback's), and the client always back in the pool.
 */
import type { Pool, PoolClient } from "pg";

export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (err) {
    await client.query("rollback").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
