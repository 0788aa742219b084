/**
 * The one transaction helper (records/transaction.ts) on a real PostgreSQL: the work's writes
 * are committed together, a throw rolls all of them back and surfaces the work's own error,
 * and the pooled client goes back to the pool either way.
 */
import { expect } from "chai";
import { Pool } from "pg";
import { withTransaction } from "../../automation/records/transaction";
import { freshDatabase } from "../support/test-postgres";

describe("withTransaction (one BEGIN/COMMIT/ROLLBACK for the records, the queue and the rate limits)", function () {
  let pool: Pool;
  const rows = async (): Promise<string[]> => (await pool.query<{ v: string }>("select v from t order by v")).rows.map((r) => r.v);

  before(async () => {
    pool = new Pool({ connectionString: await freshDatabase("tx"), max: 2 });
    await pool.query("create table t (v text primary key)");
  });
  after(() => pool.end());
  beforeEach(() => pool.query("delete from t"));

  it("commits every write of the work together and returns its result", async () => {
    const result = await withTransaction(pool, async (client) => {
      await client.query("insert into t values ('a'), ('b')");
      return "done";
    });
    expect(result).to.equal("done");
    expect(await rows()).to.deep.equal(["a", "b"]);
  });

  it("rolls back every write when the work throws, and the caller sees the work's error", async () => {
    const error = await withTransaction(pool, async (client) => {
      await client.query("insert into t values ('a')");
      throw new Error("refused by the work");
    }).then(() => undefined, (err: Error) => err);
    expect(error?.message).to.equal("refused by the work");
    expect(await rows()).to.deep.equal([]);
  });

  it("rolls back a failed statement's transaction, so the client is clean for the next user", async () => {
    await pool.query("insert into t values ('a')");
    const error = await withTransaction(pool, async (client) => {
      await client.query("insert into t values ('b')");
      await client.query("insert into t values ('a')"); // duplicate key: the transaction is aborted
    }).then(() => undefined, (err: Error) => err);
    expect(error?.message).to.match(/duplicate key/);
    expect(await rows()).to.deep.equal(["a"]);
    // Were the aborted transaction left open on a pooled client, this would fail with 25P02.
    for (let i = 0; i < 4; i++) await withTransaction(pool, (client) => client.query("select 1"));
  });

  it("gives the client back to the pool after success and after failure (a pool of 2 serves many in turn)", async () => {
    for (let i = 0; i < 6; i++) {
      await withTransaction(pool, async (client) => {
        await client.query("select 1");
        if (i % 2 === 0) throw new Error("fails");
      }).catch(() => undefined);
    }
    expect(pool.totalCount).to.be.at.most(2);
    expect(pool.idleCount).to.equal(pool.totalCount);
    expect(pool.waitingCount).to.equal(0);
  });
});
