/**
 * Wires the signup server: durable store, stack operator (the engine), tenant service,
 * authentication and the HTTP server. Used by server-main.ts (real program), and by the
 * tests and the benchmark, which pass a stand-in program (see stack-operator.ts).
 */
import * as fs from "node:fs";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { Authenticator, parseAdminClaim } from "./auth";
import { clusterReaderFromEnv, type ClusterStatusReader } from "./cluster-status";
import { cliRoot, repoRoot, type EngineLocation } from "./engine-env";
import { createHttpServer } from "./http-server";
import { jsonLogger, Redactor, type Logger } from "./log";
import type { BackupAccess } from "./backup-access";
import { backupAccessFromConfig } from "./backup-access-from-config";
import { BackupService } from "./backup-service";
import { adminReaderFromEnv, type ClusterAdminReader } from "./admin-overview";
import { NotifyingOperationEvents, WebhookNotifier } from "./failure-notifier";
import { OperationEvents } from "./operation-events";
import { opsStackFile, type SignupServerConfig } from "./server-config";
import { SignupStore } from "./signup-store";
import { StackOperator } from "./stack-operator";
import { TenantService } from "./tenant-service";
import { uploadRestorerFromConfig } from "./upload-restorer-from-config";
import type { UploadRestorer } from "./upload-restorer";
import { UploadService } from "./upload-service";

export interface SignupAppDeps {
  /** The Pulumi program; default the real odooSaasProgram. */
  program?: PulumiFn;
  projectName?: string;
  engine?: EngineLocation;
  extraEnv?: Record<string, string>;
  cluster?: ClusterStatusReader;
  /** Cluster reads of the admin overview; default from KUBECONFIG, none with "none". */
  admin?: ClusterAdminReader;
  /** Owner access to backups; default from the server's configuration (backupAccessFromConfig). */
  backups?: BackupAccess;
  /** Where accepted database uploads are restored; default from the server's configuration. */
  uploads?: UploadRestorer;
  /** Where uploads are received; default the OS temp folder (needs room for the largest plan's uploadLimit). */
  uploadDir?: string;
  log?: Logger;
  redactor?: Redactor;
  root?: string;
}

export interface SignupApp {
  /** `http://host:port` it listens on. */
  url: string;
  store: SignupStore;
  operator: StackOperator;
  events: OperationEvents;
  log: Logger;
  close(): Promise<void>;
}

export async function startSignupApp(config: SignupServerConfig, deps: SignupAppDeps = {}): Promise<SignupApp> {
  const root = deps.root ?? repoRoot();
  const redactor = deps.redactor ?? new Redactor();
  redactor.add(config.hs256Secret);
  const log = deps.log ?? jsonLogger(redactor);
  const auth = new Authenticator({
    issuer: config.issuer,
    audience: config.audience,
    ...(config.jwksUrl !== undefined ? { jwksUrl: config.jwksUrl } : {}),
    ...(config.hs256Secret !== undefined ? { hs256Secret: config.hs256Secret } : {}),
    adminClaim: parseAdminClaim(config.adminClaim),
    allowAnonymous: config.allowAnonymous,
  });
  const store = new SignupStore(config.storeDir);
  const notifier = config.failureWebhookUrl !== undefined ? new WebhookNotifier(config.failureWebhookUrl, log) : undefined;
  const events = notifier ? new NotifyingOperationEvents(store, notifier) : new OperationEvents();
  const operator = new StackOperator({
    store,
    events,
    opsStackFile: opsStackFile(config),
    stackName: config.selfServiceStack,
    ...(deps.projectName !== undefined ? { projectName: deps.projectName } : {}),
    ...(deps.program !== undefined ? { program: deps.program } : {}),
    ...(deps.engine !== undefined ? { engine: deps.engine } : {}),
    // The engine's Kubernetes provider deploys to the cluster the server reads status from.
    extraEnv: { ...(config.kubeconfig !== undefined && config.kubeconfig !== "none" ? { KUBECONFIG: config.kubeconfig } : {}), ...(deps.extraEnv ?? {}) },
    root,
    log,
    redactor,
    coalesceWindowMs: config.coalesceWindowMs,
  });
  try {
    await operator.start();
  } catch (err) {
    store.close();
    throw err;
  }
  const service = new TenantService({
    store,
    operator,
    events,
    cluster: deps.cluster ?? clusterReaderFromEnv(config.kubeconfig),
    admin: deps.admin ?? adminReaderFromEnv(config.kubeconfig),
    opsStackFile: opsStackFile(config),
    tenantLimit: config.tenantLimit,
    log,
  });
  const backups = new BackupService({ store, log, access: deps.backups ?? backupAccessFromConfig(config.kubeconfig, opsStackFile(config)) });
  const uploads = new UploadService({ backups, log, opsStackFile: opsStackFile(config), restorer: deps.uploads ?? uploadRestorerFromConfig(config.kubeconfig), ...(deps.uploadDir !== undefined ? { workDir: deps.uploadDir } : {}) });
  const server = createHttpServer({
    service,
    backups,
    uploads,
    auth,
    events,
    store,
    log,
    page: { supabaseUrl: config.supabaseUrl, supabaseAnonKey: config.supabaseAnonKey },
    publicDir: path.join(root, "automation", "public"),
    supabaseUmdFile: path.join(root, "node_modules", "@supabase", "supabase-js", "dist", "umd", "supabase.js"),
    cliPresent: () => fs.existsSync(path.join(cliRoot(root), "bin", "pulumi")),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    store,
    operator,
    events,
    log,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await operator.stop();
      await notifier?.settled();
      store.close();
    },
  };
}
