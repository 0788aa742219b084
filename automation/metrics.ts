/**
 * The signup server's numbers for Prometheus (prom-client, a registry of its own per server):
 * counters and histograms moved where the work happens, and gauges read at scrape time (the
 * queue and the tenants from the database, with a short timeout; the engines from /proc).
 * A read that fails or times out leaves its gauges empty and sets
 * odoo_saas_scrape_read_failed{read} to 1: no number is shown that was not read.
 * Labels are bounded sets (kind, outcome, phase, route pattern, status): never a tenant id,
 * an e-mail or a raw path.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { CUSTOMER_STATUSES, type CustomerStatus } from "./customer-status";
import { runningEnginePids } from "./engine/engine-command";
import { descendants, rssOf } from "../checks/process-rss";
import { LAST_RUNS, type ScheduledBackupsReading } from "./scheduled-backups";

/** Phases of an operation, shared with the signup bench: short snake_case words. */
export type Phase = "queue_wait" | "engine_run" | "status_write" | "total";

export interface QueueReading {
  queued: number;
  running: number;
  /** Seconds since the oldest queued (and the oldest running) operation was recorded (0 when none). */
  oldestQueuedSeconds: number;
  oldestRunningSeconds: number;
}

/** What the scrape reads from the database; each is bounded by `readTimeoutMs`. */
export interface MetricsSources {
  queue(): Promise<QueueReading>;
  tenantsByStatus(): Promise<Map<CustomerStatus, number>>;
  /** The tenants' backup CronJobs as the cluster recorded them; absent: no cluster configured. */
  scheduledBackups?(): Promise<ScheduledBackupsReading>;
}

