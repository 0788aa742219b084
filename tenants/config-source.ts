/**
 * Where the raw stack config comes from: the running Pulumi program's config, or a
 * `Pulumi.<stack>.yaml` file read without any engine (the pull-request check).
 * Both produce the same object for the one schema.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

export const PROJECT_NAME = "odoo-saas";
const PREFIX = `${PROJECT_NAME}:`;

/**
 * From `pulumi.runtime.allConfig()`: structured values arrive as JSON text, scalars as
 * plain strings. Keys of other namespaces (e.g. `kubernetes:context`) are not ours.
 */
export function rawConfigFromPulumi(allConfig: Readonly<Record<string, string>>): Record<string, unknown> {
  const raw = nullPrototype();
  for (const [key, value] of Object.entries(allConfig)) {
    if (!key.startsWith(PREFIX)) continue;
    const name = key.slice(PREFIX.length);
    const looksStructured = /^\s*[[{]/.test(value);
    raw[name] = looksStructured ? JSON.parse(value) : value;
  }
  return raw;
}

/**
 * Keys come from a file or the engine: `odoo-saas:__proto__` must become a key the schema
 * refuses by name, not the object's prototype (which the schema would silently read through).
 */
function nullPrototype(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

export class StackFileError extends Error {}

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/** `<dir>/Pulumi.<stack>.yaml`, refusing a stack name that could leave the folder. */
export function stackFilePath(dir: string, stack: string): string {
  if (!STACK_NAME.test(stack)) throw new StackFileError(`stack name "${stack}" has characters a stack name cannot have`);
  return path.join(dir, `Pulumi.${stack}.yaml`);
}

/** The value of `--stack NAME` in a command line; `dev` when absent. */
export function stackArgument(argv: readonly string[]): string {
  const index = argv.indexOf("--stack");
  return index >= 0 ? argv[index + 1] ?? "dev" : "dev";
}

/** A stack file's whole `config:` map (every namespace), values as written. */
export function readStackConfigMap(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (err) {
    throw new StackFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    // JSON_SCHEMA: plain YAML values only (no timestamps or custom tags turning into objects).
    doc = yaml.load(text, { filename: path, schema: yaml.JSON_SCHEMA });
  } catch (err) {
    throw new StackFileError(`${path} is not valid YAML: ${(err as Error).message}`);
  }
  const config = typeof doc === "object" && doc !== null && Object.hasOwn(doc, "config") ? (doc as { config: unknown }).config : undefined;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new StackFileError(`${path} has no "config:" map`);
  }
  // Keys are data: a null-prototype copy keeps "__proto__" a plain key.
  return Object.assign(nullPrototype(), Object.fromEntries(Object.entries(config as Record<string, unknown>)));
}

/** A stack's `config:` map cut to this project's keys, without the prefix: input of the one schema. */
export function projectConfig(configMap: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const raw = nullPrototype();
  for (const [key, value] of Object.entries(configMap)) {
    if (key.startsWith(PREFIX)) raw[key.slice(PREFIX.length)] = value;
  }
  return raw;
}

/** From a stack file: the `config` map, keeping only this project's keys. */
export function rawConfigFromStackFile(path: string): Record<string, unknown> {
  return projectConfig(readStackConfigMap(path));
}
