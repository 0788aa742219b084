/**
 * The owner's "Backups" section in Chromium, at 1280 px and 390 px, against the real signup
 * server and engine (stand-in program and Auth, as signup-page.test.ts). The backups are real
 * files in a folder with the PVC store's layout, read by StoreBackupAccess, and downloaded
 * through the page into Chromium's downloads; a second instance's backups are on S3 (moto),
 * whose pre-signed URL the page navigates to. The one stand-in: "Back up now" records the
 * request instead of creating the Job (no cluster in this suite); the test then writes the
 * finished archive itself, as the Job would.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { expect } from "chai";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { formatBackupName } from "../../backup/backup-name";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { S3BackupStore } from "../../backup/store/s3-store";
import { StoreBackupAccess } from "../../automation/backup-access";
import { launchChromium } from "../support/browser";
import { startMoto, type MotoServer } from "../support/moto";
import { ObservedCluster } from "../support/observed-cluster";
import { checkView } from "../support/page-checks";
import { Harness } from "../support/signup-harness";

const PASSWORD = "correct horse battery";
const OPERATOR_WORDS = /namespace|volume|\bPVC\b|\bJob\b|CronJob|pod\b|bucket|S3|pre-signed/i;

for (const width of [1280, 390]) {
  describe(`owner backups on the page at ${width} px (real server, engine and stores; stand-in backup start)`, function () {
    this.timeout(300_000);
    const w = width === 390 ? "p" : "d";
    const shop = `dana-shop-${w}`;
    const cloud = `dana-cloud-${w}`;
    let h: Harness;
    let moto: MotoServer;
    let s3: S3Client;
    let pvcDir: string;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];
    const started: string[] = [];
    const archive = randomBytes(400_000);
    const older = formatBackupName(shop, new Date(Date.UTC(2026, 10, 20, 2)), "scheduled");
    const newer = formatBackupName(shop, new Date(Date.UTC(2026, 10, 21, 14, 30)), "on-demand");
    const unfinished = formatBackupName(shop, new Date(Date.UTC(2026, 10, 22, 2)), "scheduled");
    const cloudBackup = formatBackupName(cloud, new Date(Date.UTC(2026, 10, 22, 2)), "scheduled");
    const s3Store = (tenant: string) => new S3BackupStore({ client: s3, bucket: "page-backups", prefix: "p", tenant, partSizeBytes: 5 * 1024 * 1024, addressing: { endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true } });

    before(async () => {
      moto = await startMoto();
      s3 = new S3Client({ endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "AKIDPAGE", secretAccessKey: "page-secret" }, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
      await s3.send(new CreateBucketCommand({ Bucket: "page-backups" }));
      pvcDir = fs.mkdtempSync(path.join(os.tmpdir(), "page-backups-"));
      const access = new StoreBackupAccess({
        openStore: (tenant) => (tenant === cloud ? s3Store(tenant) : new PvcBackupStore(pvcDir, tenant)),
        start: async (tenant) => {
          started.push(tenant);
          return { reference: `ref-${started.length}` };
        },
      });
      const cluster = new ObservedCluster();
      cluster.ready.add(shop);
      cluster.ready.add(cloud);
      h = await Harness.start({ modes: ["jwks"], tenantLimit: 2, cluster, backups: access });
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
      page = await context.newPage();
      page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
      page.on("console", (msg) => { if (msg.type() === "error" && !/429|Too Many Requests/.test(msg.text())) problems.push(`console: ${msg.text()}`); });
      const store = new PvcBackupStore(pvcDir, shop);
      await store.put(older, Readable.from([Buffer.from("older")]));
      await store.put(newer, Readable.from([archive]));
      fs.mkdirSync(path.join(pvcDir, shop), { recursive: true });
      fs.writeFileSync(path.join(pvcDir, shop, `${unfinished}.partial`), "half");
      await s3Store(cloud).put(cloudBackup, Readable.from([archive]));
    });
    after(async () => {
      await browser?.close();
      await h?.close();
      s3?.destroy();
      await moto?.stop();
      if (pvcDir) fs.rmSync(pvcDir, { recursive: true, force: true });
      expect(problems).to.deep.equal([]);
    });

    async function createInstance(id: string): Promise<void> {
      await page.getByLabel("Name").fill(id);
      await page.getByRole("button", { name: "Create instance" }).click();
      await page.locator(`li[data-tenant="${id}"] .badge`).getByText("Ready").waitFor({ timeout: 90_000 });
    }

    it("signs up and creates two instances", async () => {
      await page.goto(h.url);
      await page.getByRole("tab", { name: "Create account" }).click();
      await page.getByLabel("E-mail").fill(`dana-${w}@example.com`);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "New instance" }).waitFor();
      await createInstance(shop);
      await createInstance(cloud);
    });

    it("lists an instance's backups newest first, with a download link to the right address for complete ones", async () => {
      await page.getByRole("button", { name: `Backups of ${shop}` }).click();
      const section = page.locator("#backups");
      await section.getByRole("heading", { name: `Backups of ${shop}` }).waitFor();
      await section.locator("li.backup").nth(2).waitFor();
      const names = await section.locator("li.backup").evaluateAll((items) => items.map((i) => (i as unknown as { dataset: { backup: string } }).dataset.backup));
      expect(names).to.deep.equal([unfinished, newer, older]);
      expect(await section.locator(`li[data-backup="${unfinished}"]`).innerText()).to.match(/Automatic · Incomplete/);
      expect(await section.locator(`li[data-backup="${unfinished}"] a`).count()).to.equal(0);
      expect(await section.locator(`li[data-backup="${newer}"]`).innerText()).to.match(/On request · 400 kB/);
      for (const name of [newer, older]) {
        expect(await section.locator(`li[data-backup="${name}"]`).getByRole("link", { name: /^Download the backup of / }).getAttribute("href"))
          .to.equal(`/api/tenants/${shop}/backups/${name}/download`);
      }
      await section.getByText("0 of 5 backups on request used today").waitFor();
      // This platform restores no uploads (no restorer configured): the page offers none.
      await section.locator("#upload").waitFor({ state: "hidden" });
      expect(await section.innerText()).to.not.match(OPERATOR_WORDS);
      await checkView(page, `backups-1-list`);
    });

    it("downloads a backup streamed by the server through a short-lived link: the archive's exact bytes under its name", async () => {
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.locator(`li[data-backup="${newer}"]`).getByRole("link").click(),
      ]);
      expect(download.suggestedFilename()).to.equal(newer);
      expect(fs.readFileSync(await download.path()).equals(archive)).to.equal(true);
      // Saved by the browser from a short-lived link, not read into the page's memory.
      expect(download.url()).to.match(new RegExp(`^${h.url}/api/tenants/${shop}/backups/${newer.replace(/\./g, "\\.")}/download\\?ticket=`));
    });

    it("Back up now: says it was requested, then that it is ready once the archive is there", async () => {
      await page.getByRole("button", { name: "Back up now" }).click();
      const state = page.locator("#backups-state");
      await state.getByText(/^Backup requested at .* It appears in the list when it is complete/).waitFor();
      expect(started).to.deep.equal([shop]);
      await page.getByText("1 of 5 backups on request used today").waitFor();
      await checkView(page, `backups-2-requested`);
      // What the backup Job does when it finishes: the archive appears under its final name.
      const made = formatBackupName(shop, new Date(Date.now() + 1000), "on-demand");
      await new PvcBackupStore(pvcDir, shop).put(made, Readable.from([Buffer.from("new archive")]));
      await state.getByText(/^Your backup of .* is ready to download\.$/).waitFor({ timeout: 20_000 });
      expect(await page.locator(`li[data-backup="${made}"]`).getByRole("link").count()).to.equal(1);
    });

    it("at 5 a day, keeps the button in place but unusable and says why, next to it; the server's refusal is shown as an error", async () => {
      for (let i = 2; i <= 5; i++) {
        await page.getByRole("button", { name: "Back up now" }).click();
        await page.getByText(`${i} of 5 backups on request used today`).waitFor();
      }
      const button = page.getByRole("button", { name: "Back up now" });
      const reason = page.locator("#backup-now-reason");
      await reason.getByText(/^You have used all 5 for today; you can request the next one from 00:00 UTC\.$/).waitFor();
      expect(await button.getAttribute("aria-disabled")).to.equal("true");
      expect(await button.getAttribute("aria-describedby")).to.equal("backup-now-reason");
      // A click on it sends nothing (forced: Playwright, like assistive technology, treats it as disabled).
      await button.click({ force: true });
      await page.waitForTimeout(300);
      expect(started.filter((t) => t === shop)).to.have.length(5);
      await checkView(page, `backups-3-limit`);
      // A page opened before the limit was reached still gets the server's answer (429) in words, styled as an error.
      await page.evaluate("(() => { const b = document.getElementById('backup-now'); b.dataset.blocked = 'false'; b.removeAttribute('aria-disabled'); })()");
      await button.click();
      const error = page.locator("#backups-error");
      await error.getByText(/^You can request 5 backups a day and have used them all; you can request the next one from .* UTC\.$/).waitFor();
      expect(await error.getAttribute("role")).to.equal("alert");
      expect(await page.evaluate<string>("getComputedStyle(document.getElementById('backups-error')).backgroundColor")).to.equal("rgb(253, 231, 231)");
      expect(started.filter((t) => t === shop)).to.have.length(5);
    });

    it("downloads a backup kept on S3 by going to its short-lived address", async () => {
      await page.getByRole("button", { name: `Backups of ${cloud}` }).click();
      const link = page.locator(`li[data-backup="${cloudBackup}"]`).getByRole("link");
      expect(await link.getAttribute("href")).to.equal(`/api/tenants/${cloud}/backups/${cloudBackup}/download`);
      const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
      expect(download.suggestedFilename()).to.equal(cloudBackup);
      expect(fs.readFileSync(await download.path()).equals(archive)).to.equal(true);
      expect(download.url().startsWith(`${moto.endpoint}/page-backups/p/${cloud}/${cloudBackup}?`)).to.equal(true);
      await page.getByRole("heading", { name: `Backups of ${cloud}` }).waitFor();
      await checkView(page, `backups-4-s3`);
    });
  });
}
