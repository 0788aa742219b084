/**
 * Structured log lines (JSON, one per line) with every known secret redacted: the engine
 * passphrase, the HS256 secret, generated admin passwords. Tokens and request bodies are
 * never passed to the logger in the first place.
 */

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

/** JSON lines on a stream (stdout by default); `quiet` drops debug and info. */
export function jsonLogger(redactor: Redactor, options: { write?: (line: string) => void; quiet?: boolean } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  return {
    log(level, message, fields = {}) {
      if (options.quiet && (level === "debug" || level === "info")) return;
      const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg: redactor.redact(message) };
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) entry[key] = typeof value === "string" ? redactor.redact(value) : value;
      }
      write(`${JSON.stringify(entry)}\n`);
    },
  };
}
