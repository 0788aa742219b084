/**
 * How many operations one server process runs at once. Each runs its own engine (the Pulumi
 * CLI, the Node.js language host with the program, the provider plugins), so the default
 * is the memory free at start divided by what one engine run holds, clamped to 1..8.
 * ODOO_SAAS_WORKERS overrides it.
 */
import * as os from "node:os";

/**
 * Resident memory of one running update, measured with the real program by bench:signup
 * (2026-12-02, 2 cores): the engine CLI and its Kubernetes and random plugins held at most
 * 285 MiB per update, and the server's own memory (the inline program) grew by about 34 MiB
 * per concurrent update (225 MiB idle, 511 MiB with 8 running). The one place this number lives.
 */
export const ENGINE_RSS_BYTES = 320 * 1024 * 1024;
export const MAX_WORKERS = 8;

export class WorkerCountProblem extends Error {}

export function defaultWorkerCount(freeBytes: number = os.freemem()): number {
  return Math.min(MAX_WORKERS, Math.max(1, Math.floor(freeBytes / ENGINE_RSS_BYTES)));
}

/** ODOO_SAAS_WORKERS (1..8), or the default from free memory. */
export function workerCount(value: string | undefined, freeBytes: number = os.freemem()): number {
  if (value === undefined || value === "") return defaultWorkerCount(freeBytes);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new WorkerCountProblem(`ODOO_SAAS_WORKERS must be an integer from 1 to ${MAX_WORKERS}, not "${value}"`);
  }
  return n;
}
