/**
 * Debian's Chromium driven by playwright-core, started the way this machine needs: headless,
 * no sandbox (root), and no background networking (the machine has no internet).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { repoRoot } from "../../automation/engine/engine-env";

export const CHROMIUM = "/usr/bin/chromium";
/** Screenshots for people to look at (git-ignored). */
export const ARTIFACTS = path.join(repoRoot(), "test-artifacts");

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/prepare.sh does)`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
