// Streams dump.sql and refuses anything that is more than a plain dump of one database. The dump
// is replayed with `psql -v ON_ERROR_STOP=1` as the tenant database's owner: psql meta-commands
// (`\!`, `\copy`, `\i`, `\o`, `\connect`, ...) would run on the restore host, and some statements
// reach beyond the one database (roles, other databases, server settings, programs, extensions).
//
// To know what psql will treat as a command, this follows psql's own lexer (psqlscan.l): quotes,
// E'' strings, "identifiers", $tag$ bodies, -- and nested /* */ comments, statement ends at `;`
// outside parentheses, and COPY ... FROM stdin data blocks (until a line that is exactly `\.`),
// whose lines are data and never interpreted. See backup/README.md ("Uploaded databases").
import { UploadRefusedError } from "./refusal";

/** Extensions a dump may create; Odoo uses these (plpgsql is built in, older pg_dump names it). */
export const ALLOWED_EXTENSIONS: readonly string[] = ["plpgsql", "pg_trgm", "unaccent"];

/** Functions pg_dump calls with SELECT (search path, sequences, large objects). */
const ALLOWED_SELECT_FUNCTIONS = new Set(["SET_CONFIG", "SETVAL", "LO_CREATE", "LO_OPEN", "LOWRITE", "LO_CLOSE", "LO_UNLINK"]);

/** A line outside COPY data longer than this is refused (COPY data lines may be any length). */
export const MAX_SQL_LINE = 64 * 1024 * 1024;

const HEAD_TOKENS = 32;
const TAIL_TOKENS = 6;
const STRING_CAPTURE = 64;

type LexState = "normal" | "squote" | "estring" | "dquote" | "dollar" | "blockcomment";

