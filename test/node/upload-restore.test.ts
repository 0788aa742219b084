/**
 * The owner's upload restore on the real node (issues 19 item 2 and 20), on tenant globex as
 * tenant.test.ts deployed it (a fresh instance, so uploads are accepted): KubernetesUploadRestorer
 * starts the importer Job from globex's backup CronJob in the locally built backup image, stops
 * the Odoo stand-in, and streams the zip to `restore-upload` over pods/exec, whose psql loads the
 * dump inside its own `\restrict` as the application role odoo_app.
 * - Each hostile dump (test/support/hostile-dumps.ts) passes the dump checks and is refused by
 *   PostgreSQL in the pod (SQLSTATE 42501 class: "permission denied", "must be superuser or have
 *   privileges of ...", "must have admin option ..."): the database as before (pg_dump line for
 *   line), no other database, no role or membership gained, no event trigger, and the marker
 *   file its program would create in the PostgreSQL pod's data volume never appears.
 * - A plain dump of the instance itself, with one row more, is then restored in the pod: the row
 *   and the uploaded file are there, and the stand-in is Ready again. So the refusals above were
 *   PostgreSQL's, not a path that restores nothing.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { UploadLimits } from "../../backup/import/check-upload";
import { psqlSupportsRestrict } from "../../backup/import/restricted-sql";
import { KubernetesUploadRestorer } from "../../automation/kube-upload-restorer";
import type { UploadPhase } from "../../automation/upload-restorer";
import { tenantNames } from "../../components/naming";
import { HEADER, HOSTILE } from "../support/hostile-dumps";
import { odooManifest, writeZip } from "../support/upload-zips";
import { filestoreDigest, inTenantPod, runJobOfTemplate, tenantDump, tenantSql } from "./pod-exec";
import { podReady, realCluster, waitFor } from "./real-cluster";

const names = tenantNames("globex");
const FILESTORE = `/var/lib/odoo/filestore/${names.database}`;
const LIMITS: UploadLimits = { maxDumpBytes: 64 * 1024 * 1024, maxFilestoreBytes: 64 * 1024 * 1024, maxEntries: 1000, maxCompressionRatio: 200, odooMajor: "18.0" };
/** Inside the PostgreSQL pod's data volume: the server's own user can write there, so a marker that never appears means the program never ran. */
const MARKER_DIR = "/var/lib/postgresql/data";

async function serverState(): Promise<Record<string, string>> {
  return {
    dump: await tenantDump("globex"),
    databases: await tenantSql("globex", "postgres", "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database;"),
    roles: await tenantSql("globex", "postgres", "SELECT string_agg(rolname || ':' || rolsuper || rolcreaterole, ',' ORDER BY rolname) FROM pg_roles WHERE rolname !~ '^pg_';"),
    memberships: await tenantSql("globex", "postgres", "SELECT count(*) FROM pg_auth_members WHERE member = 'odoo_app'::regrole;"),
    eventTriggers: await tenantSql("globex", names.database, "SELECT count(*) FROM pg_event_trigger;"),
    files: await filestoreDigest("globex", FILESTORE),
  };
}

describe("real node: uploaded databases restored in the tenant's importer pod", function () {
  this.timeout(900_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "node-upload-"));
  // Made once the root hook has the cluster up (describe bodies run before it).
  const restorer = (): KubernetesUploadRestorer => new KubernetesUploadRestorer(realCluster().kc, { pollMs: 1000, scaleTimeoutMs: 300_000 });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("the backup image's psql has \\restrict, so restore-upload loads every dump inside it", async () => {
    const version = await runJobOfTemplate("globex", "globex-psql-version", ["/usr/lib/postgresql/15/bin/psql", "--version"]);
    expect(version.ok, version.log).to.equal(true);
    expect(psqlSupportsRestrict(version.log), version.log).to.equal(true);
  });

  it("each hostile dump's server-side statement fails with PostgreSQL's refusal to the role, nothing runs, the instance as before", async () => {
    const before = await serverState();
    for (const [i, hostile] of HOSTILE.entries()) {
      const marker = `${MARKER_DIR}/hostile-marker-${i}`;
      const zip = await writeZip(path.join(work, `hostile-${i}.zip`), [
        { name: "dump.sql", data: (HEADER + hostile.sql).replace(/MARKER/g, marker) },
        { name: "manifest.json", data: odooManifest("18.0", "evil") },
        { name: "filestore/ab/abcdef", data: "an attachment" },
      ]);
      const phases: UploadPhase[] = [];
      const t0 = Date.now();
      const outcome = await restorer().restore({ tenant: "globex", file: zip, limits: LIMITS }, (p) => phases.push(p));
      console.log(`      (${hostile.title}: ${outcome.state} in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      if (outcome.state !== "refused") throw new Error(`${hostile.title}: ${JSON.stringify(outcome)}`);
      expect(outcome.code, outcome.message).to.equal("load_failed");
      expect(outcome.message, hostile.title).to.match(hostile.refusal);
      // It was loading in the pod when PostgreSQL refused, after the checks let it through.
      expect(phases, hostile.title).to.include("loading-database");
      const seen = await inTenantPod("globex", "postgres", ["test", "-e", marker]);
      expect(seen.ok, `${marker} exists: the program ran`).to.equal(false);
      expect(await serverState(), hostile.title).to.deep.equal(before);
    }
    await waitFor("globex's Odoo stand-in Ready", () => podReady(names.namespace, "app.kubernetes.io/name=odoo"), 300_000);
  });

  it("a plain dump of the instance with one row more is restored in the pod, with its file", async () => {
    await tenantSql("globex", names.database, "SET ROLE odoo_app; INSERT INTO ir_config_parameter (key, value) VALUES ('odoo_saas.node_upload_test', 'uploaded');");
    const dumped = await inTenantPod("globex", "postgres", ["pg_dump", "-U", names.dbSuperuser, "--no-owner", "--no-privileges", "--format=plain", names.database]);
    expect(dumped.ok, dumped.stderr).to.equal(true);
    await tenantSql("globex", names.database, "DELETE FROM ir_config_parameter WHERE key = 'odoo_saas.node_upload_test';");
    const zip = await writeZip(path.join(work, "plain.zip"), [
      { name: "dump.sql", data: dumped.stdout.toString("utf8") },
      { name: "manifest.json", data: odooManifest("18.0", "globex-elsewhere") },
      { name: "filestore/c3/c3d4e5", data: "an uploaded attachment" },
    ]);
    const outcome = await restorer().restore({ tenant: "globex", file: zip, limits: LIMITS }, () => undefined);
    expect(outcome).to.deep.equal({ state: "restored" });
    expect(await tenantSql("globex", names.database, "SELECT value FROM ir_config_parameter WHERE key = 'odoo_saas.node_upload_test';")).to.equal("uploaded");
    expect(await tenantSql("globex", names.database, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database();")).to.equal("odoo_app");
    expect(await filestoreDigest("globex", FILESTORE)).to.contain("./c3/c3d4e5");
    await waitFor("globex's Odoo stand-in Ready", () => podReady(names.namespace, "app.kubernetes.io/name=odoo"), 300_000);
  });
});
