/**
 * The file backend's state writes of one stack during an update, seen by inotify (fs.watch) on
 * the backend's stacks folder: the engine writes a temporary file and renames it onto
 * `<stack>.json` (or `.json.bak`), so one write lasts from the temporary file's creation to that
 * rename. The time is this process's receipt of each event (a busy event loop delays it); the
 * engine's JSON encoding before the write is not included. Object-store backends: nothing seen.
 */
import * as fs from "node:fs";
import { performance } from "node:perf_hooks";
import type { PhaseTimer } from "./phase-timer";

/** `dir`: the backend's folder of state files (state-file.ts), undefined for an object store. */
export function watchStateWrites(dir: string | undefined, stackName: string, timer: PhaseTimer): () => void {
  if (dir === undefined) return () => undefined;
  const own = new Set([`${stackName}.json`, `${stackName}.json.bak`]);
  const temporary = new Map<string, number>();
  let vanished: number | undefined;
  let watcher: fs.FSWatcher;
  try {
    watcher = fs.watch(dir, (kind, name) => {
      const now = performance.now();
      if (name === null || kind !== "rename") return;
      if (own.has(name)) {
        // The move's two halves arrive together: the temporary file left, this name arrived.
        if (vanished !== undefined) timer.record("state write", vanished, now, { detail: name.endsWith(".bak") ? "backup" : "checkpoint" });
        vanished = undefined;
        return;
      }
      if (name.endsWith(".attrs")) return;
      if (name.endsWith(".json") || name.endsWith(".bak")) {
        vanished = undefined; // another stack's write
        return;
      }
      const since = temporary.get(name);
      if (since === undefined) {
        temporary.set(name, now);
      } else {
        temporary.delete(name);
        vanished = since;
      }
    });
  } catch {
    return () => undefined; // no folder yet (first stack): nothing to watch
  }
  watcher.on("error", () => watcher.close());
  return () => watcher.close();
}
