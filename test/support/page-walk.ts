/**
 * Helpers of the browser tests that walk the page by keyboard and look at the session the
 * page keeps (supabase-js's stored session in localStorage). Page-side code is passed as
 * strings: this project compiles without the DOM library.
 */
import { expect } from "chai";
import type { Page } from "playwright-core";

export interface Focused { id: string; label: string; tag: string; text: string }

export async function focused(page: Page): Promise<Focused> {
  return page.evaluate<Focused>(`(() => { const e = document.activeElement;
    return { id: e ? e.id : "", label: e ? e.getAttribute("aria-label") || "" : "", tag: e ? e.tagName.toLowerCase() : "", text: e ? (e.textContent || "").trim() : "" }; })()`);
}

/** Presses Tab (Shift+Tab with back) until the focused control matches; fails after `max` presses. */
export async function tabTo(page: Page, match: (f: Focused) => boolean, what: string, options: { max?: number; back?: boolean } = {}): Promise<void> {
  for (let i = 0; i < (options.max ?? 80); i++) {
    if (match(await focused(page))) return;
    await page.keyboard.press(options.back ? "Shift+Tab" : "Tab");
  }
  throw new Error(`Tab never reached ${what}; focus is on ${JSON.stringify(await focused(page))}`);
}

export const byLabel = (label: string) => (f: Focused): boolean => f.label === label;
export const byId = (id: string) => (f: Focused): boolean => f.id === id;

/**
 * The element with this id is focused, and its container is in view: scrolled to the top of the
 * viewport, or wholly visible where the page cannot scroll that far (not peeking in at the bottom).
 */
export async function expectFocusedInView(page: Page, id: string, containerId: string): Promise<void> {
  expect((await focused(page)).id, "focused element").to.equal(id);
  const box = await page.evaluate<{ top: number; bottom: number; height: number }>(
    `(() => { const r = document.getElementById(${JSON.stringify(containerId)}).getBoundingClientRect(); return { top: r.top, bottom: r.bottom, height: window.innerHeight }; })()`);
  expect(box.top, `#${containerId} starts above the viewport`).to.be.at.least(-1);
  expect(box.top <= 32 || box.bottom <= box.height + 1, `#${containerId} only peeks in (top ${box.top}, bottom ${box.bottom}, viewport ${box.height})`).to.equal(true);
}

const SESSION_KEY = "Object.keys(localStorage).find((k) => /^sb-.*-auth-token$/.test(k))";

/** The session supabase-js stored, changed by `change` (a page-side expression over `s`). */
export async function editStoredSession(page: Page, change: string): Promise<void> {
  await page.evaluate(`(() => { const key = ${SESSION_KEY}; const s = JSON.parse(localStorage.getItem(key)); ${change}; localStorage.setItem(key, JSON.stringify(s)); })()`);
}

export async function storedAccessToken(page: Page): Promise<string> {
  return page.evaluate<string>(`JSON.parse(localStorage.getItem(${SESSION_KEY})).access_token`);
}

/** The page finished signing in: its last step puts focus on <main> (the keyboard's start). */
async function signedInDone(page: Page): Promise<void> {
  // Polled with evaluate: waitForFunction's string would be eval'd, which the page's CSP forbids.
  for (let i = 0; i < 200 && (await focused(page)).id !== "main"; i++) await page.waitForTimeout(50);
  expect((await focused(page)).id, "signed in, focus on <main>").to.equal("main");
}

/** Creates an account through the page (tab "Create account"). */
export async function signUp(page: Page, email: string, password: string): Promise<void> {
  await page.getByRole("tab", { name: "Create account" }).click();
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "New instance" }).waitFor();
  await signedInDone(page);
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByRole("tab", { name: "Sign in" }).click();
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "New instance" }).waitFor();
  await signedInDone(page);
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Your own Odoo, ready in minutes" }).waitFor();
}
