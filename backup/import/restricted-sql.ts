// The checked dump.sql, as psql will read it: inside our own `\restrict <key>` (psql >= 17.6,
// 16.10, 15.14), so psql itself refuses every meta-command (`\!`, `\copy`, `\o`, ...) even if the
// lexer in sql-dump-check.ts and psql ever disagreed. pg_dump's own `\restrict`/`\unrestrict`
// lines are dropped: nested, they would be refused, and ours stays on to the end.
import { randomBytes } from "node:crypto";
import { Transform, TransformCallback } from "node:stream";

const PG_DUMP_RESTRICT_LINE = /^\\(?:un)?restrict [A-Za-z0-9]{1,64}\r?$/;

export class RestrictedSql extends Transform {
  private carry = "";
  readonly key = randomBytes(24).toString("hex");

  constructor() {
    super();
    this.push(`\\restrict ${this.key}\n`);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    // latin1 maps bytes 1:1, so multi-byte UTF-8 split across chunks passes through unchanged.
    const text = this.carry + chunk.toString("latin1");
    const lines = text.split("\n");
    this.carry = lines.pop() ?? "";
    const kept = lines.filter((line) => !PG_DUMP_RESTRICT_LINE.test(line));
    if (kept.length > 0) this.push(Buffer.from(kept.join("\n") + "\n", "latin1"));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.carry !== "" && !PG_DUMP_RESTRICT_LINE.test(this.carry)) this.push(Buffer.from(this.carry, "latin1"));
    done();
  }
}

/** psql's major.minor, e.g. [15, 18]; `\restrict` exists from 15.14, 16.10, 17.6 and 18. */
export function psqlSupportsRestrict(version: string): boolean {
  const m = /\b(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major >= 18) return true;
  const since: Record<number, number> = { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 };
  return Object.hasOwn(since, major) && minor >= (since[major] as number);
}
