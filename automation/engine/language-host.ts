/**
 * Which Node.js language host the `pulumi` CLI runs for `pulumi up` of `index.ts` (the
 * Automation API's inline programs need none). In order of preference:
 *   1. one the CLI already finds: a `pulumi-language-nodejs` on PATH, or next to the CLI
 *      binary (where a Pulumi install keeps its own host);
 *   2. the project's build (tools/pulumi-language-nodejs -> .tools/language/), standing in
 *      for Pulumi's only where that is absent: its folder is then put first on the CLI's PATH;
 *   3. none: `pulumi up` cannot run the program, and says so.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { cliRoot, engineEnv, repoRoot, type EngineLocation } from "./engine-env";
import { isExecutable } from "./plugins";

export const LANGUAGE_HOST = "pulumi-language-nodejs";

export type LanguageHostSource =
  | { kind: "present"; path: string }
  | { kind: "built"; dir: string }
  | { kind: "missing" };

/** What exists on this machine, as seen by the chooser (a pure function of it). */
export interface LanguageHostFacts {
  /** The first executable host in the CLI's PATH. */
  onPath?: string;
  /** The host beside the CLI binary (symlinks resolved, as the engine resolves them). */
  besideCli?: string;
  /** The folder of the project's build, when it holds the executable. */
  built?: string;
}

export function chooseLanguageHost(facts: LanguageHostFacts): LanguageHostSource {
  const found = facts.onPath ?? facts.besideCli;
  if (found !== undefined) return { kind: "present", path: found };
  if (facts.built !== undefined) return { kind: "built", dir: facts.built };
  return { kind: "missing" };
}

/** Reads the facts: the CLI's PATH (a PATH value), the CLI binary, `<root>/.tools/language`. */
export function languageHostFacts(root: string, pathValue: string, cli: string): LanguageHostFacts {
  const facts: LanguageHostFacts = {};
  for (const dir of pathValue.split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, LANGUAGE_HOST);
    if (isExecutable(candidate)) {
      facts.onPath = candidate;
      break;
    }
  }
  try {
    const beside = path.join(path.dirname(fs.realpathSync(cli)), LANGUAGE_HOST);
    if (isExecutable(beside)) facts.besideCli = beside;
  } catch { /* no CLI there: nothing beside it */ }
  const built = path.join(root, ".tools", "language");
  if (isExecutable(path.join(built, LANGUAGE_HOST))) facts.built = built;
  return facts;
}

export interface CliEnvironment {
  /** The CLI binary. */
  cli: string;
  /** Environment for running it: the engine's (backend, passphrase, plugins) plus the host. */
  env: Record<string, string>;
  host: LanguageHostSource;
}

/**
 * How to run the CLI itself on this project (`pulumi preview`/`up` of `index.ts`): the same
 * backend, passphrase and plugin choice as the Automation API, and a language host.
 */
export function cliEnvironment(location: EngineLocation, root = repoRoot()): CliEnvironment {
  const env = engineEnv(location, root);
  const cli = path.join(cliRoot(root), "bin", "pulumi");
  const host = chooseLanguageHost(languageHostFacts(root, env.PATH ?? "", cli));
  if (host.kind === "built") env.PATH = [host.dir, env.PATH ?? ""].join(path.delimiter);
  return { cli, env, host };
}

export function describeLanguageHost(host: LanguageHostSource): string {
  switch (host.kind) {
    case "present": return `Node.js language host ${host.path}`;
    case "built": return `Node.js language host: the project's build in ${host.dir} (no other on PATH or beside the CLI)`;
    case "missing": return "no Node.js language host: install Pulumi's (it comes with the pulumi CLI), or build the project's with scripts/build-tools.sh pulumi-language-nodejs";
  }
}