const PHASE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 12, 20, 30, 60, 120, 300, 600];

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Resident memory of this process's engine launchers and everything they started (CLI, plugins). */
export function engineRssBytes(pids: readonly number[] = runningEnginePids()): number {
  let total = 0;
  for (const pid of pids) {
    total += rssOf(pid);
    for (const child of descendants(pid)) total += rssOf(child);
  }
  return total;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<"method" | "route" | "code">;
  readonly operations: Counter<"kind" | "outcome">;
  readonly phaseSeconds: Histogram<"phase" | "kind">;
  readonly engineRunsInFlight: Gauge;
  readonly backupRequests: Counter<"outcome">;
  readonly uploads: Counter<"outcome">;
  private readonly readFailed: Gauge<"read">;
  private readonly queueDepth: Gauge<"status">;
  private readonly queueAge: Gauge<"status">;
  private readonly tenants: Gauge<"status">;
  private readonly scheduledBackups: Gauge<"last_run">;
  private readonly oldestBackupSuccess: Gauge<"kind">;
  private sources: MetricsSources | undefined;
  /** One database read at a time: concurrent scrapes share it. */
  private reading: Promise<void> | undefined;

  constructor(private readonly readTimeoutMs = 2_000) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: "odoo_saas_http_requests_total", help: "HTTP requests answered, by method, route pattern and status code.",
      labelNames: ["method", "route", "code"], registers,
    });
    this.operations = new Counter({
      name: "odoo_saas_operations_total",
      help: "Operation runs by kind and outcome: succeeded, failed (for good), retrying (a retryable failure, run again later), stale (a taken-over run's result, refused).",
      labelNames: ["kind", "outcome"], registers,
    });
    this.phaseSeconds = new Histogram({
      name: "odoo_saas_operation_phase_seconds",
      help: "Seconds per phase of an operation: queue_wait (recorded to first claimed), engine_run (the runner), status_write (the result's transaction), total (recorded to result written).",
      labelNames: ["phase", "kind"], buckets: PHASE_BUCKETS, registers,
    });
    this.engineRunsInFlight = new Gauge({ name: "odoo_saas_engine_runs_in_flight", help: "Operations whose engine run is under way in this process.", registers });
    new Gauge({
      name: "odoo_saas_engine_commands_running", help: "Engine (Pulumi CLI) commands this process runs now.", registers,
      collect() {
        this.set(runningEnginePids().length);
      },
    });
    new Gauge({
      name: "odoo_saas_engine_rss_bytes", help: "Resident memory of this process's running engines: CLIs and the plugins they started.", registers,
      collect() {
        this.set(engineRssBytes());
      },
    });
    this.backupRequests = new Counter({
      name: "odoo_saas_backup_requests_total", help: "On-demand backup requests by outcome: accepted, refused (limit, not ready), failed (the cluster or store did not answer).",
      labelNames: ["outcome"], registers,
    });
    this.uploads = new Counter({
      name: "odoo_saas_uploads_total", help: "Database uploads finished on this server, by outcome: restored, refused, failed, unknown.",
      labelNames: ["outcome"], registers,
    });

    this.readFailed = new Gauge({
      name: "odoo_saas_scrape_read_failed", help: "1 when this scrape could not read a source (its gauges are then left out), else 0.",
      labelNames: ["read"], registers,
    });
    this.queueDepth = new Gauge({ name: "odoo_saas_queue_operations", help: "Operations recorded and not finished, on all servers, by status (queued, running).", labelNames: ["status"], registers });
    this.queueAge = new Gauge({
      name: "odoo_saas_queue_oldest_age_seconds", help: "Seconds since the oldest queued (running) operation was requested, by status (0 when none; a retry keeps its age).",
      labelNames: ["status"], registers,
    });
    this.tenants = new Gauge({
      name: "odoo_saas_tenants", help: "Self-service tenants by the status their customers see (unknown: the cluster could not be read).",
      labelNames: ["status"], registers,
    });
    this.scheduledBackups = new Gauge({
      name: "odoo_saas_scheduled_backups",
      help: "Tenants' backup CronJobs by their last run as Kubernetes recorded it: succeeded, failed (scheduled after the last success and not running), running, not_run_yet.",
      labelNames: ["last_run"], registers,
    });
    this.oldestBackupSuccess = new Gauge({
      name: "odoo_saas_backup_oldest_last_success_age_seconds",
      help: "Seconds since the oldest of the tenants' last successful backups of a kind (scheduled: their CronJobs); absent until one has succeeded.",
      labelNames: ["kind"], registers,
    });
  }

  /** The database's numbers, read now (each source at most readTimeoutMs), before the text is made. */
  private async readSources(): Promise<void> {
    const sources = this.sources;
    const scheduledBackups = sources?.scheduledBackups;
    const read = async <T>(name: string, get: (s: MetricsSources) => Promise<T>, use: (value: T) => void): Promise<void> => {
      if (sources === undefined) return;
      try {
        use(await withTimeout(get(sources), this.readTimeoutMs, name));
        this.readFailed.set({ read: name }, 0);
      } catch {
        this.readFailed.set({ read: name }, 1);
      }
    };
    this.queueDepth.reset();
    this.queueAge.reset();
    this.tenants.reset();
    this.scheduledBackups.reset();
    this.oldestBackupSuccess.reset();
    await Promise.all([
      read("queue", (s) => s.queue(), (q) => {
        this.queueDepth.set({ status: "queued" }, q.queued);
        this.queueDepth.set({ status: "running" }, q.running);
        this.queueAge.set({ status: "queued" }, q.oldestQueuedSeconds);
        this.queueAge.set({ status: "running" }, q.oldestRunningSeconds);
      }),
      read("tenants", (s) => s.tenantsByStatus(), (counts) => {
        for (const status of CUSTOMER_STATUSES) this.tenants.set({ status }, counts.get(status) ?? 0);
      }),
      // Only with a cluster: without one there is nothing to read, and no failed read to report.
      ...(scheduledBackups === undefined ? [] : [read("scheduled_backups", (s) => scheduledBackups.call(s), (b) => {
        for (const run of LAST_RUNS) this.scheduledBackups.set({ last_run: run }, b.byLastRun.get(run) ?? 0);
        if (b.oldestSuccessAgeSeconds !== undefined) this.oldestBackupSuccess.set({ kind: "scheduled" }, b.oldestSuccessAgeSeconds);
      })]),
    ]);
  }

  /** Where the scrape reads the queue and the tenants (set once the records are open). */
  useSources(sources: MetricsSources): void {
    this.sources = sources;
  }

  observePhase(phase: Phase, kind: string, seconds: number): void {
    this.phaseSeconds.observe({ phase, kind }, Math.max(0, seconds));
  }

  /** The Prometheus text format, with the database's numbers read for this scrape. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    this.reading ??= this.readSources().finally(() => {
      this.reading = undefined;
    });
    await this.reading;
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
