/**
 * The Odoo STAND-IN of the local cluster's real node (images/odoo-standin/odoo), run as a
 * program against a real PostgreSQL with the platform's own first-start script and odoo.conf
 * renderer. It proves that the stand-in honours the contract the platform relies on (the init
 * container's command forms, the core tables, the filestore, the HTTP endpoints, refusing to
 * start without its database); it proves nothing about Odoo.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
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
import { freePort } from "../../local/free-port";

const PYTHON = "/usr/bin/python3";
const INIT = path.join(repoRoot(), "components", "odoo-init", "init_tenant.py");
const STANDIN = path.join(repoRoot(), "images", "odoo-standin", "odoo");
const ADMIN_PASSWORD = "Gen3ratedAdminPassw0rdXYZ";
const DB_PASSWORD = "dbpass-1234567890";


describe("Odoo stand-in program (real PostgreSQL, the platform's init script)", function () {
  this.timeout(120_000);
  let pg: PostgresServer;
  let dir: string;
  let rc: string;
  let port: number;
  let server: ChildProcess | undefined;

  before(async () => {
    // As a tenant's PostgreSQL: bootstrap superuser `odoo`, Odoo connecting as the application role.
    pg = await startPostgres({ superuser: tenantNames("acme").dbSuperuser });
  });
  after(async () => pg?.stop());

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-standin-"));
    // The tenant's database and roles, as the pod's role set-up leaves them.
    pg.sql("postgres", "DROP DATABASE IF EXISTS acme; DROP ROLE IF EXISTS odoo_app; CREATE DATABASE acme;");
    const setup = runRoleSetup(pg, tenantRoleSettings("acme", DB_PASSWORD));
    expect(setup.status, setup.stderr).to.equal(0);
    port = await freePort();
    const conf = renderOdooConf(argsFor({ id: "acme" }), { dbPassword: DB_PASSWORD, masterPassword: "master-xyz" })
      .replace("db_host = acme-postgres", `db_host = ${pg.env.PGHOST}`)
      .replace("db_port = 5432", `db_port = ${pg.env.PGPORT}`)
      .replace("data_dir = /var/lib/odoo", `data_dir = ${dir}/data`)
      .replace("http_port = 8069", `http_port = ${port}`);
    rc = path.join(dir, "odoo.conf");
    fs.writeFileSync(rc, conf, { mode: 0o600 });
  });
  afterEach(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function firstStart(): { status: number | null; out: string } {
    const env = { PATH: process.env.PATH ?? "", ODOO_RC: rc, TENANT_DB: "acme", ODOO_ADMIN_LOGIN: "owner@acme.example",
      ODOO_ADMIN_PASSWORD: ADMIN_PASSWORD, ODOO_BIN: STANDIN, DB_WAIT_SECONDS: "10" };
    const result = spawnSync(PYTHON, [INIT], { env, encoding: "utf8" });
    return { status: result.status, out: `${result.stdout}${result.stderr}` };
  }

  async function startServer(): Promise<{ output: () => string; exit: Promise<number | null> }> {
    let output = "";
    server = spawn(STANDIN, [], { env: { PATH: process.env.PATH ?? "", ODOO_RC: rc } });
    server.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    server.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const exit = new Promise<number | null>((resolve) => server!.once("exit", (code) => resolve(code)));
    return { output: () => output, exit };
  }

  async function get(urlPath: string): Promise<{ status: number; body: string }> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { redirect: "manual" });
        return { status: res.status, body: await res.text() };
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  it("initialises through the init script: core tables, base installed, admin replaced with a hashed password, a filestore", () => {
    const { status, out } = firstStart();
    expect(status, out).to.equal(0);
    expect(out).to.contain("administrator login and password set");
    const tables = pg.sql("acme", "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'").trim();
    for (const table of ["ir_attachment", "ir_config_parameter", "ir_module_module", "res_partner", "res_users", "res_users_apikeys", "res_users_log"]) {
      expect(tables.split(",")).to.include(table);
    }
    expect(pg.sql("acme", "SELECT name || ':' || state FROM ir_module_module").trim()).to.equal("base:installed");
    const admin = pg.sql("acme", "SELECT login || ' ' || password FROM res_users WHERE id = 2").trim();
    expect(admin).to.match(/^owner@acme\.example \$pbkdf2-sha512\$600000\$/);
    expect(admin).to.not.contain(ADMIN_PASSWORD);
    expect(pg.sql("acme", "SELECT value FROM ir_config_parameter WHERE key = 'odoo_saas.admin_initialised'").trim()).to.equal("1");
    const stored = pg.sql("acme", "SELECT store_fname FROM ir_attachment").trim();
    expect(fs.existsSync(path.join(dir, "data", "filestore", "acme", stored)), stored).to.equal(true);
    for (const secret of [ADMIN_PASSWORD, DB_PASSWORD, "master-xyz"]) expect(out).to.not.contain(secret);
  });

  it("does not initialise twice: the next start changes nothing", () => {
    expect(firstStart().status).to.equal(0);
    const before = pg.sql("acme", "SELECT string_agg(login || password, ',' ORDER BY id) FROM res_users");
    const again = firstStart();
    expect(again.status, again.out).to.equal(0);
    expect(again.out).to.contain("already initialised");
    expect(pg.sql("acme", "SELECT string_agg(login || password, ',' ORDER BY id) FROM res_users")).to.equal(before);
  });

  it("serves /web/health, the database status and /web/login, and signs in with the generated password only", async () => {
    expect(firstStart().status).to.equal(0);
    const { output } = await startServer();
    const health = await get("/web/health");
    expect(health, output()).to.deep.equal({ status: 200, body: '{"status": "pass"}' });
    expect((await get("/web/health?db_server_status=1")).status).to.equal(200);
    const login = await get("/web/login");
    expect(login.status).to.equal(200);
    expect(login.body).to.contain("Odoo stand-in");
    const signIn = async (password: string): Promise<number> => (await fetch(`http://127.0.0.1:${port}/web/login`, {
      method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ login: "owner@acme.example", password }).toString(),
    })).status;
    expect(await signIn(ADMIN_PASSWORD)).to.equal(200);
    expect(await signIn("admin")).to.equal(401);
  });

  it("refuses to start on a database that is not initialised, and says why", async () => {
    const { output, exit } = await startServer();
    expect(await exit).to.not.equal(0);
    expect(output()).to.contain("refusing to start").and.to.contain("not initialised");
  });

  it("refuses to start when its database does not answer", async () => {
    fs.writeFileSync(rc, fs.readFileSync(rc, "utf8").replace(/^db_port = .*$/m, "db_port = 1"));
    const { output, exit } = await startServer();
    expect(await exit).to.not.equal(0);
    expect(output()).to.contain("refusing to start").and.to.contain("does not answer");
  });
});
