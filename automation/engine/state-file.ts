/**
 * What a tenant stack's state holds, read from the file backend's state file without starting
 * the engine: a refresh reconciles only the resources a state lists, so a state with none (a
 * brand-new stack) has nothing to refresh. Undefined whenever it cannot be told (an object-store
 * backend, a compressed or unreadable file): the caller then refreshes as always.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_NAME } from "../../tenants/config-source";
import { localBackendDir, type EngineLocation } from "./engine-env";

/** The folder holding the file backend's `<stack>.json` files, or undefined for an object store. */
export function stateFolder(engine: EngineLocation): string | undefined {
  const backend = localBackendDir(engine);
  return backend === undefined ? undefined : path.join(backend, ".pulumi", "stacks", PROJECT_NAME);
}

/** Whether the stack has a state file: undefined when it cannot be told (an object store). */
export function stateFileExists(engine: EngineLocation, stackName: string): boolean | undefined {
  const folder = stateFolder(engine);
  if (folder === undefined) return undefined;
  const file = path.join(folder, `${stackName}.json`);
  return fs.existsSync(file) || fs.existsSync(`${file}.gz`);
}

/** true: resources or pending operations in the state; false: none (or no state yet); undefined: unknown. */
export function stateHasResources(engine: EngineLocation, stackName: string): boolean | undefined {
  const folder = stateFolder(engine);
  if (folder === undefined) return undefined;
  const file = path.join(folder, `${stackName}.json`);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    // No file and no other form of it: the stack has no state yet.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
    return fs.existsSync(`${file}.gz`) ? undefined : false;
  }
  try {
    const parsed = JSON.parse(text) as { checkpoint?: { latest?: { resources?: unknown; pending_operations?: unknown } } };
    const latest = parsed.checkpoint?.latest;
    if (latest === undefined || latest === null) return parsed.checkpoint !== undefined ? false : undefined;
    const count = (value: unknown): number | undefined => (value === undefined || value === null ? 0 : Array.isArray(value) ? value.length : undefined);
    const resources = count(latest.resources);
    const pending = count(latest.pending_operations);
    if (resources === undefined || pending === undefined) return undefined;
    return resources + pending > 0;
  } catch {
    return undefined;
  }
}
