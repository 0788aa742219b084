/**
 * Starts the real signup server (HTTP on 127.0.0.1, records and queue in a fresh database of
 * the run's PostgreSQL (test-postgres.ts), the real runner and Pulumi engine, local backend)
 * in a temporary folder, with the STAND-IN program (standin-program.ts: fails and slows down on
 * demand; the server's default, the real program, is tested in test/api/real-program.test.ts)
 * and the Supabase Auth stand-in's keys. Also a small HTTP
 * client and helpers to wait for operations and read SSE streams.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { ClusterAdminReader } from "../../automation/admin-overview";
import type { BackupAccess } from "../../automation/backup-access";
import type { UploadRestorer } from "../../automation/upload-restorer";
import type { ClusterStatusReader } from "../../automation/cluster-status";
import { ObservedCluster } from "./observed-cluster";
import { jsonLogger, Redactor } from "../../automation/log";
import { DEFAULT_UPLOAD_SETTINGS, type SignupServerConfig, type UploadSettings } from "../../automation/server-config";
import type { RateRules } from "../../automation/rate-limits";
import type { StreamCaps } from "../../automation/stream-slots";
import { startSignupApp, type SignupApp } from "../../automation/signup-app";
import type { OperationView } from "../../automation/tenant-views";
import { standInProgram } from "./standin-program";
import { startAuthStandIn, type AuthStandIn } from "../../local/local-supabase-auth";
import { freshDatabase } from "./test-postgres";

/** The fleet stack's own (pull-request) tenants in every test: ids and a custom host the server must refuse. */
export const FLEET_TENANTS = [
  { id: "acme", adminEmail: "admin@acme.example", plan: "starter" },
  { id: "globex", adminEmail: "it@globex.example", plan: "business", customDomains: ["shop.odoo-saas.test"] },
];

export function writeFleetStackFile(dir: string, tenants: unknown[] = FLEET_TENANTS): string {
  const file = path.join(dir, "Pulumi.dev.yaml");
  const doc = {
    config: {
      "odoo-saas:baseDomain": "odoo-saas.test",
      "odoo-saas:ingress": { awaitLoadBalancer: false },
      // Not ours: copied verbatim to the self-service stack all the same.
      "kubernetes:context": "odoo-saas-test",
      "odoo-saas:tenants": tenants,
    },
  };
  fs.writeFileSync(file, yaml.dump(doc));
  return file;
}

export interface HarnessOptions {
  modes?: Array<"jwks" | "hs256">;
  tenantLimit?: number;
  delayMs?: number;
  /** Operations run at once (ODOO_SAAS_WORKERS); default 2. */
  workers?: number;
  cluster?: ClusterStatusReader;
  /** ODOO_SAAS_INGRESS_URL; default the ObservedCluster's ingress stand-in when `cluster` is one, else none. */
  ingressUrl?: string;
  /** Cluster-wide reads of the admin overview; default none (or from kubeconfig). */
  admin?: ClusterAdminReader;
  /** Reuse an auth stand-in (and so its keys) across servers. */
  auth?: AuthStandIn;
  /** Reuse a folder (restart on the same database and backend: the folder remembers its database). */
  dir?: string;
  /** A real cluster to read status and the admin overview from; default none. */
  kubeconfig?: string;
  /** ODOO_SAAS_ALLOW_ANONYMOUS; default false. */
  allowAnonymous?: boolean;
  failureWebhookUrl?: string;
  /** Owner access to backups (default: none configured, every backup route answers 503). */
  backups?: BackupAccess;
  /** Where accepted database uploads are restored (default: none, uploads answer 503). */
  uploads?: UploadRestorer;
  /** Where uploads are received (default: the OS temp folder). */
  uploadDir?: string;
  /** Upload bounds (ODOO_SAAS_UPLOADS_PER_USER, …), over DEFAULT_UPLOAD_SETTINGS. */
  uploadSettings?: Partial<UploadSettings>;
  uploadTimings?: { heartbeatMs?: number; staleAfterMs?: number };
  requestTimeoutMs?: number;
  /** Rate limits (default: the server's defaults). */
  rateRules?: RateRules;
  /** Caps on open event streams (default: the server's defaults). */
  streamCaps?: StreamCaps;
  /** ODOO_SAAS_DEMO: the page shows the demo notice. */
  demo?: boolean;
  /** ODOO_SAAS_METRICS_TOKEN (default unset: /metrics refuses). */
  metricsToken?: string;
}