const isIdentStart = (c: string) => /[A-Za-z_\x80-\xff]/.test(c);
const isIdentCont = (c: string) => /[A-Za-z0-9_$\x80-\xff]/.test(c);
const DOLLAR_DELIM = /\$(?:[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)?\$/y;
/** pg_dump 17.6+/16.10+/... brackets dumps in `\restrict KEY` ... `\unrestrict KEY`; these run nothing. */
const RESTRICT_LINE = /^\s*\\(?:un)?restrict [A-Za-z0-9]+\s*$/;

export interface SqlDumpSummary {
  bytes: number;
  lines: number;
  copyBlocks: number;
}

export class SqlDumpChecker {
  private bytes = 0;
  private head = "";
  private lineNo = 1;
  private pending = "";
  // COPY ... FROM stdin data: 0 at a line start, 1 after "\", 2 after "\.", 3 after "\.\r", -1 inside a data line
  private inCopy = false;
  private copyPos = 0;
  private copyPending = false;
  private copyBlocks = 0;
  // lexer
  private state: LexState = "normal";
  private blockDepth = 0;
  private dollarTag = "";
  private captured = "";
  // current statement
  private head_: string[] = [];
  private tail: string[] = [];
  private tokenCount = 0;
  private parenDepth = 0;
  private sawProgram = false;
  private sawSensitiveSetting = false;

  /** Feeds the next bytes of dump.sql; throws UploadRefusedError as soon as something is refused. */
  push(chunk: Buffer): void {
    if (this.bytes < 5) {
      this.head += chunk.subarray(0, 5 - this.bytes).toString("latin1");
      if (this.head.startsWith("PGDMP")) {
        throw new UploadRefusedError("custom_format_dump", "dump.sql is a PostgreSQL custom-format dump; a plain SQL dump is needed (pg_dump --format=plain, or Odoo's \"zip\" backup)");
      }
    }
    this.bytes += chunk.length;
    // latin1 maps each byte to one character: psql's lexer only looks at ASCII, and in UTF-8 every
    // byte of a multi-byte character is >= 0x80, so nothing is lost for this purpose.
    const s = chunk.toString("latin1");
    let i = 0;
    while (i < s.length) {
      if (this.inCopy) {
        i = this.copyData(s, i);
        continue;
      }
      const nl = s.indexOf("\n", i);
      if (nl === -1) {
        this.pending += s.slice(i);
        if (this.pending.length > MAX_SQL_LINE) this.refuse("sql_unsupported", "has an implausibly long line of SQL");
        break;
      }
      const line = this.pending + s.slice(i, nl + 1);
      this.pending = "";
      i = nl + 1;
      this.lexLine(line);
      this.lineNo++;
      if (this.copyPending) {
        this.copyPending = false;
        this.inCopy = true;
        this.copyPos = 0;
      }
    }
  }

  /** After the last byte: the dump must not end inside a COPY block, string or comment. */
  end(): SqlDumpSummary {
    if (this.pending.length > 0) {
      const line = this.pending;
      this.pending = "";
      this.lexLine(line);
    }
    if (this.copyPending) this.copyPending = false;
    else if (this.inCopy && this.copyPos !== 2 && this.copyPos !== 3) {
      this.refuse("truncated_dump", "ends inside a COPY data block (the dump is incomplete)");
    }
    if (this.state !== "normal") this.refuse("truncated_dump", "ends inside a quoted string or comment (the dump is incomplete)");
    // psql sends a last statement without `;` at the end of its input
    this.endStatement();
    return { bytes: this.bytes, lines: this.lineNo, copyBlocks: this.copyBlocks };
  }

  private refuse(code: "sql_meta_command" | "sql_forbidden_statement" | "sql_unsupported" | "truncated_dump", what: string): never {
    throw new UploadRefusedError(code, `line ${this.lineNo} of dump.sql ${what}`);
  }

  private copyData(s: string, start: number): number {
    let i = start;
    while (i < s.length) {
      if (this.copyPos === -1) {
        const nl = s.indexOf("\n", i);
        if (nl === -1) return s.length;
        i = nl + 1;
        this.lineNo++;
        this.copyPos = 0;
        continue;
      }
      const c = s[i];
      i++;
      if (c === "\n") {
        const terminator = this.copyPos === 2 || this.copyPos === 3;
        this.lineNo++;
        this.copyPos = 0;
        if (terminator) {
          this.inCopy = false;
          return i;
        }
      } else if (this.copyPos === 0 && c === "\\") this.copyPos = 1;
      else if (this.copyPos === 1 && c === ".") this.copyPos = 2;
      else if (this.copyPos === 2 && c === "\r") this.copyPos = 3;
      else this.copyPos = -1;
    }
    return i;
  }

  private lexLine(line: string): void {
    if (line.includes("\0")) this.refuse("sql_unsupported", "contains a NUL byte outside COPY data");
    let i = 0;
    while (i < line.length) {
      switch (this.state) {
        case "squote":
          i = this.readQuoted(line, i, "'");
          break;
        case "estring": {
          const c = line[i];
          if (c === "\\") {
            i += 2;
          } else if (c === "'" && line[i + 1] === "'") {
            i += 2;
          } else if (c === "'") {
            this.state = "normal";
            this.token("'…'");
            i += 1;
          } else {
            i += 1;
          }
          break;
        }
        case "dquote":
          i = this.readQuoted(line, i, '"');
          break;
        case "dollar": {
          const end = line.indexOf(this.dollarTag, i);
          if (end === -1) i = line.length;
          else {
            this.state = "normal";
            this.token("$…$");
            i = end + this.dollarTag.length;
          }
          break;
        }
        case "blockcomment": {
          if (line.startsWith("/*", i)) {
            this.blockDepth++;
            i += 2;
          } else if (line.startsWith("*/", i)) {
            this.blockDepth--;
            i += 2;
            if (this.blockDepth === 0) this.state = "normal";
          } else i += 1;
          break;
        }
        case "normal":
          i = this.normal(line, i);
          break;
      }
    }
  }

  /** Inside a '…' string or a "…" identifier (the quote doubled stands for itself); returns where to go on. */
  private readQuoted(line: string, i: number, quote: "'" | '"'): number {
    const q = line.indexOf(quote, i);
    if (q === -1) {
      this.capture(line.slice(i));
      return line.length;
    }
    if (line[q + 1] === quote) {
      this.capture(line.slice(i, q + 1));
      return q + 2;
    }
    this.capture(line.slice(i, q));
    this.state = "normal";
    this.token(`${quote}${this.captured}${quote}`);
    return q + 1;
  }

  private capture(text: string): void {
    if (this.captured.length < STRING_CAPTURE) this.captured = (this.captured + text).slice(0, STRING_CAPTURE + 1);
  }

  private normal(line: string, i: number): number {
    const c = line[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") return i + 1;
    if (this.copyPending) {
      this.refuse("sql_unsupported", "has more text after a COPY ... FROM stdin statement on the same line");
    }
    if (c === "\\") {
      if (line.slice(0, i).trim() === "" && RESTRICT_LINE.test(line)) return line.length;
      const command = /^\\(?:[A-Za-z]+|.)/.exec(line.slice(i, i + 40))?.[0] ?? "\\";
      this.refuse(
        "sql_meta_command",
        // Quoted as written (JSON.stringify would double the backslash the customer never typed).
        `contains the psql command "${command.replace(/[^\x21-\x7e]/g, "?")}"; a database dump must be plain SQL (psql commands would run on our restore server)`,
      );
    }
    if (c === "-" && line[i + 1] === "-") return line.length;
    if (c === "/" && line[i + 1] === "*") {
      this.state = "blockcomment";
      this.blockDepth = 1;
      return i + 2;
    }
    if (c === "'") {
      this.state = "squote";
      this.captured = "";
      return i + 1;
    }
    if (c === '"') {
      this.state = "dquote";
      this.captured = "";
      return i + 1;
    }
    if (c === "$") {
      DOLLAR_DELIM.lastIndex = i;
      const m = DOLLAR_DELIM.exec(line);
      if (m) {
        this.state = "dollar";
        this.dollarTag = m[0];
        return i + m[0].length;
      }
      this.token("$");
      return i + 1;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < line.length && isIdentCont(line[j]!)) j++;
      const word = line.slice(i, j);
      if ((word === "E" || word === "e") && line[j] === "'") {
        this.state = "estring";
        return j + 1;
      }
      this.token(word.toUpperCase());
      return j;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(line[i + 1] ?? ""))) {
      // A number and what sticks to it: "1e'...'" is 1 then an E'' string for psql up to 15, but
      // one junk token then a plain string for psql 16+; the two disagree on where the string
      // ends, so a quote right after a number is refused.
      let j = i + 1;
      while (j < line.length && /[0-9.]/.test(line[j]!)) j++;
      if (j < line.length && isIdentStart(line[j]!)) {
        j++;
        while (j < line.length && isIdentCont(line[j]!)) j++;
      }
      if (line[j] === "'") this.refuse("sql_unsupported", "has a quote right after a number, which psql versions read differently");
      this.token(line.slice(i, j));
      return j;
    }
    if (c === ":") {
      const next = line[i + 1] ?? "";
      if (next === ":") {
        this.token("::");
        return i + 2;
      }
      if (next === "'" || next === '"' || next === "{" || isIdentStart(next)) {
        this.refuse("sql_meta_command", "uses a psql variable (\":name\"); a database dump must be plain SQL");
      }
    }
    if (c === "(") this.parenDepth++;
    if (c === ")" && this.parenDepth > 0) this.parenDepth--;
    if (c === ";") {
      if (this.parenDepth > 0) this.refuse("sql_unsupported", "has a semicolon inside parentheses");
      this.endStatement();
      return i + 1;
    }
    this.token(c);
    return i + 1;
  }

  private token(t: string): void {
    this.tokenCount++;
    if (this.head_.length < HEAD_TOKENS) this.head_.push(t);
    this.tail.push(t);
    if (this.tail.length > TAIL_TOKENS) this.tail.shift();
    const bare = t.startsWith("'") || t.startsWith('"') ? t.slice(1, -1).toUpperCase() : t;
    if (bare === "PROGRAM") this.sawProgram = true;
    if (bare === "STANDARD_CONFORMING_STRINGS" || bare === "CLIENT_ENCODING") this.sawSensitiveSetting = true;
    // psql does not end a statement at `;` inside BEGIN ... END of CREATE FUNCTION/PROCEDURE
    // (SQL-standard bodies). pg_dump of an Odoo database has none; refusing them keeps our idea of
    // where statements end the same as psql's.
    if (t === "BEGIN" && this.head_[0] === "CREATE" && this.head_.slice(1, 4).some((w) => w === "FUNCTION" || w === "PROCEDURE")) {
      this.refuse("sql_unsupported", "has a CREATE FUNCTION/PROCEDURE with BEGIN ... END (SQL-standard function bodies are not supported)");
    }
  }

  private endStatement(): void {
    const words = this.head_;
    const tail = this.tail;
    const count = this.tokenCount;
    const sawProgram = this.sawProgram;
    const sensitive = this.sawSensitiveSetting;
    this.head_ = [];
    this.tail = [];
    this.tokenCount = 0;
    this.parenDepth = 0;
    this.sawProgram = false;
    this.sawSensitiveSetting = false;
    if (count === 0) return;
    const forbidden = (why: string): never => this.refuse("sql_forbidden_statement", why);
    const [w0, w1, w2] = words;

    if (sensitive) {
      // psql's lexer depends on these two settings; only pg_dump's own header lines may set them.
      const value = (words[3] ?? "").replace(/^'|'$/g, "").toUpperCase();
      const exact = count === 4 && w0 === "SET" && (words[2] === "=" || words[2] === "TO");
      const ok =
        exact &&
        ((w1 === "STANDARD_CONFORMING_STRINGS" && value === "ON") || (w1 === "CLIENT_ENCODING" && (value === "UTF8" || value === "UTF-8")));
      if (!ok) forbidden("changes standard_conforming_strings or client_encoding; only pg_dump's own SET lines (on, UTF8) are accepted");
    }
    if (w0 === "COPY") {
      if (sawProgram) forbidden("has COPY ... PROGRAM, which would run a program on the database server");
      const n = tail.length;
      if (n < 2 || tail[n - 2] !== "FROM" || tail[n - 1] !== "STDIN") {
        forbidden("has a COPY that does not load data from the dump itself (only COPY ... FROM stdin is accepted)");
      }
      this.copyPending = true;
      this.copyBlocks++;
      return;
    }
    if ((w0 === "CREATE" || w0 === "ALTER" || w0 === "DROP") && (w1 === "ROLE" || w1 === "USER" || w1 === "GROUP")) {
      forbidden(`has ${w0} ${w1}; roles are managed by the platform, not by a database dump`);
    }
    if ((w0 === "CREATE" || w0 === "ALTER" || w0 === "DROP") && w1 === "DATABASE") {
      forbidden(`has ${w0} DATABASE; a dump must hold one database's contents only`);
    }
    if (w0 === "ALTER" && w1 === "SYSTEM") forbidden("has ALTER SYSTEM, which changes the database server's configuration");
    if (w0 === "LOAD") forbidden("has LOAD, which loads a library into the database server");
    if (w0 === "DO") forbidden("has a DO block; pg_dump does not write them, and code run during a restore is not accepted");
    if (w0 === "SET" || w0 === "RESET") {
      const rest = words.slice(1).filter((w) => w !== "SESSION" && w !== "LOCAL");
      if (rest[0] === "ROLE" || rest[0] === "AUTHORIZATION") forbidden(`has ${w0} ROLE / SESSION AUTHORIZATION; the restore runs as the instance's own database user`);
    }
    if (w0 === "CREATE" || w0 === "ALTER" || w0 === "DROP") {
      const kind = words.slice(1).filter((w) => w !== "OR" && w !== "REPLACE" && w !== "TRUSTED" && w !== "PROCEDURAL");
      if (kind[0] === "LANGUAGE") forbidden(`has ${w0} LANGUAGE; only the built-in languages are available`);
      if (kind[0] === "SUBSCRIPTION" || kind[0] === "SERVER" || kind[0] === "TABLESPACE" || (kind[0] === "FOREIGN" && kind[1] === "DATA")) {
        forbidden(`has ${w0} ${kind[0]}, which reaches beyond one database`);
      }
    }
    if (w0 === "ALTER" && w1 === "EXTENSION") forbidden("has ALTER EXTENSION");
    if (w0 === "CREATE" && w1 === "EXTENSION") {
      let k = 2;
      if (words[k] === "IF" && words[k + 1] === "NOT" && words[k + 2] === "EXISTS") k += 3;
      const raw = words[k] ?? "";
      const name = raw.startsWith('"') ? raw.slice(1, -1) : raw.toLowerCase();
      if (!ALLOWED_EXTENSIONS.includes(name)) {
        forbidden(`creates the extension ${JSON.stringify(name.slice(0, 64))}; only ${ALLOWED_EXTENSIONS.join(", ")} are available`);
      }
    }
    if (w0 === "SELECT") {
      const f = w1 === "PG_CATALOG" && w2 === "." ? 3 : 1;
      const fn = words[f] ?? "";
      if (!ALLOWED_SELECT_FUNCTIONS.has(fn) || words[f + 1] !== "(") {
        forbidden("has a SELECT that calls something other than pg_dump's own functions (set_config, setval, large objects)");
      }
      if (fn === "SET_CONFIG" && words[f + 2] !== "'search_path'") forbidden("has a set_config other than pg_dump's search_path");
    }
  }
}
