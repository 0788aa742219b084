/**
 * Which resource plugin the engine runs for each Pulumi package the program uses.
 *
 * For each package (kubernetes, random) the SDK in node_modules names a plugin version.
 * In order of preference:
 *   1. "installed": Pulumi's own plugin at exactly that version is in PULUMI_HOME (e.g. after
 *      `pulumi plugin install resource kubernetes v4.34.2`, or an earlier download);
 *   2. "built": the project's build from Go modules (scripts/build-tools.sh) in
 *      .tools/plugins/<name>/, put on the engine's PATH. A plugin on PATH is "ambient": the
 *      engine runs it whatever version the SDK asks for, so it is on PATH only when chosen;
 *   3. "acquire": neither exists: the engine may download Pulumi's plugin at the SDK's version
 *      (`installPlugins` does it up front, so a missing registry fails before any update).
 * The random plugin we build is our own (tools/pulumi-random): it stands in for Pulumi's only
 * where Pulumi's cannot be had, which rule 1 guarantees.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Workspace } from "@pulumi/pulumi/automation";

export const PLUGIN_PACKAGES = ["kubernetes", "random"] as const;
export type PluginName = (typeof PLUGIN_PACKAGES)[number];

export interface PluginRequirement {
  name: PluginName;
  /** The version the SDK package asks the engine for (its package.json version). */
  version: string;
}

export type PluginSource =
  | { kind: "installed"; name: PluginName; version: string; dir: string }
  | { kind: "built"; name: PluginName; version: string; dir: string }
  | { kind: "acquire"; name: PluginName; version: string };

/** What exists on this machine, as seen by the chooser (a pure function of it). */
export interface PluginFacts {
  /** `resource-<name>-v<version>` folders of PULUMI_HOME/plugins holding their executable. */
  installed: ReadonlySet<string>;
  /** Folders of the project's built plugins that hold the executable, by plugin name. */
  built: ReadonlyMap<PluginName, string>;
  pulumiHome: string;
}

export function installedKey(name: string, version: string): string {
  return `resource-${name}-v${version.replace(/^v/, "")}`;
}

export function choosePluginSource(req: PluginRequirement, facts: PluginFacts): PluginSource {
  const key = installedKey(req.name, req.version);
  if (facts.installed.has(key)) return { kind: "installed", ...req, dir: path.join(facts.pulumiHome, "plugins", key) };
  const built = facts.built.get(req.name);
  if (built !== undefined) return { kind: "built", ...req, dir: built };
  return { kind: "acquire", ...req };
}

/** The plugin version each SDK package asks for: its own package.json version. */
export function requiredPlugins(root: string): PluginRequirement[] {
  return PLUGIN_PACKAGES.map((name) => {
    const file = path.join(root, "node_modules", "@pulumi", name, "package.json");
    const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    const version = typeof parsed === "object" && parsed !== null && Object.hasOwn(parsed, "version")
      ? (parsed as { version: unknown }).version : undefined;
    if (typeof version !== "string") throw new Error(`${file} has no version`);
    return { name, version };
  });
}

/** A regular file this user may execute. */
export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Reads the facts from disk: PULUMI_HOME's plugin folders and `<root>/.tools/plugins`. */
export function pluginFacts(root: string, pulumiHome: string, requirements: readonly PluginRequirement[]): PluginFacts {
  const installed = new Set<string>();
  const built = new Map<PluginName, string>();
  for (const req of requirements) {
    const key = installedKey(req.name, req.version);
    const dir = path.join(pulumiHome, "plugins", key);
    // A download in progress leaves a `.partial` marker; such a folder is not installed yet.
    if (isExecutable(path.join(dir, `pulumi-resource-${req.name}`)) && !fs.existsSync(`${dir}.partial`)) installed.add(key);
    const builtDir = path.join(root, ".tools", "plugins", req.name);
    if (isExecutable(path.join(builtDir, `pulumi-resource-${req.name}`))) built.set(req.name, builtDir);
  }
  return { installed, built, pulumiHome };
}

export interface PluginPlan {
  sources: PluginSource[];
  /** Folders to put first on the engine's PATH (the chosen built plugins). */
  pathDirs: string[];
  /** May the engine download plugins? Only when a plugin has no other source. */
  acquisition: boolean;
}

export function planPlugins(root: string, pulumiHome: string): PluginPlan {
  const requirements = requiredPlugins(root);
  const facts = pluginFacts(root, pulumiHome, requirements);
  const sources = requirements.map((req) => choosePluginSource(req, facts));
  return {
    sources,
    pathDirs: sources.flatMap((s) => (s.kind === "built" ? [s.dir] : [])),
    acquisition: sources.some((s) => s.kind === "acquire"),
  };
}

export function describePlugin(source: PluginSource): string {
  switch (source.kind) {
    case "installed": return `${source.name} v${source.version}: Pulumi's plugin, installed in ${source.dir}`;
    case "built": return `${source.name}: the project's build (${source.dir}; the SDK asks for v${source.version})`;
    case "acquire": return `${source.name} v${source.version}: not on this machine; Pulumi's plugin will be downloaded`;
  }
}

/** Downloads the plugins that have no other source, before any update needs them. */
export async function installPlugins(workspace: Workspace, plan: PluginPlan, progress: (line: string) => void): Promise<void> {
  for (const source of plan.sources) {
    if (source.kind !== "acquire") continue;
    progress(`installing Pulumi's ${source.name} plugin v${source.version} (first use) ...`);
    try {
      await workspace.installPlugin(source.name, `v${source.version}`);
    } catch (err) {
      throw new Error(`the ${source.name} plugin v${source.version} is not installed and could not be downloaded: ${(err as Error).message.split("\n")[0]}. `
        + `Install it with \`pulumi plugin install resource ${source.name} v${source.version}\`, or build the project's with scripts/build-tools.sh.`);
    }
  }
}
