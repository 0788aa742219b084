/**
 * Wires the signup server: records and progress events in PostgreSQL, the work queue
 * (graphile-worker) with the operation runner (the engine, one stack per self-service
 * tenant), the tenant and admin services, authentication and the HTTP server. Used by
 * server-main.ts and serve:local (real program), and by the tests and the benchmark, which
 * pass the stand-in program.
 */
import * as fs from "node:fs";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { AdminService } from "./admin-service";
import { adminReaderFromEnv, type ClusterAdminReader } from "./admin-overview";
import { Authenticator, parseAdminClaim } from "./auth";
import type { BackupAccess } from "./backup-access";
import { backupAccessFromConfig } from "./backup-access-from-config";
import { BackupService } from "./backup-service";
import { AddressCheckedReader } from "./address-checked-reader";
import { clusterReaderFromEnv, type ClusterStatusReader } from "./cluster-status";
import { addressCheckerFrom } from "./ingress-health";
import { cliRoot, repoRoot, type EngineLocation } from "./engine/engine-env";
import { failureNotice, WebhookNotifier } from "./failure-notifier";
import { DownloadTickets } from "./download-tickets";
import { createHttpServer } from "./http-server";
import { jsonLogger, Redactor, type Logger } from "./log";
import { ServerMetrics } from "./metrics";
import { recordsMetricsSources } from "./metrics-sources";
import type { OperationRunner } from "./operation-runner";
import { FleetPlatform } from "./fleet-platform";
import { OperationQueue } from "./queue/operation-queue";
import { BackupRequests } from "./records/backup-requests";
import { PgOperationEvents } from "./records/event-log";
import { importLegacyStore } from "./records/import-json";
import { RecordsStore } from "./records/records-store";
import { UploadRecords } from "./records/upload-records";
import { DEFAULT_RATE_RULES, RateLimits } from "./rate-limits";
import { fleetStackFile, requireDatabaseUrl, type SignupServerConfig } from "./server-config";
import { DEFAULT_STREAM_CAPS, StreamSlots } from "./stream-slots";
import { kubeConfigFromSetting } from "../checks/kube";
import { tenantHost } from "../tenants/validate";
import { KubeTenantNamespaces } from "./tenant-namespace";
import { TenantService } from "./tenant-service";
import { TenantViews } from "./tenant-views";
import { createRunner } from "./runner-from-config";
import { uploadRestorerFromConfig } from "./upload-restorer-from-config";
import type { UploadRestorer } from "./upload-restorer";
import { UploadService } from "./upload-service";

export interface SignupAppDeps {
  /** The Pulumi program; default the real odooSaasProgram. */
  program?: PulumiFn;
  engine?: EngineLocation;
  extraEnv?: Record<string, string>;
  /** Instead of the engine runner (queue-level tests only; the API suites use the real one). */
  runner?: OperationRunner;
  cluster?: ClusterStatusReader;
  /** Cluster reads of the admin overview; default from KUBECONFIG, none with "none". */
  admin?: ClusterAdminReader;
  /** Owner access to backups; default from the server's configuration (backupAccessFromConfig). */
  backups?: BackupAccess;
  /** Where accepted database uploads are restored; default from the server's configuration. */
  uploads?: UploadRestorer;
  /** Where uploads are received; default the OS temp folder (needs room for the largest plan's uploadLimit). */
  uploadDir?: string;
  /** Upload heartbeat and how stale a dead process's uploads must be before they are settled (tests shorten them). */
  uploadTimings?: { heartbeatMs?: number; staleAfterMs?: number };
  /** How long a request's body may take, except uploads' (default 300 s, as Node's requestTimeout). */
  requestTimeoutMs?: number;
  log?: Logger;
  redactor?: Redactor;
  root?: string;
  /** Queue timings (tests shorten them). */
  queue?: { pollIntervalMs?: number; heartbeatMs?: number; staleAfterMs?: number };
  /** Attempts per operation (default 5). */
  maxAttempts?: number;
  /** This server's metrics (default a registry of its own). */
  metrics?: ServerMetrics;
}

