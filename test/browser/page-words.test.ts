/**
 * Issue 22, round two of the customer page, in Chromium at 1280 and 390 px against the real
 * signup server and engine (stand-in program, Auth and cluster readings): one vocabulary (the
 * auth service's and the API's raw texts never reach the customer; a 401 and a dead refresh token
 * end the session with a message), the password reset end to end through the Auth stand-in's
 * recovery link, backups that keep their promises, the demo notice, one storage figure, and the
 * administrators' table (fits its card, lists the fleet stack's tenants, no owner ids, actions).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { StoreBackupAccess } from "../../automation/backup-access";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { ARTIFACTS, launchChromium } from "../support/browser";
import { EmptyClusterAdmin, ObservedCluster } from "../support/observed-cluster";
import { checkView } from "../support/page-checks";
import { editStoredSession, signIn, signOut, signUp } from "../support/page-walk";
import { Harness } from "../support/signup-harness";

const PASSWORD = "correct horse battery";
/** Texts of the auth service and the API that must never reach a customer as they are. */
const RAW = /Invalid login credentials|User already registered|not valid for this service|already suspended|<name>|invalid JWT/;

for (const width of [1280, 390]) {
  describe(`customer page, round two: words, reset, backups and admin at ${width} px (real server and engine)`, function () {
    this.timeout(600_000);
    const w = width === 390 ? "p" : "d";
    const email = `lee-${w}@example.com`;
    const admin = `ops-lee-${w}@example.com`;
    const shop = `lee-shop-${w}`;
    let h: Harness;
    let browser: Browser;
    let page: Page;
    let pvcDir: string;
    let storeFails = false;
    const started: string[] = [];
    const problems: string[] = [];

    before(async () => {
      const cluster = new ObservedCluster();
      cluster.ready.add(shop);
      pvcDir = fs.mkdtempSync(path.join(os.tmpdir(), "page-words-"));
      const backups = new StoreBackupAccess({
        openStore: (tenant) => {
          if (storeFails) throw new Error("connect ECONNREFUSED (store not reachable)");
          return new PvcBackupStore(pvcDir, tenant);
        },
        start: async (tenant) => { started.push(tenant); return { reference: `ref-${started.length}` }; },
      });
      h = await Harness.start({ modes: ["jwks"], tenantLimit: 2, cluster, admin: new EmptyClusterAdmin(), backups, demo: true });
      h.auth.admins.add(admin);
      browser = await launchChromium();
      page = await (await browser.newContext({ viewport: { width, height: width === 390 ? 844 : 800 } })).newPage();
      page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
    });

    afterEach(async function () {
      if (this.currentTest?.state === "failed") await page.screenshot({ path: `${ARTIFACTS}/failed-words-${width}-${(this.currentTest.title).slice(0, 40).replace(/\W+/g, "-")}.png`, fullPage: true });
    });

    after(async () => {
      await browser?.close();
      await h?.close();
      if (pvcDir) fs.rmSync(pvcDir, { recursive: true, force: true });
    });

    it("says the auth service's refusals in customer words", async () => {
      await page.goto(h.url);
      await signUp(page, email, PASSWORD);
      // What a plan gives, with the one storage figure the upload limit uses too; a visible demo notice.
      expect(await page.locator(".plan-card").first().innerText()).to.contain("1 CPU, 1.6 GB memory · 10.7 GB storage · daily backups, 5 more on request a day");
      expect(await page.locator("#demo-notice").isVisible()).to.equal(true);
      expect(await page.locator("#tenant-id-hint").textContent()).to.match(/^Your address will be your-name\.odoo-saas\.test: /);
      await signOut(page);
      await page.getByRole("tab", { name: "Create account" }).click();
      await page.getByLabel("E-mail").fill(email);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.locator("#auth-error").getByText("An account with this e-mail address exists already. Sign in instead, or reset your password.").waitFor();
      await page.getByRole("tab", { name: "Sign in" }).click();
      await page.getByLabel("E-mail").fill(email);
      await page.getByLabel("Password", { exact: true }).fill("not the password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.locator("#auth-error").getByText("The e-mail address or the password is not right. Try again, or reset your password.").waitFor();
      expect(await page.locator("body").innerText()).to.not.match(RAW);
    });

    it("password reset end to end: the recovery link opens \"Choose a new password\", which supabase-js saves", async () => {
      await page.getByRole("button", { name: "Forgot password?" }).click();
      expect(new URL(page.url()).hash).to.equal("#/reset");
      expect(await page.locator("#password-field").isHidden()).to.equal(true);
      await page.getByLabel("E-mail").fill(email);
      await page.getByRole("button", { name: "Send reset link" }).click();
      await page.getByText(`If ${email} has an account, an e-mail with a reset link is on its way.`).waitFor();
      const link = h.auth.recoveryLinks.get(email) ?? "";
      expect(link).to.match(new RegExp(`^${h.url}/#access_token=.*type=recovery`));
      await page.goto(link);
      await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
      // The tokens leave the address bar.
      expect(new URL(page.url()).hash).to.equal("#/password");
      await checkView(page, "r2-new-password");
      await page.getByLabel("New password", { exact: true }).fill("a brand new secret");
      await page.getByRole("button", { name: "Save new password" }).click();
      await page.getByRole("heading", { name: "New instance" }).waitFor();
      await page.locator("#flash").getByText("Your new password is saved.").waitFor();
      await signOut(page);
      await signIn(page, email, "a brand new secret");
      await signOut(page);
      // A broken or used-up link says so and offers a new one.
      await page.goto(`${h.url}/#access_token=garbage&refresh_token=x&expires_in=3600&token_type=bearer&type=recovery`);
      await page.locator("#flash").getByText("This link has expired or was used already. Ask for a new one.").waitFor();
      await page.getByRole("heading", { name: "Reset your password" }).waitFor();
    });

    it("a token the service refuses (401) signs out with \"Your session has ended\", not the raw reason", async () => {
      await page.goto(`${h.url}/#/signin`);
      await signIn(page, email, "a brand new secret");
      const foreign = await h.auth.sign({ sub: "someone", email, audience: "another-service" });
      await editStoredSession(page, `s.access_token = ${JSON.stringify(foreign)}`);
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.locator("#flash").getByText("Your session has ended; sign in again.").waitFor();
      expect(await page.locator("body").innerText()).to.not.match(RAW);
    });

    it("a dead refresh token signs out with a message instead of silently", async () => {
      await signIn(page, email, "a brand new secret");
      h.auth.revokeRefreshTokens();
      await editStoredSession(page, "s.expires_at = Math.floor(Date.now() / 1000) - 60");
      await page.reload();
      await page.locator("#flash").getByText("Your session has ended; sign in again.").waitFor();
      await page.getByRole("heading", { name: "Your own Odoo, ready in minutes" }).waitFor();
    });

    it("backups: the allowance from the answer; nothing spent when backups cannot be read; why the button waits, with a retry", async () => {
      await signIn(page, email, "a brand new secret");
      await page.getByLabel("Name").fill(shop);
      await page.getByRole("button", { name: "Create instance" }).click();
      await page.getByRole("button", { name: `Backups of ${shop}` }).waitFor({ timeout: 90_000 });
      await page.locator(`li[data-tenant="${shop}"] .badge`).getByText("Ready").waitFor({ timeout: 90_000 });
      await page.getByRole("button", { name: `Backups of ${shop}` }).click();
      const section = page.locator("#backups");
      await section.getByText("0 of 5 backups on request used today").waitFor();
      await page.getByRole("button", { name: "Back up now" }).click();
      await section.getByText("1 of 5 backups on request used today").waitFor();
      expect(started).to.deep.equal([shop]);
      storeFails = true;
      await page.getByRole("button", { name: "Back up now" }).click();
      const error = page.locator("#backups-error");
      await error.getByText("Your backups cannot be reached right now.").waitFor();
      expect(await error.getAttribute("role")).to.equal("alert");
      const reason = page.locator("#backup-now-reason");
      await reason.getByText("Back up now is possible again once your backups can be read.").waitFor();
      expect(await page.getByRole("button", { name: "Back up now" }).getAttribute("aria-disabled")).to.equal("true");
      // Forced: Playwright, like assistive technology, treats it as disabled; a click sends nothing.
      await page.getByRole("button", { name: "Back up now" }).click({ force: true });
      await page.waitForTimeout(300);
      expect(started).to.deep.equal([shop]);
      await checkView(page, "r2-backups-unreadable");
      storeFails = false;
      await error.getByRole("button", { name: "Try again" }).click();
      await error.waitFor({ state: "hidden" });
      // The refused request spent nothing.
      await section.getByText("1 of 5 backups on request used today").waitFor();
      expect(await page.getByRole("button", { name: "Back up now" }).getAttribute("aria-disabled")).to.equal(null);
      await signOut(page);
    });

    it("administrators: the table fits its card, lists the fleet stack's tenants, says when none match, shows no owner id, and can pause", async () => {
      await signUp(page, admin, PASSWORD);
      await page.getByRole("heading", { name: "All tenants (administrators)" }).waitFor();
      await page.locator(`#admin-rows tr[data-tenant="${shop}"]`).waitFor();
      for (const id of ["acme", "globex"]) expect(await page.locator(`#admin-rows tr[data-tenant="${id}"]`).count(), id).to.equal(1);
      expect(await page.locator("#admin-table").innerText()).to.not.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
      if (width >= 1280) {
        const fit = await page.evaluate<{ table: number; box: number }>("({ table: document.getElementById('admin-table').scrollWidth, box: document.querySelector('#admin-section .table-scroll').clientWidth })");
        expect(fit.table, "the table overflows its card").to.be.at.most(fit.box);
      }
      await page.getByLabel("Status").selectOption("creating");
      await page.locator("#admin-rows").getByText('No tenants match "creating".').waitFor();
      await page.getByLabel("Status").selectOption("");
      await checkView(page, "r2-admin");
      await page.getByRole("button", { name: `Pause ${shop} (administrator)` }).click();
      await page.locator(`#admin-rows tr[data-tenant="${shop}"] .badge`).getByText(/suspended|ready/).waitFor();
      const token = await h.auth.sign({ sub: "root", email: admin, admin: true });
      const deadline = Date.now() + 60_000;
      for (;;) {
        const res = await h.request<{ suspended: boolean }>("GET", `/api/tenants/${shop}`, { token });
        if (res.body.suspended) break;
        if (Date.now() > deadline) throw new Error(`${shop} was not paused`);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(problems).to.deep.equal([]);
    });
  });
}
