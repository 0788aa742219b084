/**
 * The customer's page in Debian's Chromium (playwright-core), at 1280 px and at 390 px (a
 * phone), against the real signup server and the real Pulumi engine. Stand-ins: the STAND-IN
 * program (instead of odooSaasProgram: it fails and slows down on demand, so every status
 * transition can be shown; the real program's signup is in test/api/real-program.test.ts),
 * the Supabase Auth STAND-IN (real ES256 JWTs, verified by the server via its JWKS), and an
 * ObservedCluster whose Odoo readiness the test sets (the real reader is tested in
 * test/api/status.test.ts). Every view is checked for sideways scrolling, axe-core
 * violations and keyboard reach, and screenshotted to test-artifacts/ (git-ignored).
 */
import { expect } from "chai";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { CUSTOMER_ERROR_MESSAGES } from "../../automation/customer-messages";
import { ARTIFACTS, launchChromium } from "../support/browser";
import { EmptyClusterAdmin, ObservedCluster } from "../support/observed-cluster";
import { checkView } from "../support/page-checks";
import { Harness } from "../support/signup-harness";

const PASSWORD = "correct horse battery";
/** Words of the operator's trade that must never reach a customer's screen. */
const OPERATOR_WORDS = /namespace|volume|secret|self-service stack|tenant:purge|platform update #|stack update|Odoo pod|operator has been notified|fails on purpose|Mi memory|Gi database|-odoo\b/i;

