/**
 * How this repository runs the Pulumi engine: the CLI built by scripts/build-tools.sh
 * (or the user's own, via PULUMI_CLI_ROOT), a local file backend, a passphrase secrets
 * provider, no update checks, no Pulumi Cloud, and plugins as automation/engine/plugins.ts chooses
 * (downloads only for a plugin that is neither installed nor built).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PulumiCommand } from "@pulumi/pulumi/automation";
import { launchedCommand } from "./engine-command";
import { planPlugins, type PluginPlan } from "./plugins";

/** The repository root: the folder holding Pulumi.yaml, found from this file upwards. */
export function repoRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml")) && fs.existsSync(path.join(dir, "package.json"))) return dir;
  }
  throw new Error(`no Pulumi.yaml above ${__dirname}`);
}

export interface EngineLocation {
  /**
   * Folder of the file backend (state of every stack); with `backendUrl` set, only the home
   * of the workspaces and the generated passphrase.
   */
  backendDir: string;
  /**
   * A shared state backend instead of the local folder, e.g. `s3://bucket?endpoint=...`
   * (ODOO_SAAS_BACKEND_URL), so servers on several machines run the same stacks.
   */
  backendUrl?: string;
  /** PULUMI_HOME: plugins and workspace settings, kept out of the user's ~/.pulumi. */
  pulumiHome: string;
}

/**
 * A workspace folder per stack, outside the repository root: the Automation API writes
 * Pulumi.yaml and stack files into its workspace, and parallel stacks must not share one.
 */
export function workspaceDir(location: EngineLocation, stackName: string): string {
  const dir = path.join(path.dirname(location.backendDir), "workspaces", stackName);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export function defaultEngineLocation(root = repoRoot()): EngineLocation {
  const backendUrl = process.env.ODOO_SAAS_BACKEND_URL;
  return {
    backendDir: process.env.ODOO_SAAS_BACKEND_DIR ?? path.join(root, ".state", "backend"),
    pulumiHome: process.env.ODOO_SAAS_PULUMI_HOME ?? path.join(root, ".state", "pulumi-home"),
    ...(backendUrl !== undefined && backendUrl !== "" ? { backendUrl } : {}),
  };
}

/** Only local folders and S3-compatible object stores: what this platform tests. */
const SUPPORTED_BACKENDS = /^(file|s3):\/\//;

/** The folder of a file:// URL, absolute: relative to the current folder (the engine runs elsewhere), `~` the home. */
function fileUrlPath(url: string): string {
  const raw = url.slice("file://".length).split("?")[0] ?? "";
  return raw === "~" || raw.startsWith("~/") ? path.join(os.homedir(), raw.slice(1)) : path.resolve(raw);
}

/** The state backend URL the engine is given. */
export function backendUrl(location: EngineLocation): string {
  const url = location.backendUrl ?? `file://${location.backendDir}`;
  if (!SUPPORTED_BACKENDS.test(url)) throw new Error(`ODOO_SAAS_BACKEND_URL must be a file:// or s3:// URL (got a ${url.split(":")[0] ?? "?"}: URL)`);
  if (!url.startsWith("file://")) return url;
  const query = url.indexOf("?");
  return `file://${fileUrlPath(url)}${query >= 0 ? url.slice(query) : ""}`;
}

/** The file backend's folder, or undefined when the state lives in an object store. */
export function localBackendDir(location: EngineLocation): string | undefined {
  if (location.backendUrl === undefined) return location.backendDir;
  return location.backendUrl.startsWith("file://") ? fileUrlPath(location.backendUrl) : undefined;
}

/** The file backend's folder, created when missing; otherwise one sentence naming the setting. */
function ensureLocalBackend(location: EngineLocation): void {
  const dir = localBackendDir(location);
  if (dir === undefined) return;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    const setting = location.backendUrl !== undefined ? "ODOO_SAAS_BACKEND_URL" : "ODOO_SAAS_BACKEND_DIR";
    throw new Error(`${setting} names the state folder ${dir}, which cannot be created or written (${(err as NodeJS.ErrnoException).code ?? "error"}); create it, or set ${setting} to a folder this user can write.`);
  }
}

/**
 * The secrets passphrase: PULUMI_CONFIG_PASSPHRASE when set; otherwise one generated once
 * for this checkout's local backend and kept in a 0600 file beside it. Never printed.
 */
export function passphrase(location: EngineLocation): string {
  const fromEnv = process.env.PULUMI_CONFIG_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  // Honoured here because the engine gets PULUMI_CONFIG_PASSPHRASE from us, which would win over the file.
  const fromFile = process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (fromFile !== undefined && fromFile !== "") return fs.readFileSync(fromFile, "utf8").trim();
  const file = path.join(path.dirname(location.backendDir), "passphrase");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  }
  return fs.readFileSync(file, "utf8").trim();
}

/** Folder whose bin/pulumi is the CLI: PULUMI_CLI_ROOT, else this repository's .tools. */
export function cliRoot(root = repoRoot()): string {
  return process.env.PULUMI_CLI_ROOT ?? path.join(root, ".tools");
}

export function engineEnv(location: EngineLocation, root = repoRoot(), plan: PluginPlan = planPlugins(root, location.pulumiHome)): Record<string, string> {
  ensureLocalBackend(location);
  fs.mkdirSync(location.backendDir, { recursive: true });
  fs.mkdirSync(location.pulumiHome, { recursive: true });
  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: backendUrl(location),
    PULUMI_CONFIG_PASSPHRASE: passphrase(location),
    PULUMI_HOME: location.pulumiHome,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    // The chosen built plugins first (automation/engine/plugins.ts), then the CLI's siblings
    // (e.g. the dynamic-provider launcher).
    PATH: [...plan.pathDirs, path.join(cliRoot(root), "bin"), process.env.PATH ?? ""].join(path.delimiter),
    // Workspaces live outside the repository; plugins launched there still resolve our packages.
    NODE_PATH: path.join(root, "node_modules"),
  };
  // Downloads only where a plugin has no other source: a clear error beats a silent fetch.
  if (!plan.acquisition) env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
  return env;
}

export class EngineMissingError extends Error {}

/** The CLI, checked to exist (a clear error instead of a download attempt), run through the launcher (engine-command.ts). */
export async function pulumiCommand(root = repoRoot()): Promise<PulumiCommand> {
  const cli = path.join(cliRoot(root), "bin", "pulumi");
  if (!fs.existsSync(cli)) {
    throw new EngineMissingError(`Pulumi CLI not found at ${cli}: run scripts/build-tools.sh (or set PULUMI_CLI_ROOT to a folder whose bin/pulumi is your own CLI)`);
  }
  return launchedCommand(cliRoot(root), root);
}
