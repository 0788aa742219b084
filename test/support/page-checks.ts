/**
 * Checks every view of the page gets in the browser tests: no horizontal scrolling
 * (scrollWidth <= innerWidth), no serious or critical axe-core violations, every visible
 * control reachable with the Tab key, and a screenshot kept in test-artifacts/.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { repoRoot } from "../../automation/engine/engine-env";
import { ARTIFACTS } from "./browser";

const AXE = fs.readFileSync(path.join(repoRoot(), "node_modules", "axe-core", "axe.min.js"), "utf8");

interface AxeViolation { id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }

// Page-side code is passed as strings: this project compiles without the DOM library.

/** axe-core evaluated through the DevTools protocol (the page's CSP forbids injected script tags). */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate<boolean>("'axe' in window"))) await page.evaluate(`${AXE}\n;undefined`);
  const violations = await page.evaluate<AxeViolation[]>(
    "window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.map(String) })) })))");
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate<{ scrollWidth: number; innerWidth: number }>("({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })");
}

/**
 * Tabs through the page; returns the visible, enabled controls the Tab key never reached.
 * Controls are named by tag, id, accessible label and text, not by node: the list may be
 * re-rendered (its refresh timer) while the test tabs through it.
 */
export async function unreachableByKeyboard(page: Page): Promise<string[]> {
  const key = `const key = (e) => e.type === "radio" ? "radio:" + e.name
    : [e.tagName.toLowerCase(), e.id, e.getAttribute("aria-label") || "", (e.textContent || "").trim().slice(0, 40)].join("|");`;
  const controls = await page.evaluate<string[]>(`(() => {
    ${key}
    const selector = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea, [tabindex]";
    const visible = (e) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden";
    };
    const scope = document.querySelector("dialog[open]") || document;
    // tabindex="-1" controls (the inactive tab of a tablist) are reached with the arrow keys, as ARIA's tabs pattern says.
    const list = [...scope.querySelectorAll(selector)].filter((e) => visible(e) && e.getAttribute("tabindex") !== "-1");
    return [...new Set(list.map(key))];
  })()`);
  const reached = new Set<string>();
  await page.evaluate("document.activeElement && document.activeElement.blur()");
  for (let i = 0; i < controls.length * 2 + 5; i++) {
    await page.keyboard.press("Tab");
    reached.add(await page.evaluate<string>(`(() => { ${key} const e = document.activeElement; return e && e !== document.body ? key(e) : ""; })()`));
  }
  return controls.filter((c) => !reached.has(c));
}

/** All checks of one view, and its screenshot as <name>-<width>.png. */
export async function checkView(page: Page, name: string, options: { keyboard?: boolean } = {}): Promise<void> {
  const width = page.viewportSize()?.width ?? 0;
  const { scrollWidth, innerWidth } = await horizontalOverflow(page);
  expect(scrollWidth, `${name} at ${width} px scrolls sideways`).to.be.at.most(innerWidth);
  expect(await axeViolations(page), `${name} at ${width} px`).to.deep.equal([]);
  if (options.keyboard !== false) expect(await unreachableByKeyboard(page), `${name} at ${width} px: not reachable by Tab`).to.deep.equal([]);
  await page.evaluate("document.activeElement && document.activeElement.blur()");
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
}
