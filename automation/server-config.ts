/**
 * The signup server's settings, from the environment. Secrets (the HS256 secret) are read
 * here and never printed: `describeConfig` lists what is configured, not the values.
 */
import * as path from "node:path";
import { parseAdminClaim } from "./auth";
import { repoRoot } from "./engine/engine-env";
import { DEFAULT_STORAGE_LIMIT_GB } from "./storage-limit";
import { MIN_METRICS_TOKEN_LENGTH } from "./metrics-route";
import { workerCount, WorkerCountProblem } from "./queue/worker-count";
import { DEFAULT_RATE_RULES, parseRateRule, RATE_ENV, type RateAction, type RateRule, type RateRules } from "./rate-limits";
import { DEFAULT_STREAM_CAPS, type StreamCaps } from "./stream-slots";
import { tenantStackName } from "./engine/tenant-stacks";

export interface SignupServerConfig {
  host: string;
  port: number;
  /** The fleet stack (pull-request tenants), e.g. `dev`. */
  fleetStack: string;
  /** Folder of `Pulumi.<fleetStack>.yaml`. */
  fleetDir: string;
  /** `<fleetStack>-selfservice`: the one shared stack of earlier versions (its tenants move to their own stacks). */
  selfServiceStack: string;
  /** Where the earlier JSON store lived: its signups.json is imported once into the database. */
  storeDir: string;
  /** PostgreSQL of the records and the queue (never printed: it may hold a password); unset only for serve:local. */
  databaseUrl?: string;
  /** Operations this process runs at once (ODOO_SAAS_WORKERS, default from free memory). */
  workers: number;
  supabaseUrl: string;
  supabaseAnonKey: string;
  issuer: string;
  audience: string;
  jwksUrl?: string;
  hs256Secret?: string;
  adminClaim: string;
  tenantLimit: number;
  /** GB of plan storage one user's instances may hold, deleted-but-kept ones included (default 150). */
  storageLimitGb?: number;
  /** KUBECONFIG path; "none" disables cluster reads; undefined: kubectl's defaults. */
  kubeconfig?: string;
  /** Accept Supabase anonymous sign-ins (`is_anonymous: true`); default false. */
  allowAnonymous: boolean;
  /**
   * ODOO_SAAS_DEMO: this deployment cannot serve real Odoo (a simulated cluster, no ingress that
   * reaches it); the page shows customers a visible demo notice. Default false.
   */
  demo?: boolean;
  /**
   * ODOO_SAAS_INGRESS_URL: where this server reaches the ingress controller (e.g. the local
   * cluster's forwarder, `scripts/local-cluster env` prints LOCAL_CLUSTER_INGRESS_URL). A tenant is
   * "ready" only once GET <this>/web/health with its host name answered 200; unset: "unknown".
   */
  ingressUrl?: string;
  /** Where failed operations are POSTed for operators (never printed: it may carry a token). */
  failureWebhookUrl?: string;
  /** Bounds on owner uploads beyond the plan's (default DEFAULT_UPLOAD_SETTINGS). */
  uploads?: UploadSettings;
  /** Rate limits of expensive requests (ODOO_SAAS_RATE_*); absent: DEFAULT_RATE_RULES. */
  rateRules?: RateRules;
  /** Caps on open SSE streams (ODOO_SAAS_SSE_PER_USER, ODOO_SAAS_SSE_PER_SERVER); absent: DEFAULT_STREAM_CAPS. */
  streamCaps?: StreamCaps;
  /** ODOO_SAAS_METRICS_TOKEN: the bearer token of GET /metrics (never printed); unset: /metrics refuses to serve. */
  metricsToken?: string;
}

export interface UploadSettings {
  /** Uploads one user may have unfinished at once, on all servers (ODOO_SAAS_UPLOADS_PER_USER). */
  perUser: number;
  /** Uploads this server process receives or restores at once (ODOO_SAAS_UPLOADS_PER_SERVER). */
  perServer: number;
  /**
   * The slowest upload still accepted, in bytes per second (ODOO_SAAS_UPLOAD_MIN_RATE): an upload
   * has `graceMs` plus its size (Content-Length, else the plan's limit) at this rate to arrive.
   */
  minBytesPerSecond: number;
  graceMs: number;
  /** Free space left on the upload folder's disk after the largest possible upload (ODOO_SAAS_UPLOAD_DISK_MARGIN). */
  diskMarginBytes: number;
}

/**
 * 2 per user (one instance's restore and another's upload), 4 per server (each holds up to its
 * plan's limit on the upload disk and a socket's worth of memory), 256 KiB/s (about 2 Mbit/s: a
 * 10 GiB upload may take 11.4 h) after 60 s, and 1 GiB left free on the upload disk.
 */
