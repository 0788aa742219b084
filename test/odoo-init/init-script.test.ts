/**
 * The Odoo pod's first-start script (components/odoo-init/init_tenant.py) against a real
 * PostgreSQL, with the real odoo.conf renderer. Odoo itself cannot run here: the `odoo`
 * command is a recording stand-in (test/support/odoo-stub.py), so these tests prove the
 * script's flow (once only, admin password set before anything serves, secrets never on a
 * command line), not Odoo's behaviour.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../../automation/engine/engine-env";
import { renderOdooConf } from "../../components/specs/odoo-conf";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";
import { argsFor } from "../support/tenant-args";
import { runRoleSetup, tenantRoleSettings } from "../support/role-setup";
import { tenantNames } from "../../components/naming";

const PYTHON = "/usr/bin/python3"; // Debian's, with python3-psycopg2 (as the odoo image ships psycopg2)
const SCRIPT = path.join(repoRoot(), "components", "odoo-init", "init_tenant.py");
const STUB = path.join(repoRoot(), "test", "support", "odoo-stub.py");
const ADMIN_PASSWORD = "Gen3ratedAdminPassw0rdXYZ";
const DB_PASSWORD = "dbpass-1234567890";
const names = tenantNames("acme");

interface StubCall { argv: string[]; stdin: string; password_in_env: boolean }

describe("Odoo first-start script (real PostgreSQL, recording stand-in for odoo)", function () {
  this.timeout(120_000);
  let pg: PostgresServer;
  let dir: string;
  let rc: string;

  before(async () => {
    const check = spawnSync(PYTHON, ["-c", "import psycopg2"], { encoding: "utf8" });
    if (check.status !== 0) throw new Error(`${PYTHON} lacks psycopg2: apt-get install -y python3-psycopg2 (scripts/prepare.sh does)`);
    // As a tenant's PostgreSQL: bootstrap superuser `odoo`, Odoo connecting as the application role.
    pg = await startPostgres({ superuser: names.dbSuperuser });
  });
  after(async () => pg?.stop());

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-init-"));
    // The tenant's database (the image's POSTGRES_DB) and roles, as the pod's role set-up leaves them.
    pg.sql("postgres", "DROP DATABASE IF EXISTS acme; DROP ROLE IF EXISTS odoo_app; CREATE DATABASE acme;");
    const setup = runRoleSetup(pg, tenantRoleSettings("acme", DB_PASSWORD));
    expect(setup.status, setup.stderr).to.equal(0);
    const conf = renderOdooConf(argsFor({ id: "acme" }), { dbPassword: DB_PASSWORD, masterPassword: "master-xyz" })
      .replace("db_host = acme-postgres", `db_host = ${pg.env.PGHOST}`)
      .replace("db_port = 5432", `db_port = ${pg.env.PGPORT}`);
    rc = path.join(dir, "odoo.conf");
    fs.writeFileSync(rc, conf, { mode: 0o600 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(extraEnv: Record<string, string> = {}, omit: string[] = []): { status: number | null; out: string; calls: StubCall[] } {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "", ODOO_RC: rc, TENANT_DB: "acme", ODOO_ADMIN_LOGIN: "owner@acme.example",
      ODOO_ADMIN_PASSWORD: ADMIN_PASSWORD, ODOO_BIN: STUB, STUB_LOG: path.join(dir, "calls.log"), DB_WAIT_SECONDS: "10", ...extraEnv,
    };
    for (const key of omit) delete env[key];
    const result = spawnSync(PYTHON, [SCRIPT], { env, encoding: "utf8" });
    const logFile = path.join(dir, "calls.log");
    const calls = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as StubCall) : [];
    return { status: result.status, out: `${result.stdout}${result.stderr}`, calls };
  }

  const admin = (): string => pg.sql("acme", "SELECT login || ':' || password FROM res_users WHERE id = 2").trim();

  it("initialises without demo data, then replaces admin/admin, before Odoo could serve", () => {
    const { status, out, calls } = run();
    expect(status, out).to.equal(0);
    expect(calls.map((c) => c.argv)).to.deep.equal([
      ["--config", rc, "--database", "acme", "--init", "base", "--without-demo=all", "--stop-after-init", "--no-http"],
      ["shell", "--config", rc, "--database", "acme", "--no-http"],
    ]);
    expect(admin()).to.equal(`owner@acme.example:${ADMIN_PASSWORD}`);
    expect(out).to.contain("administrator login and password set");
    // Odoo connected as the application role, which owns what it created and is no superuser.
    expect(pg.sql("acme", "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public';").trim()).to.equal(names.dbUser);
    expect(pg.sql("postgres", "SELECT rolsuper FROM pg_roles WHERE rolname = :'role';", { role: names.dbUser }).trim()).to.equal("f");
  });

  it("never puts a secret on a command line or in its output", () => {
    const { out, calls } = run();
    const secrets = [ADMIN_PASSWORD, DB_PASSWORD, "master-xyz"];
    for (const call of calls) {
      for (const secret of secrets) expect(call.argv.join(" ")).to.not.contain(secret);
      expect(call.stdin).to.not.contain(ADMIN_PASSWORD);
    }
    for (const secret of secrets) expect(out).to.not.contain(secret);
  });

  it("does nothing on the next start (the owner's later password changes are kept)", () => {
    expect(run().status).to.equal(0);
    pg.sql("acme", "UPDATE res_users SET password = 'changed-by-owner' WHERE id = 2");
    fs.rmSync(path.join(dir, "calls.log"));
    const again = run();
    expect(again.status, again.out).to.equal(0);
    expect(again.calls).to.deep.equal([]);
    expect(again.out).to.contain("already initialised");
    expect(admin()).to.equal("owner@acme.example:changed-by-owner");
  });

  it("after an interrupted first start (password not yet set), the next start sets it without re-initialising", () => {
    const first = run({ STUB_FAIL: "shell" });
    expect(first.status).to.not.equal(0);
    expect(admin()).to.equal("admin:admin"); // the container fails, so Odoo never starts like this
    fs.rmSync(path.join(dir, "calls.log"));
    const second = run();
    expect(second.status, second.out).to.equal(0);
    expect(second.calls.map((c) => c.argv[0])).to.deep.equal(["shell"]);
    expect(admin()).to.equal(`owner@acme.example:${ADMIN_PASSWORD}`);
  });

  it("fails, naming the variable, when a value is missing", () => {
    const { status, out, calls } = run({}, ["ODOO_ADMIN_PASSWORD"]);
    expect(status).to.not.equal(0);
    expect(out).to.contain("ODOO_ADMIN_PASSWORD is not set");
    expect(calls).to.deep.equal([]);
  });
});