export interface Response<T = unknown> {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (overrides body). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export async function request<T = Record<string, unknown>>(base: string, method: string, urlPath: string, options: RequestOptions = {}): Promise<Response<T>> {
  const payload = options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined);
  const headers: Record<string, string> = {
    ...(options.token !== undefined ? { Authorization: `Bearer ${options.token}` } : {}),
    ...(payload !== undefined && options.raw === undefined ? { "Content-Type": "application/json" } : {}),
    ...(payload !== undefined ? { "Content-Length": String(Buffer.byteLength(payload)) } : {}),
    ...(options.headers ?? {}),
  };
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${urlPath}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        if ((res.headers["content-type"] ?? "").includes("json") && text !== "") body = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T, text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** A Server-Sent Events stream read to its end (the server closes it after the terminal event). */
export async function readEventStream(base: string, urlPath: string, token: string, headers: Record<string, string> = {}): Promise<Array<Record<string, unknown>>> {
  const res = await request<string>(base, "GET", urlPath, { token, headers: { Accept: "text/event-stream", ...headers } });
  if (res.status !== 200) throw new Error(`SSE ${urlPath}: HTTP ${res.status} ${res.text}`);
  return res.text
    .split("\n\n")
    .map((block) => block.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n"))
    .filter((data) => data !== "")
    .map((data) => JSON.parse(data) as Record<string, unknown>);
}

/** Reads a live SSE stream until `until` matches an event (resolves with it); the connection is then closed. */
export async function waitForEvent(base: string, urlPath: string, token: string, until: (event: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${urlPath}`, { headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" } }, (res) => {
      let buffer = "";
      res.on("data", (chunk: Buffer) => {
        buffer += chunk.toString("utf8");
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data === "") continue;
          const event = JSON.parse(data) as Record<string, unknown>;
          if (until(event)) {
            clearTimeout(timer);
            req.destroy();
            resolve(event);
            return;
          }
        }
      });
      res.on("end", () => reject(new Error(`the stream of ${urlPath} ended without the awaited event`)));
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no awaited event on ${urlPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("error", (err) => {
      if (!req.destroyed) reject(err);
    });
  });
}

export class Harness {
  private constructor(
    readonly app: SignupApp,
    /** The server's log lines (JSON), to check that no secret is ever logged. */
    readonly logLines: string[],
    readonly auth: AuthStandIn,
    readonly dir: string,
    readonly worldDir: string,
    readonly config: SignupServerConfig,
    private readonly ownsAuth: boolean,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const auth = options.auth ?? await startAuthStandIn();
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-signup-"));
    const worldDir = path.join(dir, "world");
    fs.mkdirSync(worldDir, { recursive: true });
    if (!fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))) writeFleetStackFile(dir);
    const modes = options.modes ?? ["jwks", "hs256"];
    const ingressUrl = options.ingressUrl ?? (options.cluster instanceof ObservedCluster ? await options.cluster.ingress.url() : undefined);
    const config = harnessConfig(dir, auth, modes, { ...options, ...(ingressUrl !== undefined ? { ingressUrl } : {}) }, await databaseOf(dir));
    const redactor = new Redactor();
    const logLines: string[] = [];
    const harnessLog = jsonLogger(redactor, { write: (line) => logLines.push(line) });
    const app = await startSignupApp(config, {
      program: standInProgram(),
      engine: engineLocation(dir),
      extraEnv: standInEnv(worldDir, options.delayMs ?? 0, ""),
      redactor,
      log: harnessLog,
      queue: QUEUE_TIMINGS,
      ...(options.cluster ? { cluster: options.cluster } : {}),
      ...(options.admin ? { admin: options.admin } : {}),
      ...(options.backups ? { backups: options.backups } : {}),
      ...(options.uploads ? { uploads: options.uploads } : {}),
      ...(options.uploadDir ? { uploadDir: options.uploadDir } : {}),
      ...(options.uploadTimings ? { uploadTimings: options.uploadTimings } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
    return new Harness(app, logLines, auth, dir, worldDir, config, options.auth === undefined);
  }

  get url(): string {
    return this.app.url;
  }

  request<T = Record<string, unknown>>(method: string, urlPath: string, options: RequestOptions = {}): Promise<Response<T>> {
    return request<T>(this.url, method, urlPath, options);
  }

  token(user: string, extra: Partial<Parameters<AuthStandIn["sign"]>[0]> = {}): Promise<string> {
    return this.auth.sign({ sub: userId(user), email: `${user}@example.com`, ...extra });
  }

  /** Polls an operation until it finished. */
  async waitForOperation(token: string, operationId: string, timeoutMs = 120_000): Promise<OperationView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.request<OperationView>("GET", `/api/operations/${operationId}`, { token });
      if (res.status !== 200) throw new Error(`operation ${operationId}: HTTP ${res.status} ${res.text}`);
      if (res.body.status === "succeeded" || res.body.status === "failed") return res.body;
      if (Date.now() > deadline) throw new Error(`operation ${operationId} still ${res.body.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  journal(): string[] {
    const file = path.join(this.worldDir, "journal.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "") : [];
  }

  async close(options: { keepDir?: boolean } = {}): Promise<void> {
    await this.app.idle();
    await this.app.close();
    if (this.ownsAuth) await this.auth.close();
    if (!options.keepDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Stable per-name user ids, as Supabase's uuids would be. */
export function userId(name: string): string {
  const h = crypto.createHash("sha256").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function engineLocation(dir: string): { backendDir: string; pulumiHome: string } {
  return { backendDir: path.join(dir, "engine", "backend"), pulumiHome: path.join(dir, "engine", "home") };
}

export function standInEnv(worldDir: string, delayMs: number, marker: string): Record<string, string> {
  return { STANDIN_WORLD_DIR: worldDir, STANDIN_DELAY_MS: String(delayMs), ...(marker !== "" ? { ODOO_SAAS_TEST_RUN: marker } : {}) };
}

/** Short enough for tests: a dead worker's jobs run again within seconds. */
export const QUEUE_TIMINGS = { pollIntervalMs: 250, heartbeatMs: 500, staleAfterMs: 4_000 };

/** The folder's database: created on first use, remembered in the folder for a restart. */
export async function databaseOf(dir: string): Promise<string> {
  const file = path.join(dir, "database-url");
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  const url = await freshDatabase("signup");
  fs.writeFileSync(file, url, { mode: 0o600 });
  return url;
}

export function harnessConfig(dir: string, auth: AuthStandIn, modes: Array<"jwks" | "hs256">, options: HarnessOptions, databaseUrl: string): SignupServerConfig {
  return {
    host: "127.0.0.1",
    port: 0,
    fleetStack: "dev",
    fleetDir: dir,
    selfServiceStack: "dev-selfservice",
    storeDir: path.join(dir, "store"),
    supabaseUrl: auth.url,
    supabaseAnonKey: "standin-anon-key",
    issuer: auth.issuer,
    audience: auth.audience,
    ...(modes.includes("jwks") ? { jwksUrl: auth.jwksUrl } : {}),
    ...(modes.includes("hs256") ? { hs256Secret: auth.hs256Secret } : {}),
    adminClaim: "app_metadata.role=admin",
    tenantLimit: options.tenantLimit ?? 3,
    kubeconfig: options.kubeconfig ?? "none",
    databaseUrl,
    workers: options.workers ?? 2,
    allowAnonymous: options.allowAnonymous ?? false,
    ...(options.demo !== undefined ? { demo: options.demo } : {}),
    ...(options.ingressUrl !== undefined ? { ingressUrl: options.ingressUrl } : {}),
    ...(options.failureWebhookUrl !== undefined ? { failureWebhookUrl: options.failureWebhookUrl } : {}),
    uploads: { ...DEFAULT_UPLOAD_SETTINGS, ...(options.uploadSettings ?? {}) },
    ...(options.rateRules !== undefined ? { rateRules: options.rateRules } : {}),
    ...(options.streamCaps !== undefined ? { streamCaps: options.streamCaps } : {}),
    ...(options.metricsToken !== undefined ? { metricsToken: options.metricsToken } : {}),
  };
}