export const DEFAULT_UPLOAD_SETTINGS: UploadSettings = {
  perUser: 2,
  perServer: 4,
  minBytesPerSecond: 256 * 1024,
  graceMs: 60_000,
  diskMarginBytes: 1024 ** 3,
};

export class ConfigProblem extends Error {}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigProblem(`${name} must be an integer from ${min} to ${max}, not "${value}"`);
  return n;
}

function flag(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new ConfigProblem(`${name} must be true or false, not "${value}"`);
}

/**
 * How the engine's secrets are protected, for `npm run serve`. The generated passphrase of
 * the local default lives beside the state it encrypts (automation/engine/engine-env.ts), which is
 * fine for `npm run serve:local` only: a served platform must name its secrets explicitly.
 */
export function engineSecretsSetting(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ODOO_SAAS_SECRETS_PROVIDER) return `secrets provider ${env.ODOO_SAAS_SECRETS_PROVIDER.replace(/\?.*$/, "")}`;
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) return "passphrase from PULUMI_CONFIG_PASSPHRASE_FILE";
  if (env.PULUMI_CONFIG_PASSPHRASE) return "passphrase from PULUMI_CONFIG_PASSPHRASE";
  throw new ConfigProblem(
    "the engine's secrets need an explicit key: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE "
    + "(or ODOO_SAAS_SECRETS_PROVIDER, e.g. awskms://..., for a new stack); the generated passphrase beside the state "
    + "is for `npm run serve:local` only (see automation/README.md, \"Engine secrets\")",
  );
}

/** An optional http(s) URL setting, normalised; anything else is refused naming the setting. */
function httpUrl(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigProblem(`${name} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigProblem(`${name} must be http(s)`);
  return url.toString();
}

function webhook(value: string | undefined): { failureWebhookUrl?: string } {
  const url = httpUrl("ODOO_SAAS_FAILURE_WEBHOOK_URL", value);
  return url === undefined ? {} : { failureWebhookUrl: url };
}

function metricsToken(value: string | undefined): { metricsToken?: string } {
  if (value === undefined || value === "") return {};
  if (value.length < MIN_METRICS_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw new ConfigProblem(`ODOO_SAAS_METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} printable characters without spaces (e.g. openssl rand -hex 32)`);
  }
  return { metricsToken: value };
}

function ingress(value: string | undefined): { ingressUrl?: string } {
  const url = httpUrl("ODOO_SAAS_INGRESS_URL", value);
  return url === undefined ? {} : { ingressUrl: url };
}

function rateRulesFrom(env: NodeJS.ProcessEnv): RateRules {
  const rules: Record<RateAction, RateRule> = { ...DEFAULT_RATE_RULES };
  for (const action of Object.keys(RATE_ENV) as RateAction[]) {
    const name = RATE_ENV[action];
    const value = env[name];
    if (value === undefined || value === "") continue;
    const rule = parseRateRule(value);
    if (rule === undefined) throw new ConfigProblem(`${name} must be "<requests>/<seconds>" with both at least 1 (e.g. "20/600"), not "${value}"`);
    rules[action] = rule;
  }
  return rules;
}

function workersFrom(value: string | undefined): number {
  try {
    return workerCount(value);
  } catch (err) {
    if (err instanceof WorkerCountProblem) throw new ConfigProblem(err.message);
    throw err;
  }
}

/** `npm run serve` needs a database; serve:local starts one when DATABASE_URL is unset. */
export function requireDatabaseUrl(config: SignupServerConfig): string {
  if (config.databaseUrl === undefined) {
    throw new ConfigProblem("DATABASE_URL is required: the PostgreSQL connection string of the records and the work queue (e.g. postgres://user:password@host:5432/odoo_saas); `npm run serve:local` starts a local one");
  }
  return config.databaseUrl;
}

/** Host, port and database only: never the password. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `postgres ${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
  } catch {
    return "postgres (a connection string that is not a URL)";
  }
}

export function fleetStackFile(config: Pick<SignupServerConfig, "fleetDir" | "fleetStack">): string {
  return path.join(config.fleetDir, `Pulumi.${config.fleetStack}.yaml`);
}

