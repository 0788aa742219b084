/**
 * Structured log lines: pino, one JSON object per line, with
 * - the context of the work in progress (`withLogContext`): the request id of the HTTP request
 *   that asked for an operation, carried by the operation's record through the queue to the
 *   engine run, so one signup's lines are joined by `requestId`;
 * - secrets kept out twice: pino removes fields named like secrets (authorization, password,
 *   token, passphrase, DATABASE_URL, ...), and the Redactor replaces every registered secret
 *   value (engine passphrase, HS256 secret, database password) and anything shaped like a JWT
 *   wherever it appears. Tokens and request bodies are never passed to the logger anyway.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import * as crypto from "node:crypto";
import pino from "pino";

/** Replaces every registered secret (and anything shaped like a JWT) with "[secret]". */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    // Very short strings would redact ordinary words; real secrets here are long.
    if (secret !== undefined && secret.length >= 8) this.secrets.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join("[secret]");
    }
    return out.replace(/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, "[token]");
  }
}

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

/** What every line logged inside `withLogContext` carries. */
export interface LogContext {
  requestId?: string;
  operation?: string;
}

const context = new AsyncLocalStorage<LogContext>();

/** Runs `work` with `fields` added to every line it logs (nested contexts add to the outer one). */
export function withLogContext<T>(fields: LogContext, work: () => T): T {
  return context.run({ ...(context.getStore() ?? {}), ...fields }, work);
}

export function logContext(): LogContext {
  return context.getStore() ?? {};
}

/** An incoming X-Request-Id is kept when it is short and plain (it goes into logs and records); otherwise a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === "string" && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(header) ? header : crypto.randomUUID();
}

/** Field names whose values never reach a line, at the top level or one object down. */
const SECRET_FIELDS = [
  "authorization", "Authorization", "cookie", "password", "adminPassword", "token", "accessToken", "ticket",
  "passphrase", "secret", "hs256Secret", "DATABASE_URL", "databaseUrl", "PULUMI_CONFIG_PASSPHRASE", "SUPABASE_JWT_SECRET",
  "ODOO_SAAS_METRICS_TOKEN", "metricsToken",
];
export const REDACT_PATHS = [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`), "headers.authorization", "*.headers.authorization", "req.headers.authorization"];

/** JSON lines on a stream (stdout by default); `quiet` drops debug and info. */
export function jsonLogger(redactor: Redactor, options: { write?: (line: string) => void; quiet?: boolean } = {}): Logger {
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const logger = pino(
    {
      level: options.quiet ? "warn" : "debug",
      base: undefined,
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: "[secret]" },
      mixin: () => ({ ...logContext() }),
    },
    // A synchronous destination: a line is written (and a test sees it) when log() returns.
    { write },
  );
  return {
    log(level, message, fields = {}) {
      const entry: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) entry[key] = typeof value === "string" ? redactor.redact(value) : value;
      }
      logger[level](entry, redactor.redact(message));
    },
  };
}
