/**
 * The signup page in Debian's Chromium (playwright-core), against the real signup server and
 * the real Pulumi engine. Two stand-ins, both because their Go modules cannot be built on
 * this machine: the STAND-IN program (instead of odooSaasProgram, whose Kubernetes provider
 * is missing) and the Supabase Auth STAND-IN (automation/local-supabase-auth.ts), which
 * answers supabase-js and issues real ES256 JWTs that the server verifies via its JWKS.
 * Screenshots go to test-artifacts/ (git-ignored).
 */
import * as path from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, launchChromium } from "../support/browser";
import { Harness } from "../support/signup-harness";


describe("signup page in Chromium (real server and engine, stand-in program and Supabase Auth stand-in)", function () {
  this.timeout(300_000);
  let h: Harness;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const email = "carol@example.com";

  before(async function () {
    // JWKS only, as a Supabase project with asymmetric keys; a slower stand-in create shows progress.
    h = await Harness.start({ modes: ["jwks"], delayMs: 1_500 });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await h?.close();
  });

  it("shows the sign-in form, served with its own scripts (no CDN)", async () => {
    await page.goto(h.url);
    await page.getByRole("heading", { name: "Your own Odoo, ready in minutes" }).waitFor();
    expect(await page.getByLabel("E-mail").isVisible()).to.equal(true);
    const scripts = await page.locator("script").evaluateAll((els) => els.map((e) => (e as unknown as { src: string }).src));
    for (const src of scripts) expect(new URL(src).origin).to.equal(h.url);
    await page.screenshot({ path: path.join(ARTIFACTS, "signup-1-sign-in.png"), fullPage: true });
  });

  it("creates an account through supabase-js and the Supabase Auth stand-in", async () => {
    await page.getByRole("tab", { name: "Create account" }).click();
    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "New instance" }).waitFor();
    expect(await page.locator("#who").textContent()).to.equal(email);
    expect(h.auth.requests).to.include("POST /auth/v1/signup");
  });

  it("validates the name inline with the schema's rules and the taken ids", async () => {
    const name = page.getByLabel("Name");
    await name.fill("Bad_Id");
    await page.locator("#tenant-id-error").getByText("Use lower-case letters").waitFor();
    expect(await name.getAttribute("aria-invalid")).to.equal("true");
    await name.fill("acme");
    await page.locator("#tenant-id-error").getByText('"acme" is already taken').waitFor();
    await name.fill("kube-x");
    await page.locator("#tenant-id-error").getByText('Names starting with "kube-" are reserved.').waitFor();
    await name.fill("carols-shop");
    await page.locator("#tenant-id-error").getByText("carols-shop.odoo-saas.test is available.").waitFor();
    expect(await name.getAttribute("aria-invalid")).to.equal("false");
  });

  it("creates an instance and shows the engine's progress live until it succeeds", async () => {
    await page.getByLabel("Plan").selectOption("business");
    await page.getByRole("button", { name: "Create instance" }).click();
    await page.getByRole("heading", { name: "Creating carols-shop" }).waitFor();
    await page.locator("#progress-log").getByText("Creating carols-shop-odoo…").waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, "signup-2-progress.png"), fullPage: true });
    await page.locator("#progress-log").getByText("✓ Created carols-shop-odoo").waitFor({ timeout: 60_000 });
    await page.getByText("Done: the operation succeeded.").waitFor({ timeout: 60_000 });
    const row = page.locator('tr[data-tenant="carols-shop"]');
    // This server reads no cluster: the page says "unknown" and why, never a hopeful "ready".
    await row.locator(".badge.unknown").waitFor();
    await row.locator(".status-reason").getByText("readiness not observed: no cluster configured").waitFor();
    expect(await row.getByRole("link").getAttribute("href")).to.equal("http://carols-shop.odoo-saas.test");
    await page.screenshot({ path: path.join(ARTIFACTS, "signup-3-ready.png"), fullPage: true });
  });

  it("reads the instance's administrator credentials", async () => {
    await page.getByRole("button", { name: "Credentials of carols-shop" }).click();
    const dialog = page.getByRole("dialog", { name: "Administrator of carols-shop" });
    await dialog.waitFor();
    expect(await dialog.locator("#credentials-login").textContent()).to.equal(email);
    expect(await dialog.locator("#credentials-password").textContent()).to.match(/^[A-Za-z0-9_-]{24}$/);
    await page.screenshot({ path: path.join(ARTIFACTS, "signup-4-credentials.png"), fullPage: true });
    await dialog.getByRole("button", { name: "Close" }).click();
  });

  it("deletes it only after the name is typed into the confirmation", async () => {
    await page.getByRole("button", { name: "Delete carols-shop" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete carols-shop?" });
    await dialog.waitFor();
    const confirm = dialog.getByRole("button", { name: "Delete instance" });
    expect(await confirm.isDisabled()).to.equal(true);
    await dialog.getByLabel("Type carols-shop to confirm").fill("carols");
    expect(await confirm.isDisabled()).to.equal(true);
    await page.screenshot({ path: path.join(ARTIFACTS, "signup-5-confirm-delete.png"), fullPage: true });
    await dialog.getByLabel("Type carols-shop to confirm").fill("carols-shop");
    await confirm.click();
    await page.getByRole("alert").getByText("Removal retires, purge destroys").waitFor();
    await page.getByText("Done: the operation succeeded.").waitFor({ timeout: 60_000 });
    await page.getByText("No instances yet.").waitFor();
    expect(h.journal()).to.include("deleted carols-shop");
  });

  it("signs out, and the page had no script errors or CSP violations", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Your own Odoo, ready in minutes" }).waitFor();
    expect(problems).to.deep.equal([]);
  });
});