/**
 * PORT (8080), HOST (127.0.0.1), ODOO_SAAS_OPS_STACK (dev), ODOO_SAAS_OPS_DIR (repository),
 * ODOO_SAAS_STORE_DIR (.state/signup), SUPABASE_URL (required), SUPABASE_ANON_KEY,
 * SUPABASE_JWKS_URL (<SUPABASE_URL>/auth/v1/.well-known/jwks.json; "none" disables),
 * SUPABASE_JWT_SECRET (enables HS256), SUPABASE_JWT_ISSUER (<SUPABASE_URL>/auth/v1),
 * SUPABASE_JWT_AUDIENCE (authenticated), ODOO_SAAS_ADMIN_CLAIM (app_metadata.role=admin),
 * ODOO_SAAS_TENANT_LIMIT (3), ODOO_SAAS_STORAGE_LIMIT_GB (150), KUBECONFIG, DATABASE_URL, ODOO_SAAS_WORKERS (from free memory),
 * ODOO_SAAS_ALLOW_ANONYMOUS (false), ODOO_SAAS_FAILURE_WEBHOOK_URL (unset), ODOO_SAAS_DEMO (false),
 * ODOO_SAAS_INGRESS_URL (unset: "ready" cannot be observed, so it says "unknown"),
 * ODOO_SAAS_UPLOADS_PER_USER (2), ODOO_SAAS_UPLOADS_PER_SERVER (4), ODOO_SAAS_UPLOAD_MIN_RATE
 * (262144 bytes/s), ODOO_SAAS_UPLOAD_DISK_MARGIN (1073741824 bytes),
 * ODOO_SAAS_RATE_DOWNLOAD (20/600), ODOO_SAAS_RATE_CREDENTIALS (30/600),
 * ODOO_SAAS_RATE_SUSPEND_RESUME (6/3600): "<requests>/<seconds>" per user and per tenant,
 * ODOO_SAAS_SSE_PER_USER (10), ODOO_SAAS_SSE_PER_SERVER (500),
 * ODOO_SAAS_METRICS_TOKEN (unset: GET /metrics refuses; at least 32 characters).
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, root = repoRoot()): SignupServerConfig {
  const supabaseUrl = env.SUPABASE_URL;
  if (supabaseUrl === undefined || supabaseUrl === "") throw new ConfigProblem("SUPABASE_URL is required (e.g. https://<ref>.supabase.co)");
  let base: URL;
  try {
    base = new URL(supabaseUrl);
  } catch {
    throw new ConfigProblem(`SUPABASE_URL "${supabaseUrl}" is not a URL`);
  }
  const trimmed = base.toString().replace(/\/+$/, "");
  const jwksSetting = env.SUPABASE_JWKS_URL;
  const jwksUrl = jwksSetting === "none" ? undefined : (jwksSetting || `${trimmed}/auth/v1/.well-known/jwks.json`);
  const hs256Secret = env.SUPABASE_JWT_SECRET || undefined;
  if (hs256Secret !== undefined && hs256Secret.length < 32) throw new ConfigProblem("SUPABASE_JWT_SECRET is shorter than 32 characters");
  if (jwksUrl === undefined && hs256Secret === undefined) throw new ConfigProblem("SUPABASE_JWKS_URL=none needs SUPABASE_JWT_SECRET: tokens must be verifiable");
  const fleetStack = env.ODOO_SAAS_OPS_STACK || "dev";
  if (!/^[A-Za-z0-9_.-]+$/.test(fleetStack)) throw new ConfigProblem(`ODOO_SAAS_OPS_STACK "${fleetStack}" is not a stack name`);
  const adminClaim = env.ODOO_SAAS_ADMIN_CLAIM || "app_metadata.role=admin";
  try {
    parseAdminClaim(adminClaim);
  } catch (err) {
    throw new ConfigProblem((err as Error).message);
  }
  return {
    host: env.HOST || "127.0.0.1",
    port: integer("PORT", env.PORT, 8080, 0, 65535),
    fleetStack,
    fleetDir: env.ODOO_SAAS_OPS_DIR || root,
    selfServiceStack: `${fleetStack}-selfservice`,
    storeDir: env.ODOO_SAAS_STORE_DIR || path.join(root, ".state", "signup"),
    supabaseUrl: trimmed,
    supabaseAnonKey: env.SUPABASE_ANON_KEY ?? "",
    issuer: env.SUPABASE_JWT_ISSUER || `${trimmed}/auth/v1`,
    audience: env.SUPABASE_JWT_AUDIENCE || "authenticated",
    ...(jwksUrl !== undefined ? { jwksUrl } : {}),
    ...(hs256Secret !== undefined ? { hs256Secret } : {}),
    adminClaim,
    tenantLimit: integer("ODOO_SAAS_TENANT_LIMIT", env.ODOO_SAAS_TENANT_LIMIT, 3, 0, 10_000),
    storageLimitGb: integer("ODOO_SAAS_STORAGE_LIMIT_GB", env.ODOO_SAAS_STORAGE_LIMIT_GB, DEFAULT_STORAGE_LIMIT_GB, 0, 10_000_000),
    ...(env.KUBECONFIG !== undefined ? { kubeconfig: env.KUBECONFIG } : {}),
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    workers: workersFrom(env.ODOO_SAAS_WORKERS),
    allowAnonymous: flag("ODOO_SAAS_ALLOW_ANONYMOUS", env.ODOO_SAAS_ALLOW_ANONYMOUS, false),
    demo: flag("ODOO_SAAS_DEMO", env.ODOO_SAAS_DEMO, false),
    ...ingress(env.ODOO_SAAS_INGRESS_URL),
    ...webhook(env.ODOO_SAAS_FAILURE_WEBHOOK_URL),
    ...metricsToken(env.ODOO_SAAS_METRICS_TOKEN),
    uploads: {
      perUser: integer("ODOO_SAAS_UPLOADS_PER_USER", env.ODOO_SAAS_UPLOADS_PER_USER, DEFAULT_UPLOAD_SETTINGS.perUser, 1, 1000),
      perServer: integer("ODOO_SAAS_UPLOADS_PER_SERVER", env.ODOO_SAAS_UPLOADS_PER_SERVER, DEFAULT_UPLOAD_SETTINGS.perServer, 1, 1000),
      minBytesPerSecond: integer("ODOO_SAAS_UPLOAD_MIN_RATE", env.ODOO_SAAS_UPLOAD_MIN_RATE, DEFAULT_UPLOAD_SETTINGS.minBytesPerSecond, 1024, 2 ** 40),
      graceMs: DEFAULT_UPLOAD_SETTINGS.graceMs,
      diskMarginBytes: integer("ODOO_SAAS_UPLOAD_DISK_MARGIN", env.ODOO_SAAS_UPLOAD_DISK_MARGIN, DEFAULT_UPLOAD_SETTINGS.diskMarginBytes, 0, 2 ** 50),
    },
    rateRules: rateRulesFrom(env),
    streamCaps: {
      perUser: integer("ODOO_SAAS_SSE_PER_USER", env.ODOO_SAAS_SSE_PER_USER, DEFAULT_STREAM_CAPS.perUser, 1, 10_000),
      perServer: integer("ODOO_SAAS_SSE_PER_SERVER", env.ODOO_SAAS_SSE_PER_SERVER, DEFAULT_STREAM_CAPS.perServer, 1, 1_000_000),
    },
  };
}

/** What is configured, safe to print: no secret values. */
export function describeConfig(config: SignupServerConfig): string[] {
  const uploads = config.uploads ?? DEFAULT_UPLOAD_SETTINGS;
  return [
    `fleet stack: ${config.fleetStack} (${fleetStackFile(config)}); self-service tenants: one stack each, ${tenantStackName(config.fleetStack, "<id>")}`,
    `database: ${config.databaseUrl !== undefined ? describeDatabase(config.databaseUrl) : "local (started by serve:local)"}; workers: ${config.workers}`,
    `auth: issuer ${config.issuer}, audience ${config.audience}; ${[
      ...(config.jwksUrl !== undefined ? [`JWKS ${config.jwksUrl}`] : []),
      ...(config.hs256Secret !== undefined ? ["HS256 secret (set)"] : []),
    ].join(" + ")}; admins: ${config.adminClaim}; anonymous sign-ins: ${config.allowAnonymous ? "allowed" : "refused"}`,
    `tenant limit per user: ${config.tenantLimit}; storage per user (deleted-but-kept included): ${config.storageLimitGb ?? DEFAULT_STORAGE_LIMIT_GB} GB`,
    `cluster status: ${config.kubeconfig === "none" ? "disabled" : (config.kubeconfig ?? "kubectl defaults")}; "ready" when /web/health answers through `
      + `${config.ingressUrl !== undefined ? `the ingress at ${config.ingressUrl}` : "the ingress, which is not configured (ODOO_SAAS_INGRESS_URL): Ready pods say \"unknown\""}`
      + `${config.demo === true ? "; demo notice shown (ODOO_SAAS_DEMO)" : ""}`,
    `uploads: at most ${uploads.perUser} per user and ${uploads.perServer} on this server at once, at least ${uploads.minBytesPerSecond} bytes/s, ${uploads.diskMarginBytes} bytes kept free`,
    `rate limits per user and per tenant: ${Object.entries(config.rateRules ?? DEFAULT_RATE_RULES).map(([action, r]) => `${action} ${r.limit}/${r.windowSeconds} s`).join(", ")}; `
      + `open event streams: ${(config.streamCaps ?? DEFAULT_STREAM_CAPS).perUser} per user, ${(config.streamCaps ?? DEFAULT_STREAM_CAPS).perServer} per server`,
    `failed operations: ${config.failureWebhookUrl !== undefined ? "POSTed to a webhook (set)" : "not notified (no ODOO_SAAS_FAILURE_WEBHOOK_URL)"}`,
    `metrics: ${config.metricsToken !== undefined ? "GET /metrics with the bearer token (set)" : "off (no ODOO_SAAS_METRICS_TOKEN)"}`,
  ];
}
