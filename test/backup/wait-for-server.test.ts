/**
 * Backup and restore Jobs wait for the tenant's PostgreSQL (a pod restarting, a Service without
 * a ready endpoint) instead of failing on the first refused connection; any other error is
 * not waited out. Against a real PostgreSQL and a closed port.
 */
import { expect } from "chai";
import type { PgConnection } from "../../backup/config";
import { waitForServer } from "../../backup/pg/psql";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";
import { freePort } from "../../local/free-port";


describe("waiting for PostgreSQL before a backup or restore", function () {
  this.timeout(60_000);
  let pg: PostgresServer;
  let conn: PgConnection;
  before(async () => {
    pg = await startPostgres();
    conn = { host: pg.env.PGHOST, port: Number(pg.env.PGPORT), user: pg.env.PGUSER, password: pg.env.PGPASSWORD, database: "postgres", maintenanceDatabase: "postgres", binDir: pg.binDir, passThrough: {} };
  });
  after(async () => pg?.stop());

  it("answers at once when the server is there", async () => {
    const t0 = Date.now();
    await waitForServer(conn, { timeoutMs: 10_000 });
    expect(Date.now() - t0).to.be.lessThan(5_000);
  });

  it("keeps trying while connections are refused, then gives up with libpq's reason", async () => {
    const lines: string[] = [];
    const t0 = Date.now();
    const err = await waitForServer({ ...conn, host: "127.0.0.1", port: await freePort() }, { timeoutMs: 2_500, log: (l) => lines.push(l) }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/connection refused/i);
    expect(Date.now() - t0).to.be.at.least(2_500);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain("waiting for PostgreSQL");
  });

  it("does not wait out a wrong password", async () => {
    const t0 = Date.now();
    const err = await waitForServer({ ...conn, host: "127.0.0.1", password: "not-the-password" }, { timeoutMs: 20_000 }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/password authentication failed/i);
    expect(Date.now() - t0).to.be.lessThan(5_000);
  });
});
