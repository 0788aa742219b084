/**
 * "Upload a database" in the owner's Backups section, in Chromium at 1280 px and 390 px, against
 * the real signup server and engine (stand-in program and Auth, as backups-page.test.ts), with
 * uploads restored by PgUploadRestorer into a real PostgreSQL. The upload's progress is the
 * browser's own (XMLHttpRequest upload events), slowed by Chromium's network throttling so that
 * it can be seen; the refusals are the server's, shown in customer words; the database restored
 * or left as it was is checked in PostgreSQL.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Readable } from "node:stream";
import { StoreBackupAccess } from "../../automation/backup-access";
import { formatBackupName } from "../../backup/backup-name";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";
import { filestoreDigest, fingerprint } from "../backup/helpers";
import { launchChromium } from "../support/browser";
import { ObservedCluster } from "../support/observed-cluster";
import { checkView } from "../support/page-checks";
import { Harness } from "../support/signup-harness";
import { FRESH_FINGERPRINT_SQL, uploadWorld, type UploadWorld } from "../support/upload-fixtures";

const PASSWORD = "correct horse battery";
const OPERATOR_WORDS = /namespace|volume|\bPVC\b|\bJob\b|CronJob|pod\b|bucket|yauzl|sql_[a-z]|\/tmp\//i;

for (const width of [1280, 390]) {
  describe(`uploading a database on the page at ${width} px (real server, engine and PostgreSQL)`, function () {
    this.timeout(300_000);
    const shop = `erin-shop-${width === 390 ? "p" : "d"}`;
    let h: Harness;
    let pg: PostgresServer;
    let world: UploadWorld;
    let work: string;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];

    before(async () => {
      pg = await startPostgres();
      work = fs.mkdtempSync(path.join(os.tmpdir(), "upload-page-"));
      world = await uploadWorld(pg, work, "18.0");
      const cluster = new ObservedCluster();
      cluster.ready.add(shop);
      // The instance's backups, as backups-page.test.ts has them (a folder in the PVC store's layout).
      const backups = new StoreBackupAccess({ openStore: (tenant) => new PvcBackupStore(path.join(work, "backups"), tenant), start: async () => ({ reference: "not-used" }) });
      await new PvcBackupStore(path.join(work, "backups"), shop).put(formatBackupName(shop, new Date(Date.UTC(2026, 11, 1, 2)), "scheduled"), Readable.from([Buffer.alloc(48_000)]));
      h = await Harness.start({ modes: ["jwks"], tenantLimit: 2, cluster, backups, uploads: world.restorer });
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width, height: 900 } });
      page = await context.newPage();
      page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
      page.on("response", (res) => { if (res.status() >= 500) problems.push(`${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`); });
      // The browser logs every 4xx answer: the upload's refusals here (422, and 409 for an instance in use) are expected.
      page.on("console", (msg) => { if (msg.type() === "error" && !/\b(422|409)\b|Unprocessable|Conflict/.test(msg.text())) problems.push(`console: ${msg.text()}`); });
    });
    after(async () => {
      await browser?.close();
      await h?.close();
      await pg?.stop();
      if (work) fs.rmSync(work, { recursive: true, force: true });
      expect(problems).to.deep.equal([]);
    });

    const state = () => page.locator("#upload-state");

    it("shows the upload form with the plan's limit and the instance's Odoo version", async () => {
      await page.goto(h.url);
      await page.getByRole("tab", { name: "Create account" }).click();
      await page.getByLabel("E-mail").fill(`erin-${width}@example.com`);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "New instance" }).waitFor();
      await page.getByLabel("Name").fill(shop);
      await page.getByRole("button", { name: "Create instance" }).click();
      await page.locator(`li[data-tenant="${shop}"] .badge`).getByText("Ready").waitFor({ timeout: 90_000 });
      world.freshInstance(shop);

      await page.getByRole("button", { name: `Backups of ${shop}` }).click();
      const section = page.locator("#upload");
      await section.getByRole("heading", { name: "Upload a database" }).waitFor();
      await section.getByText("Odoo 18.0 backups only, at most 10.7 GB.").waitFor();
      expect(await section.getByLabel("Backup file").getAttribute("accept")).to.equal(".zip,application/zip");
      expect(await page.locator("#upload-progress").isVisible()).to.equal(false);
      await checkView(page, "upload-1-form");
    });

    it("refuses a file over the plan's limit before sending a byte, saying the limit", async () => {
      // Sparse: 11 GB to the browser, nothing on disk, and never read (the page compares sizes).
      const huge = path.join(work, "huge-backup.zip");
      fs.closeSync(fs.openSync(huge, "w"));
      fs.truncateSync(huge, 11e9);
      await page.setInputFiles("#upload-file", huge);
      await page.getByRole("button", { name: "Upload and restore" }).click();
      await state().getByText("This backup is too big for your plan: The file is 11 GB, more than your plan allows for an uploaded database (10.7 GB). Nothing was changed.").waitFor();
      expect(h.logLines.some((l) => l.includes("/uploads") && l.includes('"POST"'))).to.equal(false);
    });

    it("refuses a dump with a shell command, in customer words, and leaves the database as it was", async () => {
      const before = pg.sql(shop, FRESH_FINGERPRINT_SQL);
      await page.setInputFiles("#upload-file", world.shellZip);
      await page.getByRole("button", { name: "Upload and restore" }).click();
      await state().getByText(/^This file was refused to keep your instance safe: The database dump holds commands for a database tool; an Odoo backup holds plain SQL only\. Nothing was changed\./).waitFor();
      // Customer words in front; the server's exact reason only behind the upload's reference.
      expect(await state().innerText()).to.not.match(/psql|restore server/);
      expect(await state().innerText()).to.not.match(OPERATOR_WORDS);
      await state().getByText(/^Details for support/).click();
      await state().locator("code").getByText(/line 4 of dump\.sql contains the psql command/i).waitFor();
      await state().getByText(/^Details for support/).click();
      expect(pg.sql(shop, FRESH_FINGERPRINT_SQL)).to.equal(before);
      expect(fs.existsSync(path.join(work, "shell-ran"))).to.equal(false);
      expect(await page.getByRole("button", { name: "Upload and restore" }).isEnabled()).to.equal(true);
      await checkView(page, "upload-2-refused");
    });

    it("uploads with a progress bar, follows the restore, and says when the database is restored", async () => {
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      // About 4 s for the zip: long enough to see the browser's upload progress.
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 400 * 1024 });
      await page.setInputFiles("#upload-file", world.odooZip);
      await page.getByRole("button", { name: "Upload and restore" }).click();
      await state().getByText(/^Uploading… \d+(\.\d)? (kB|MB) of 1\.\d MB$/).waitFor();
      const bar = page.locator("#upload-progress");
      await page.waitForFunction("(() => { const v = document.getElementById('upload-progress').value; return v > 0 && v < 100; })()");
      expect(await bar.isVisible()).to.equal(true);
      expect(await page.getByRole("button", { name: "Upload and restore" }).isDisabled()).to.equal(true);
      await checkView(page, "upload-3-progress", { keyboard: false });
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await state().getByText("Your database is restored. Open Odoo and sign in with this instance's administrator login.").waitFor({ timeout: 60_000 });
      expect(await bar.isVisible()).to.equal(false);
      expect(fingerprint(pg, shop)).to.equal(world.sourceFingerprint);
      expect(filestoreDigest(world.filestoreOf(shop))).to.deep.equal(world.sourceFiles);
      await checkView(page, "upload-4-restored");
    });

    it("refuses a second database once the instance is in use, and keeps the restored one", async () => {
      await page.setInputFiles("#upload-file", world.odooZip);
      await page.getByRole("button", { name: "Upload and restore" }).click();
      await state().getByText(/^Your instance is already in use: A database can only be uploaded to a new or empty instance, and this one is in use \(.*\); nothing was changed\.$/).waitFor({ timeout: 60_000 });
      expect(fingerprint(pg, shop)).to.equal(world.sourceFingerprint);
    });
  });
}
