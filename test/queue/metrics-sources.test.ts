/**
 * The scrape's database reads against a real PostgreSQL: the queue's depth and age and the
 * tenants by customer status are read at scrape time; when the database does not answer in
 * time (here: its tables locked by another session), the scrape says so with
 * odoo_saas_scrape_read_failed and leaves those gauges out instead of showing stale or zero values.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { Pool } from "pg";
import { clusterReaderFromEnv } from "../../automation/cluster-status";
import { jsonLogger, Redactor } from "../../automation/log";
import { ServerMetrics } from "../../automation/metrics";
import { recordsMetricsSources } from "../../automation/metrics-sources";
import { FleetPlatform } from "../../automation/fleet-platform";
import { RecordsStore } from "../../automation/records/records-store";
import { TenantViews } from "../../automation/tenant-views";
import { writeFleetStackFile } from "../support/signup-harness";
import { freshDatabase } from "../support/test-postgres";
import { signup } from "./records.test";

const quiet = jsonLogger(new Redactor(), { quiet: true });

function sample(text: string, key: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${key} `));
  return line === undefined ? undefined : Number(line.slice(key.length + 1));
}

describe("metrics read at scrape time from PostgreSQL", function () {
  let url: string;
  let records: RecordsStore;
  let dir: string;
  let metrics: ServerMetrics;

  before(async () => {
    url = await freshDatabase("metrics");
    records = await RecordsStore.open(url);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "metrics-sources-"));
    const platform = new FleetPlatform(writeFleetStackFile(dir), quiet);
    metrics = new ServerMetrics(1_000);
    metrics.useSources(recordsMetricsSources(records, new TenantViews(records, platform, clusterReaderFromEnv("none"))));
    for (const id of ["shop-one", "shop-two"]) {
      const { tenant, op } = signup(id, "owner-1");
      await records.createSignup(tenant, { ...op, createdAt: new Date(Date.now() - 90_000).toISOString() }, () => undefined);
    }
  });
  after(async () => {
    await records?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reads the queue's depth and age and the tenants by the status their customers see", async () => {
    const { text } = await metrics.scrape();
    expect(sample(text, 'odoo_saas_queue_operations{status="queued"}')).to.equal(2);
    expect(sample(text, 'odoo_saas_queue_operations{status="running"}')).to.equal(0);
    expect(sample(text, 'odoo_saas_queue_oldest_age_seconds{status="queued"}')).to.be.within(89, 150);
    expect(sample(text, 'odoo_saas_queue_oldest_age_seconds{status="running"}')).to.equal(0);
    expect(sample(text, 'odoo_saas_tenants{status="creating"}')).to.equal(2);
    expect(sample(text, 'odoo_saas_tenants{status="unknown"}')).to.equal(0);
    expect(sample(text, 'odoo_saas_scrape_read_failed{read="queue"}')).to.equal(0);
    expect(text).to.not.include("shop-one");
    expect(text).to.not.include("owner-1");
  });

  it("shows a read that timed out as odoo_saas_scrape_read_failed 1 and leaves its gauges out", async () => {
    const blocker = new Pool({ connectionString: url, max: 1 });
    const client = await blocker.connect();
    try {
      await client.query("begin");
      await client.query("lock table odoo_saas.operations, odoo_saas.tenants in access exclusive mode");
      const started = Date.now();
      const { text } = await metrics.scrape();
      expect(Date.now() - started).to.be.below(5_000);
      expect(sample(text, 'odoo_saas_scrape_read_failed{read="queue"}')).to.equal(1);
      expect(sample(text, 'odoo_saas_scrape_read_failed{read="tenants"}')).to.equal(1);
      expect(text).to.not.match(/^odoo_saas_queue_operations\{/m);
      expect(text).to.not.match(/^odoo_saas_queue_oldest_age_seconds\{/m);
      expect(text).to.not.match(/^odoo_saas_tenants\{/m);
      // What needs no database is still there.
      expect(sample(text, "odoo_saas_engine_runs_in_flight")).to.equal(0);
    } finally {
      await client.query("rollback");
      client.release();
      await blocker.end();
    }
    const { text } = await metrics.scrape();
    expect(sample(text, 'odoo_saas_scrape_read_failed{read="queue"}')).to.equal(0);
    expect(sample(text, 'odoo_saas_queue_operations{status="queued"}')).to.equal(2);
  });
});
