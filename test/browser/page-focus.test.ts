/**
 * Issue 22, round two of the customer page, in Chromium at 1280 and 390 px against the real
 * signup server and engine (stand-in program, Auth and cluster readings, as signup-page.test.ts):
 * a keyboard-only walk through the main flow that keeps focus across the 10 s refresh, Create
 * and Delete moving focus to the progress panel, dialogs giving focus back, Back returning to the
 * previous view, a double-clicked Pause sending one request with buttons that keep their place,
 * errors next to what caused them, and a progress panel that says what really happens.
 */
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ARTIFACTS, launchChromium } from "../support/browser";
import { EmptyClusterAdmin, ObservedCluster } from "../support/observed-cluster";
import { checkView } from "../support/page-checks";
import { byId, byLabel, expectFocusedInView, focused, signUp, storedAccessToken, tabTo } from "../support/page-walk";
import { Harness } from "../support/signup-harness";

const PASSWORD = "correct horse battery";

for (const width of [1280, 390]) {
  describe(`customer page, round two: focus, buttons and progress at ${width} px (real server and engine)`, function () {
    this.timeout(600_000);
    const w = width === 390 ? "p" : "d";
    const shop = `kim-shop-${w}`;
    const pause = `kim-pause-${w}`;
    const slow = `kim-slow-${w}`;
    const steps = `kim-steps-${w}`;
    let h: Harness;
    let cluster: ObservedCluster;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];
    const requests: string[] = [];

    const card = (id: string) => page.locator(`li[data-tenant="${id}"]`);

    before(async () => {
      cluster = new ObservedCluster();
      h = await Harness.start({ modes: ["jwks"], delayMs: 1_500, tenantLimit: 3, cluster, admin: new EmptyClusterAdmin() });
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width, height: width === 390 ? 844 : 800 } });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: h.url });
      page = await context.newPage();
      page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
      page.on("request", (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    });

    afterEach(async function () {
      if (this.currentTest?.state === "failed") await page.screenshot({ path: `${ARTIFACTS}/failed-r2-${width}-${(this.currentTest.title).slice(0, 40).replace(/\W+/g, "-")}.png`, fullPage: true });
    });

    after(async () => {
      await browser?.close();
      await h?.close();
    });

    it("keyboard only: create moves focus to the progress panel in view; a refresh keeps focus on \"Backups of …\"", async () => {
      await page.goto(h.url);
      await signUp(page, `kim-${w}@example.com`, PASSWORD);
      await tabTo(page, byId("tenant-id"), "the Name field");
      await page.keyboard.type(shop);
      await page.locator("#tenant-id-error").getByText(`${shop}.odoo-saas.test is available.`).waitFor();
      cluster.ready.add(shop);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: `Creating ${shop}` }).waitFor();
      await expectFocusedInView(page, "progress-title", "progress");
      await page.getByRole("heading", { name: `${shop} is ready` }).waitFor({ timeout: 90_000 });
      expect(await page.evaluate<string>("document.getElementById('progress-meter').style.width")).to.equal("100%");
      await tabTo(page, byLabel(`Backups of ${shop}`), `Backups of ${shop}`);
      // The list is re-read every 10 s: wait for one re-read with focus on the button.
      const reads = requests.filter((r) => r === "GET /api/tenants").length;
      const deadline = Date.now() + 15_000;
      while (requests.filter((r) => r === "GET /api/tenants").length === reads && Date.now() < deadline) await page.waitForTimeout(250);
      expect(requests.filter((r) => r === "GET /api/tenants").length, "no refresh happened").to.be.above(reads);
      await page.waitForTimeout(500);
      expect((await focused(page)).label).to.equal(`Backups of ${shop}`);
    });

    it("keyboard only: Backups is a view of its own; Back returns to the list with focus on its button", async () => {
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: `Backups of ${shop}` }).waitFor();
      expect(new URL(page.url()).hash).to.equal(`#/backups/${shop}`);
      expect((await focused(page)).id).to.equal("backups-title");
      await page.goBack();
      await page.locator("#backups").waitFor({ state: "hidden" });
      expect(new URL(page.url()).hash).to.equal("#/instances");
      expect((await focused(page)).label).to.equal(`Backups of ${shop}`);
      await page.goForward();
      await page.getByRole("heading", { name: `Backups of ${shop}` }).waitFor();
      await page.getByRole("button", { name: "Close" }).click();
      await page.locator("#backups").waitFor({ state: "hidden" });
    });

    it("keyboard only: Credentials shows the password on one line with Copy -> Copied; Escape gives focus back", async () => {
      await tabTo(page, byLabel(`Credentials of ${shop}`), `Credentials of ${shop}`, { back: true });
      await page.keyboard.press("Enter");
      const dialog = page.getByRole("dialog", { name: `Administrator of ${shop}` });
      await dialog.waitFor();
      const lines = await page.evaluate<number>("(() => { const r = document.createRange(); r.selectNodeContents(document.getElementById('credentials-password')); return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size; })()");
      expect(lines, "the password wraps").to.equal(1);
      await checkView(page, "r2-credentials");
      await tabTo(page, byId("credentials-copy"), "Copy");
      await page.keyboard.press("Enter");
      await dialog.getByRole("button", { name: "Copy the password" }).getByText("Copied").waitFor();
      expect(await page.evaluate<string>("navigator.clipboard.readText()")).to.equal(await page.locator("#credentials-password").textContent());
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      expect((await focused(page)).label).to.equal(`Credentials of ${shop}`);
    });

    it("keyboard only: Delete moves focus to the panel in view, which says how long data is kept and how to free the name", async () => {
      await tabTo(page, byLabel(`Delete ${shop}`), `Delete ${shop}`);
      await page.keyboard.press("Enter");
      await page.getByRole("dialog", { name: `Delete ${shop}?` }).waitFor();
      await page.keyboard.type(shop);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: `Deleting ${shop}` }).waitFor();
      await expectFocusedInView(page, "progress-title", "progress");
      await page.getByRole("heading", { name: `${shop} is deleted` }).waitFor({ timeout: 60_000 });
      const status = (await page.locator("#progress-status").textContent()) ?? "";
      expect(status).to.contain("kept until you ask us to remove them; nothing is removed on its own");
      expect(status).to.contain("to use it again, contact us and ask us to remove the kept data permanently");
      // No banner says "being deleted" next to a panel that says "Deleted".
      expect(await page.getByText(/being deleted/).count()).to.equal(0);
      expect((await focused(page)).id).to.equal("progress-title");
      await checkView(page, "r2-deleted");
    });

    it("a double-clicked Pause sends one request; the buttons keep their place; an error shows in its card, in customer words", async () => {
      cluster.ready.add(pause);
      await page.getByLabel("Name").fill(pause);
      await page.getByRole("button", { name: "Create instance" }).click();
      await card(pause).locator(".badge").getByText("Ready").waitFor({ timeout: 90_000 });
      // Where Delete is on the page (not on the screen: the page may scroll).
      const where = (): Promise<{ x: number; y: number }> => page.evaluate<{ x: number; y: number }>(
        `(() => { const r = document.querySelector('button[aria-label="Delete ${pause}"]').getBoundingClientRect(); return { x: r.left + scrollX, y: r.top + scrollY }; })()`);
      const before = await where();
      const sent = requests.length;
      cluster.ready.delete(pause); // scaled to zero: no pod
      await page.getByRole("button", { name: `Pause ${pause}` }).dblclick();
      await card(pause).locator(".badge").getByText("Paused").waitFor({ timeout: 60_000 });
      expect(requests.slice(sent).filter((r) => r === `POST /api/tenants/${pause}/suspend`)).to.have.length(1);
      expect(await where(), "Delete moved").to.deep.equal(before);
      // Resumed elsewhere (another tab): this page's Resume is refused; the card says so, in customer words.
      const token = await storedAccessToken(page);
      expect((await h.request("POST", `/api/tenants/${pause}/resume`, { token })).status).to.equal(202);
      await page.getByRole("button", { name: `Resume ${pause}` }).click();
      await card(pause).locator(".card-error").getByText("This instance is not paused, so there is nothing to resume.").waitFor();
      expect(await page.locator("body").innerText()).to.not.match(/is not suspended|already suspended/);
      await checkView(page, "r2-card-error", { keyboard: false });
    });

    it("the bar follows the steps done, and steps are listed in their order whatever order they finish in", async () => {
      // The stand-in program has one step; a real create has six, finishing in parallel. Their
      // customer events (customer-progress.ts), in an order the engine may report them, replace
      // this one create's stream; the create itself is the server's.
      const step = (key: string, label: string, status: string) => ({ type: "step", step: key, label, status });
      const events = [{ type: "queued" }, { type: "started" },
        step("security", "Securing your instance", "started"), step("space", "Reserving space for your instance", "started"),
        step("security", "Securing your instance", "finished"), step("database", "Preparing your database", "started"),
        step("space", "Reserving space for your instance", "finished"), step("odoo", "Starting Odoo", "started"),
        step("address", "Publishing your address", "started"), step("database", "Preparing your database", "finished"),
        step("address", "Publishing your address", "finished"), step("backups", "Scheduling backups", "started"),
        step("backups", "Scheduling backups", "finished")];
      await page.route("**/api/operations/*/events", (route) => route.fulfill({
        status: 200, headers: { "Content-Type": "text/event-stream" }, body: events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(""),
      }));
      await page.evaluate("(() => { window.__widths = []; const m = document.getElementById('progress-meter'); new MutationObserver((records) => { for (const r of records) window.__widths.push((/width:\\s*([0-9.]+%)/.exec(r.oldValue || '') || [])[1] || ''); window.__widths.push(m.style.width); }).observe(m, { attributes: true, attributeOldValue: true, attributeFilter: ['style'] }); })()");
      try {
        await page.getByLabel("Name").fill(steps);
        await page.getByRole("button", { name: "Create instance" }).click();
        await page.locator("#progress-log li[data-step]").nth(5).waitFor();
      } finally {
        await page.unroute("**/api/operations/*/events");
      }
      const order = await page.evaluate<string[]>("[...document.querySelectorAll('#progress-log li[data-step]')].map((li) => li.dataset.step)");
      expect(order).to.deep.equal(["space", "security", "database", "odoo", "address", "backups"]);
      const widths = (await page.evaluate<string[]>("window.__widths")).map((x) => parseFloat(x));
      // 10% once started, then 75% shared by the six steps: 5 of 6 done is 73%, not a jump at the end.
      expect(widths.filter((x) => x >= 10 && x <= 85), `widths seen: ${widths.join(", ")}`).to.include.members([23, 35, 48, 60, 73]);
      expect(await page.locator("#progress-log li.ok").count()).to.equal(5);
    });

    it("a reload in the middle of a create shows its progress panel again", async () => {
      await page.getByLabel("Name").fill(slow);
      await page.getByRole("button", { name: "Create instance" }).click();
      await page.getByRole("heading", { name: `Creating ${slow}` }).waitFor();
      await page.reload();
      await page.getByRole("heading", { name: `Creating ${slow}` }).waitFor({ timeout: 20_000 });
      expect(await page.locator("#progress").isVisible()).to.equal(true);
      await page.locator("#progress-status").getByText(/Starting Odoo|Ready|creating your instance/).waitFor({ timeout: 90_000 });
      expect(problems).to.deep.equal([]);
    });
  });
}