export interface SignupApp {
  /** `http://host:port` it listens on. */
  url: string;
  records: RecordsStore;
  queue: OperationQueue;
  events: PgOperationEvents;
  log: Logger;
  metrics: ServerMetrics;
  /** Resolves when no operation is queued or running (tests, benchmark). */
  idle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSignupApp(config: SignupServerConfig, deps: SignupAppDeps = {}): Promise<SignupApp> {
  const root = deps.root ?? repoRoot();
  const redactor = deps.redactor ?? new Redactor();
  redactor.add(config.hs256Secret);
  redactor.add(config.metricsToken);
  redactor.add(databasePassword(config.databaseUrl));
  const metrics = deps.metrics ?? new ServerMetrics();
  const log = deps.log ?? jsonLogger(redactor);
  const auth = new Authenticator({
    issuer: config.issuer,
    audience: config.audience,
    ...(config.jwksUrl !== undefined ? { jwksUrl: config.jwksUrl } : {}),
    ...(config.hs256Secret !== undefined ? { hs256Secret: config.hs256Secret } : {}),
    adminClaim: parseAdminClaim(config.adminClaim),
    allowAnonymous: config.allowAnonymous,
  });
  const records = await RecordsStore.open(requireDatabaseUrl(config), {
    ...(deps.maxAttempts !== undefined ? { maxAttempts: deps.maxAttempts } : {}),
    // The queue's workers and the HTTP requests share the pool; event streams have their own
    // (records/event-log.ts: a LISTEN connection and 2 for reads).
    maxConnections: config.workers + 10,
  });
  const cleanup: Array<() => Promise<void>> = [() => records.close()];
  const undo = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };
  try {
    await importLegacyStore(records, config.storeDir, log);
    const events = new PgOperationEvents(records.pool, log);
    await events.start();
    cleanup.push(() => events.stop());
    const notifier = config.failureWebhookUrl !== undefined ? new WebhookNotifier(config.failureWebhookUrl, log) : undefined;
    const engine = deps.runner === undefined ? await createRunner(config, { root, log, redactor, ...deps }) : undefined;
    // Before any job runs: the old shared stack's tenants move into their own stacks.
    await engine?.migrate(records);
    const runner = deps.runner ?? engine?.runner;
    if (runner === undefined) throw new Error("no operation runner");
    const stackNameOf = (id: string): string => engine?.stackNameOf(id) ?? `${config.fleetStack}-tenant-${id}`;
    const queue = new OperationQueue({
      store: records,
      events,
      runner,
      log,
      metrics,
      concurrency: config.workers,
      ...(deps.queue ?? {}),
      ...(notifier ? { onFailed: (op) => notifier.notify(failureNotice(op)) } : {}),
    });
    await queue.start();
    cleanup.push(async () => {
      await queue.stop();
      await notifier?.settled();
    });
    const platform = new FleetPlatform(fleetStackFile(config), log);
    // "ready" needs the public address to answer through the ingress (ODOO_SAAS_INGRESS_URL).
    const addresses = addressCheckerFrom(config.ingressUrl);
    const statusReader = new AddressCheckedReader(
      deps.cluster ?? clusterReaderFromEnv(config.kubeconfig), addresses, (id) => tenantHost(platform.config(), id));
    const views = new TenantViews(records, platform, statusReader);
    const cluster = kubeConfigFromSetting(config.kubeconfig);
    metrics.useSources(recordsMetricsSources(records, views, "kc" in cluster ? cluster.kc : undefined));
    const limits = new RateLimits(records.pool, config.rateRules ?? DEFAULT_RATE_RULES);
    const service = new TenantService({
      records, views, platform, runner, log, tenantLimit: config.tenantLimit, limits, demo: config.demo === true,
      ...("kc" in cluster ? { namespaces: new KubeTenantNamespaces(cluster.kc) } : {}),
      ...(config.storageLimitGb !== undefined ? { storageLimitGb: config.storageLimitGb } : {}),
    });
    const adminReader = deps.admin ?? adminReaderFromEnv(config.kubeconfig);
    const admin = new AdminService({
      records, views, platform, log,
      stackNameOf, addresses,
      ...(adminReader ? { admin: adminReader } : {}),
    });
    const backups = new BackupService({
      records, requests: new BackupRequests(records), log, limits, metrics,
      access: deps.backups ?? backupAccessFromConfig(config.kubeconfig, platform),
    });
    const uploads = new UploadService({
      backups, log, metrics, platform, restorer: deps.uploads ?? uploadRestorerFromConfig(config.kubeconfig),
      records: new UploadRecords(records, queue.nodeId),
      ...(config.uploads !== undefined ? { settings: config.uploads } : {}),
      ...(deps.uploadDir !== undefined ? { workDir: deps.uploadDir } : {}),
      ...(deps.uploadTimings ?? {}),
    });
    await uploads.start();
    cleanup.push(() => uploads.stop());
    const server = createHttpServer({
      service,
      admin,
      backups,
      uploads,
      auth,
      events,
      tickets: new DownloadTickets(records.pool),
      streams: new StreamSlots(config.streamCaps ?? DEFAULT_STREAM_CAPS),
      databaseReady: () => records.ping(),
      log,
      metrics,
      ...(config.metricsToken !== undefined ? { metricsToken: config.metricsToken } : {}),
      page: { supabaseUrl: config.supabaseUrl, supabaseAnonKey: config.supabaseAnonKey },
      publicDir: path.join(root, "automation", "public"),
      supabaseUmdFile: path.join(root, "node_modules", "@supabase", "supabase-js", "dist", "umd", "supabase.js"),
      cliPresent: () => fs.existsSync(path.join(cliRoot(root), "bin", "pulumi")),
      ...(deps.requestTimeoutMs !== undefined ? { requestTimeoutMs: deps.requestTimeoutMs } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => resolve());
    });
    cleanup.push(() => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return {
      url: `http://${host}:${address.port}`,
      records,
      queue,
      events,
      log,
      metrics,
      async idle(timeoutMs = 300_000) {
        const deadline = Date.now() + timeoutMs;
        while ((await records.pendingOperations()).size > 0) {
          if (Date.now() > deadline) throw new Error(`operations still queued or running after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      close: undo,
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

/** The password in DATABASE_URL, to redact wherever it would appear (a driver's error, say). */
function databasePassword(url: string | undefined): string | undefined {
  try {
    return url === undefined ? undefined : decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
