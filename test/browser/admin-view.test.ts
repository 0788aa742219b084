/**
 * The administrators' view in Chromium, against the real signup server reading a real local
 * control plane (KWOK nodes). The pull-request tenants are deployed by the real engine and
 * program (as `npm start` does); the self-service tenant goes through the real engine with
 * the stand-in program (its readiness under the test's control), so the
 * cluster truthfully has no pod for it and shows it starting. Checked at 1400 and 390 px.
 */
import * as path from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { waitForPods } from "../../checks/cluster-view";
import { deployStack } from "../../automation/engine/deploy";
import { validConfig } from "../support/fixtures";
import { stackConfigMap, tempEngine } from "../support/engine-stack";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import { ARTIFACTS, launchChromium } from "../support/browser";
import { checkView } from "../support/page-checks";
import { IngressStandin } from "../support/ingress-standin";
import { Harness, FLEET_TENANTS } from "../support/signup-harness";


describe("admin view in Chromium (real server, real local control plane)", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let h: Harness;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const admin = "ops-admin@example.com";
  const ingress = new IngressStandin((id) => id === "acme" || id === "globex");

  before(async () => {
    cluster = startLocalCluster(3);
    // The fleet stack's tenants, deployed by the real engine as `npm start` does.
    const fleet = await deployStack({ stackName: "dev", engine: tempEngine("admin-view"), kubeconfig: cluster.kubeconfig, kc: cluster.kc, config: stackConfigMap(validConfig(FLEET_TENANTS)) });
    if (!fleet.ok) throw new Error(`fleet stack deploy failed: ${fleet.message}`);
    await waitForPods(cluster.kc, (p) => p.length === 4 && p.every((x) => x.ready), 120_000);
    // KWOK pods answer nothing: the ingress stand-in answers for the fleet tenants, so "ready" is
    // reached by the customers' rule (a Ready pod whose address answered), as on a real cluster.
    h = await Harness.start({ modes: ["jwks"], kubeconfig: cluster.kubeconfig, ingressUrl: await ingress.url() });
    h.auth.admins.add(admin);
    // A customer's self-service tenant, through the real engine (stand-in program).
    const token = await h.token("dave");
    const created = await h.request<{ operation: { id: string } }>("POST", "/api/tenants", { token, body: { id: "daves-shop", plan: "starter" } });
    expect(created.status).to.equal(202);
    expect((await h.waitForOperation(token, created.body.operation.id)).status).to.equal("succeeded");
    // And one Dave deleted: the "deleted" filter shows it.
    const old = await h.request<{ operation: { id: string } }>("POST", "/api/tenants", { token, body: { id: "daves-old", plan: "starter" } });
    expect((await h.waitForOperation(token, old.body.operation.id)).status).to.equal("succeeded");
    const removed = await h.request<{ operation: { id: string } }>("DELETE", "/api/tenants/daves-old", { token });
    expect((await h.waitForOperation(token, removed.body.operation.id)).status).to.equal("succeeded");
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
    page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
  });

  after(async () => {
    await browser?.close();
    await h?.close();
    await ingress.close();
    cluster?.down();
  });

  it("is refused to customers (403), who are told they are not administrators", async () => {
    const token = await h.token("dave");
    expect((await h.request("GET", "/api/admin/overview", { token })).status).to.equal(403);
    const me = await h.request<{ isAdmin: boolean }>("GET", "/api/me", { token });
    expect(me.body.isAdmin).to.equal(false);
  });

  it("shows an administrator every tenant with owner (by e-mail), plan, status, node and usage", async () => {
    await page.goto(h.url);
    await page.getByRole("tab", { name: "Create account" }).click();
    await page.getByLabel("E-mail").fill(admin);
    await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "All tenants (administrators)" }).waitFor();
    const rows = page.locator("#admin-rows tr");
    await rows.first().waitFor();
    // The status cell shows its badge and the reason; compare the badge.
    const text = async (id: string): Promise<string[]> => page.evaluate<string[]>(
      `[...document.querySelectorAll('#admin-rows tr[data-tenant="${id}"] td')].map((td) => ((td.querySelector(".badge, .tenant-id") || td).textContent || ""))`);
    const source = (id: string): Promise<string> => page.locator(`#admin-rows tr[data-tenant="${id}"] td:first-child .status-reason`).innerText();
    const acme = await text("acme");
    expect(acme.slice(0, 4)).to.deep.equal(["acme", "admin@acme.example", "starter", "ready"]);
    expect(await source("acme")).to.equal("pull-request");
    expect(acme[4]).to.match(/^kwok-node-\d$/);
    // One size format everywhere (as plan cards and the upload limit): decimal GB, one decimal.
    // KWOK runs no Job: the scheduled backup never succeeded, which the operator sees.
    expect(acme.slice(5)).to.deep.equal(["CPU n/a · 1.5 of 3Memory n/a · 2.1 GB of 4.3 GB", "32.2 GB", "never", ""]);
    const globex = await text("globex");
    expect(globex.slice(0, 4)).to.deep.equal(["globex", "it@globex.example", "business", "ready"]);
    const dave = await text("daves-shop");
    expect(dave.slice(1, 3)).to.deep.equal(["dave@example.com", "starter"]);
    expect(await source("daves-shop")).to.equal("self-service");
    expect(dave[3]).to.equal("starting"); // no pod in the cluster: the stand-in program created none
    // The admin's own list holds the admin's own instances: none.
    await page.getByText("No instances yet.").waitFor();
    expect(await page.locator("#tenant-list li").count()).to.equal(0);
    await page.locator("#admin-cluster").getByText("metrics.k8s.io is not served").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "admin-1-overview.png"), fullPage: true });
  });

  it("shows the node distribution with its rule", async () => {
    expect(await page.locator("#distribution-rule").textContent()).to.equal("Rule: at most 1 tenant per node. Spread is even.");
    const nodes = await page.locator("#distribution-rows tr td:first-child").allTextContents();
    expect(nodes).to.deep.equal(["kwok-node-1", "kwok-node-2", "kwok-node-3"]);
    const counts = await page.locator("#distribution-rows tr td:nth-child(2)").allTextContents();
    expect(counts.map(Number).reduce((a, b) => a + b, 0)).to.equal(2);
  });

  it("filters by status", async () => {
    await page.getByLabel("Status").selectOption("ready");
    await expectIds(page, ["acme", "globex"]);
    await page.getByLabel("Status").selectOption("starting");
    await expectIds(page, ["daves-shop"]);
    await page.getByLabel("Status").selectOption("deleted");
    await expectIds(page, ["daves-old"]);
    await page.getByLabel("Status").selectOption("");
    await expectIds(page, ["acme", "daves-old", "daves-shop", "globex"]);
    expect(problems).to.deep.equal([]);
  });

  for (const width of [1400, 390]) {
    it(`fits ${width} px without sideways scrolling, without axe violations, every control reachable by keyboard`, async () => {
      await page.setViewportSize({ width, height: 1000 });
      await page.locator("#admin-rows tr").first().waitFor();
      if (width >= 1280) {
        // The table fits its card: no scrolling inside it either.
        const fit = await page.evaluate<{ table: number; box: number }>("({ table: document.getElementById('admin-table').scrollWidth, box: document.querySelector('#admin-section .table-scroll').clientWidth })");
        expect(fit.table, "the table overflows its card").to.be.at.most(fit.box);
      }
      await checkView(page, "admin-overview");
    });
  }
});

async function expectIds(page: Page, ids: string[]): Promise<void> {
  const shown = await Promise.all((await page.locator("#admin-rows tr").all()).map(async (tr) => (await tr.getAttribute("data-tenant")) ?? ""));
  expect(shown.sort()).to.deep.equal(ids);
}