for (const width of [1280, 390]) {
  describe(`customer page at ${width} px (real server and engine; stand-in program, Auth and cluster readings)`, function () {
    this.timeout(600_000);
    let h: Harness;
    let cluster: ObservedCluster;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];
    const openStreams = new Set<Request>();
    const w = width === 390 ? "p" : "d";
    const email = `carol-${w}@example.com`;
    const shop = `carols-shop-${w}`;
    const broken = `carols-fail-${w}`;

    const row = (id: string) => page.locator(`li[data-tenant="${id}"]`);
    const badge = (id: string) => row(id).locator(".badge");
    async function expectNoOperatorWords(): Promise<void> {
      const text = await page.locator("body").innerText();
      expect(text).to.not.match(OPERATOR_WORDS);
    }

    before(async () => {
      cluster = new ObservedCluster();
      // A slower stand-in create shows progress; one instance per account shows the limit.
      h = await Harness.start({ modes: ["jwks"], delayMs: 1_500, tenantLimit: 1, cluster, admin: new EmptyClusterAdmin() });
      h.auth.admins.add(`ops-${w}@example.com`);
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width, height: 900 } });
      page = await context.newPage();
      page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
      page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
      page.on("request", (r) => { if (r.url().endsWith("/events")) openStreams.add(r); });
      page.on("requestfinished", (r) => openStreams.delete(r));
      page.on("requestfailed", (r) => openStreams.delete(r));
    });

    afterEach(async function () {
      // What the page showed when a step failed, to look at.
      if (this.currentTest?.state === "failed") await page.screenshot({ path: `${ARTIFACTS}/failed-${width}-${(this.currentTest.title).slice(0, 40).replace(/\W+/g, "-")}.png`, fullPage: true });
    });

    after(async () => {
      await browser?.close();
      await h?.close();
    });

    it("lands on Sign in, served with its own ES modules (no CDN)", async () => {
      await page.goto(h.url);
      await page.getByRole("heading", { name: "Your own Odoo, ready in minutes" }).waitFor();
      expect(await page.getByRole("tab", { name: "Sign in" }).getAttribute("aria-selected")).to.equal("true");
      const scripts = await page.evaluate<Array<{ src: string; type: string }>>("[...document.scripts].map((e) => ({ src: e.src, type: e.type }))");
      for (const { src } of scripts) expect(new URL(src).origin).to.equal(h.url);
      expect(scripts.some((s) => s.type === "module" && s.src.endsWith("/js/main.js"))).to.equal(true);
      // The tabs work as ARIA's tabs pattern: arrow keys move between them.
      await page.getByRole("tab", { name: "Sign in" }).focus();
      await page.keyboard.press("ArrowRight");
      expect(await page.getByRole("tab", { name: "Create account" }).getAttribute("aria-selected")).to.equal("true");
      expect(await page.evaluate<string>("document.activeElement.id")).to.equal("tab-signup");
      await page.keyboard.press("ArrowLeft");
      expect(await page.getByRole("tab", { name: "Sign in" }).getAttribute("aria-selected")).to.equal("true");
      await checkView(page, "1-sign-in");
    });

    it("sends a password reset through supabase-js", async () => {
      await page.getByRole("button", { name: "Forgot password?" }).click();
      await page.getByRole("heading", { name: "Reset your password" }).waitFor();
      // Only the e-mail is asked for: the Password field is hidden (no CSS rule beats `hidden`).
      expect(await page.locator("#password-field").isHidden()).to.equal(true);
      await page.getByLabel("E-mail").fill(email);
      await checkView(page, "2-reset-password");
      await page.getByRole("button", { name: "Send reset link" }).click();
      await page.getByText(`If ${email} has an account, an e-mail with a reset link is on its way.`).waitFor();
      expect(h.auth.recoveries).to.deep.equal([email]);
      expect(await page.getByRole("tab", { name: "Sign in" }).getAttribute("aria-selected")).to.equal("true");
      // The banner goes once the person does something else.
      await page.getByRole("tab", { name: "Create account" }).click();
      expect(await page.locator("#flash").isHidden()).to.equal(true);
    });

    it("creates an account and shows plans in customer words", async () => {
      await page.getByLabel("E-mail").fill(email);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "New instance" }).waitFor();
      expect(await page.locator("#who").textContent()).to.equal(email);
      const plans = await page.locator(".plan-card").allInnerTexts();
      expect(plans.map((p) => p.replace(/\s+/g, " ").trim())).to.deep.equal([
        "Starter For getting started and small teams. 1 CPU, 1.6 GB memory · 10.7 GB storage · daily backups, 5 more on request a day",
        "Business For teams using Odoo all day. 2 CPU, 3.2 GB memory · 42.9 GB storage · daily backups, 5 more on request a day",
      ]);
      await expectNoOperatorWords();
      await checkView(page, "3-empty");
    });

    it("validates the name inline with the schema's rules and the taken ids", async () => {
      const name = page.getByLabel("Name");
      await name.fill("Bad_Id");
      await page.locator("#tenant-id-error").getByText("Use lower-case letters").waitFor();
      expect(await name.getAttribute("aria-invalid")).to.equal("true");
      await name.fill("acme");
      await page.locator("#tenant-id-error").getByText('"acme" is already taken; choose another name.').waitFor();
      await name.fill(broken);
      await page.locator("#tenant-id-error").getByText(`${broken}.odoo-saas.test is available.`).waitFor();
      expect(await name.getAttribute("aria-invalid")).to.equal("false");
    });

    it("a failed create: the fixed message, a reference, Try again (creating -> failed)", async () => {
      await page.getByRole("button", { name: "Create instance" }).click();
      await page.getByRole("heading", { name: `Creating ${broken}` }).waitFor();
      expect(await badge(broken).textContent()).to.equal("Creating");
      await page.locator("#progress-status").getByText(CUSTOMER_ERROR_MESSAGES[0] as string).waitFor({ timeout: 60_000 });
      const reference = (await page.locator("#progress-reference").textContent()) ?? "";
      expect(reference).to.match(/^Reference: op_[A-Za-z0-9_-]+\. Quote it if you contact us\.$/);
      await badge(broken).getByText("Failed").waitFor();
      expect(await row(broken).locator(".reference").textContent()).to.equal(`Reference: ${reference.split(" ")[1]?.replace(/\.$/, "")}`);
      await expectNoOperatorWords();
      await checkView(page, "4-failed");
      // Try again sends the same request; the stand-in fails this id every time, with a new reference.
      await page.locator("#progress-actions").getByRole("button", { name: `Try again to create ${broken}` }).click();
      await page.getByRole("heading", { name: `Creating ${broken}` }).waitFor();
      await page.locator("#progress-reference").filter({ hasNotText: reference }).getByText("Reference: op_").waitFor({ timeout: 60_000 });
      await badge(broken).getByText("Failed").waitFor();
    });

    it("creates an instance: creating -> starting (never Done before Odoo answers) -> ready, Open Odoo", async () => {
      await page.getByLabel("Name").fill(shop);
      await page.getByText("Business", { exact: true }).click();
      await page.getByRole("button", { name: "Create instance" }).click();
      await page.getByRole("heading", { name: `Creating ${shop}` }).waitFor();
      await page.locator("#progress-log").getByText("Starting Odoo…").waitFor({ timeout: 60_000 });
      await checkView(page, "5-progress", { keyboard: false });
      await page.locator("#progress-log").getByText("✓ Starting Odoo").waitFor({ timeout: 60_000 });
      await page.locator("#progress-status").getByText("Starting Odoo… It is ready once it answers.").waitFor({ timeout: 60_000 });
      await badge(shop).getByText("Starting").waitFor();
      // Applied, but Odoo has not answered: no "ready", no "done", no Open Odoo.
      await page.waitForTimeout(2_000);
      expect(await page.locator("#progress-status").textContent()).to.equal("Starting Odoo… It is ready once it answers.");
      expect(await page.getByText(/\bdone\b|ready:/i).count()).to.equal(0);
      expect(await page.getByRole("link", { name: `Open Odoo ${shop}` }).count()).to.equal(0);
      await expectNoOperatorWords();
      await checkView(page, "6-starting");
      cluster.ready.add(shop);
      await page.locator("#progress-status").getByText("Ready: your Odoo is answering.").waitFor({ timeout: 30_000 });
      await badge(shop).getByText("Ready").waitFor();
      for (const link of await page.getByRole("link", { name: `Open Odoo ${shop}` }).all()) {
        expect(await link.getAttribute("href")).to.equal(`http://${shop}.odoo-saas.test`);
      }
      expect(await page.getByRole("link", { name: `Open Odoo ${shop}` }).count()).to.equal(2);
      await checkView(page, "7-ready");
    });

    it("at the instance limit says so instead of offering the form (no green 'available')", async () => {
      const note = page.locator("#limit-note");
      await note.getByText("You have 1 instance, the most one account can have. Delete one to create another.").waitFor();
      expect(await page.locator("#create-form").isHidden()).to.equal(true);
      expect(await page.getByText("is available").count()).to.equal(0);
    });

    it("shows the credentials in a dialog that wraps long values on a phone", async () => {
      await page.getByRole("button", { name: `Credentials of ${shop}` }).click();
      const dialog = page.getByRole("dialog", { name: `Administrator of ${shop}` });
      await dialog.waitFor();
      expect(await dialog.locator("#credentials-login").textContent()).to.equal(email);
      expect(await dialog.locator("#credentials-password").textContent()).to.match(/^[A-Za-z0-9_-]{24}$/);
      const fits = await page.evaluate<boolean>("[...document.querySelectorAll('#credentials-dialog *')].every((e) => e.clientWidth === 0 || e.scrollWidth <= e.clientWidth + 1)");
      expect(fits, "a value overflows the dialog").to.equal(true);
      await checkView(page, "8-credentials");
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
    });

    it("pauses and resumes: ready -> suspended -> starting -> ready", async () => {
      cluster.ready.delete(shop); // scaled to zero: no pod
      await page.getByRole("button", { name: `Pause ${shop}` }).click();
      await page.getByRole("heading", { name: `Pausing ${shop}` }).waitFor();
      await page.locator("#progress-status").getByText("Paused. Your data is kept; resume it at any time.").waitFor({ timeout: 60_000 });
      await badge(shop).getByText("Paused").waitFor();
      await checkView(page, "9-paused");
      await page.getByRole("button", { name: `Resume ${shop}` }).click();
      await page.locator("#progress-status").getByText("Starting Odoo… It is ready once it answers.").waitFor({ timeout: 60_000 });
      await badge(shop).getByText("Starting").waitFor();
      cluster.ready.add(shop);
      await page.locator("#progress-status").getByText("Ready: your Odoo is answering.").waitFor({ timeout: 30_000 });
      await badge(shop).getByText("Ready").waitFor();
    });

    it("says unknown, with a reason, when the instance cannot be checked", async () => {
      cluster.unreachable = "connection refused";
      await page.getByRole("button", { name: "Refresh" }).click();
      await badge(shop).getByText("Unknown").waitFor();
      expect(await row(shop).locator(".status-reason").textContent()).to.equal("We cannot check on your instance right now.");
      await expectNoOperatorWords();
      cluster.unreachable = undefined;
      await page.getByRole("button", { name: "Refresh" }).click();
      await badge(shop).getByText("Ready").waitFor();
    });

    it("deletes by keyboard only after the name is typed: deleting -> deleted; the name stays with its data", async () => {
      await page.getByRole("button", { name: `Delete ${shop}` }).focus();
      await page.keyboard.press("Enter");
      const dialog = page.getByRole("dialog", { name: `Delete ${shop}?` });
      await dialog.waitFor();
      const confirm = dialog.getByRole("button", { name: "Delete instance" });
      await page.keyboard.type("carols");
      expect(await confirm.isDisabled()).to.equal(true);
      await checkView(page, "10-confirm-delete");
      await dialog.getByLabel(`Type ${shop} to confirm`).fill("");
      await dialog.getByLabel(`Type ${shop} to confirm`).focus();
      await page.keyboard.type(shop);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: `Deleting ${shop}` }).waitFor();
      await page.locator("#progress-status").getByText("Deleted. Its database, files and backups are kept until you ask us to remove them").waitFor({ timeout: 60_000 });
      await page.getByRole("heading", { name: `${shop} is deleted` }).waitFor();
      await row(shop).waitFor({ state: "detached" });
      expect(h.journal()).to.include(`deleted ${shop}`);
      await page.getByLabel("Name").fill(shop);
      await page.locator("#tenant-id-error").getByText(`You deleted "${shop}"; its data is kept until it is permanently removed`).waitFor();
      await expectNoOperatorWords();
      await checkView(page, "11-deleted");
    });

    it("signs out and leaves nothing of this customer for the next person: DOM, storage, event streams", async () => {
      // Mid-operation, with a name typed: the worst case on a shared computer.
      await page.getByLabel("Name").fill(`${shop}-two`);
      await page.getByRole("button", { name: "Create instance" }).click();
      await page.getByRole("heading", { name: `Creating ${shop}-two` }).waitFor();
      // At the limit now, so the name field is gone: type into the delete confirmation instead.
      await page.getByRole("button", { name: `Delete ${broken}` }).click();
      await page.getByLabel(`Type ${broken} to confirm`).fill("typed-by-carol");
      await page.keyboard.press("Escape");
      expect(openStreams.size).to.be.above(0);
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Your own Odoo, ready in minutes" }).waitFor();
      await page.waitForTimeout(300);
      expect(openStreams.size, "event streams left open").to.equal(0);
      expect(await page.getByRole("tab", { name: "Sign in" }).getAttribute("aria-selected")).to.equal("true");
      const next = `dan-${w}@example.com`;
      await page.getByRole("tab", { name: "Create account" }).click();
      await page.getByLabel("E-mail").fill(next);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByText("No instances yet.").waitFor();
      expect(await page.locator("#who").textContent()).to.equal(next);
      const traces = [email, shop, broken, "typed-by-carol", "op_"];
      const html = await page.content();
      const values = await page.evaluate<string>("[...document.querySelectorAll('input')].map((i) => i.value).join(' ')");
      const storage = await page.evaluate<string>("JSON.stringify({ ...window.localStorage }) + JSON.stringify({ ...window.sessionStorage })");
      for (const trace of traces) {
        expect(html, `DOM holds ${trace}`).to.not.contain(trace);
        expect(values, `a field holds ${trace}`).to.not.contain(trace);
        expect(storage, `storage holds ${trace}`).to.not.contain(trace);
      }
      expect(await page.locator("#progress").isHidden()).to.equal(true);
      expect(openStreams.size).to.equal(0);
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Your own Odoo, ready in minutes" }).waitFor();
    });

    it("shows an administrator the customers' instances by owner e-mail, deleted ones under their filter, and an own list of their own", async () => {
      const admin = `ops-${w}@example.com`;
      await page.getByRole("tab", { name: "Create account" }).click();
      await page.getByLabel("E-mail").fill(admin);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "All tenants (administrators)" }).waitFor();
      await page.locator(`#admin-rows tr[data-tenant="${shop}"]`).waitFor();
      await page.getByText("No instances yet.").waitFor();
      const cells = async (id: string): Promise<string[]> => page.evaluate<string[]>(
        `[...document.querySelectorAll('#admin-rows tr[data-tenant="${id}"] td')].map((td) => ((td.querySelector(".badge, .tenant-id") || td).textContent || ""))`);
      expect((await cells(shop)).slice(0, 4)).to.deep.equal([shop, email, "business", "deleted"]);
      expect((await cells(broken)).slice(0, 4)).to.deep.equal([broken, email, "starter", "failed"]);
      // The administrator reads the raw reason and the reference to look up.
      expect(await page.locator(`#admin-rows tr[data-tenant="${broken}"] td:nth-child(4) .status-reason`).textContent()).to.contain("fails on purpose");
      expect(await page.locator(`#admin-rows tr[data-tenant="${broken}"] .reference`).textContent()).to.match(/^ref op_/);
      await page.getByLabel("Status").selectOption("deleted");
      expect(await page.locator("#admin-rows tr").count()).to.equal(1);
      await page.getByLabel("Status").selectOption("");
      expect(await page.locator("#distribution-rule").textContent()).to.equal("No tenant running.");
      await checkView(page, "12-admin");
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Your own Odoo, ready in minutes" }).waitFor();
      expect(await page.locator("#admin-section").isHidden()).to.equal(true);
      expect(await page.content()).to.not.contain(shop);
    });

    it("a returning user lands on Sign in and old banners go away", async () => {
      await page.reload();
      await page.getByRole("heading", { name: "Your own Odoo, ready in minutes" }).waitFor();
      expect(await page.getByRole("tab", { name: "Sign in" }).getAttribute("aria-selected")).to.equal("true");
      expect(await page.locator("#flash").isHidden()).to.equal(true);
      await page.getByLabel("E-mail").fill(email);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "New instance" }).waitFor();
      expect(await page.locator("#flash").isHidden()).to.equal(true);
      expect(problems).to.deep.equal([]);
    });
  });
}
