// Member names of an uploaded zip are judged before anything else is done with them, in time and
// memory proportional to their length (issue 19, part 1): a 256 KB zip whose two members have
// 32,000 path segments each, and a member name of 60 KB, are refused quickly and in a small heap;
// the limits (zip-entries.ts) are Odoo's real layout with a wide margin.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkUploadedArchive, UploadRefusedError, type UploadLimits } from "../../backup/import/check-upload";
import { MAX_NAME_BYTES, MAX_NAME_DEPTH, MAX_SEGMENT_BYTES, NameRegistry } from "../../backup/import/zip-entries";
import { deepName, zipWithNames } from "../support/upload-zips";
import { rejectionOf, tempDir } from "./helpers";

const LIMITS: UploadLimits = { maxDumpBytes: 1 << 26, maxFilestoreBytes: 1 << 26, maxEntries: 1000, maxCompressionRatio: 100, odooMajor: "17.0" };
const SHA = "0123456789abcdef0123456789abcdef01234567";

async function refusal(file: string): Promise<UploadRefusedError> {
  const err = await rejectionOf(checkUploadedArchive(file, LIMITS));
  if (!(err instanceof UploadRefusedError)) throw err;
  return err;
}

/**
 * The check in a Node process with a 48 MiB heap (the quadratic walk needed gigabytes): its exit
 * status, what it printed, and how long it took.
 */
function checkInSmallHeap(file: string): { status: number | null; out: string; ms: number } {
  const started = Date.now();
  const script = `
    const { checkUploadedArchive } = require(${JSON.stringify(path.resolve(__dirname, "../../backup/import/check-upload.js"))});
    checkUploadedArchive(process.argv[1], ${JSON.stringify(LIMITS)}).then(
      () => console.log("accepted"),
      (err) => console.log(err.code + ": " + err.message),
    );`;
  const r = spawnSync(process.execPath, ["--max-old-space-size=48", "-e", script, file], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, ms: Date.now() - started };
}

describe("uploaded member names: length, depth and segment limits", function () {
  this.timeout(120_000);
  let work: string;
  before(() => {
    work = tempDir("upload-names");
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("refuses the 256 KB zip with two 32,000-segment members quickly, in a 48 MiB heap, as the customer's name_too_long", async () => {
    const file = await zipWithNames(path.join(work, "deep.zip"), [deepName(32_000), `${deepName(32_000).slice(0, -1)}b`]);
    expect(fs.statSync(file).size).to.be.within(250_000, 270_000);
    const started = Date.now();
    const err = await refusal(file);
    expect(Date.now() - started).to.be.below(2000);
    expect(err.code).to.equal("name_too_long");
    expect(err.message).to.match(/^member "filestore\/b\/a\/a.*\.\.\." has a name of 64\d{3} bytes; an Odoo backup's names are at most 1024 bytes long$/);
    const child = checkInSmallHeap(file);
    expect(child.out).to.match(/^name_too_long: /);
    expect(child.status).to.equal(0);
    expect(child.ms).to.be.below(20_000);
  });

  it("refuses a single 60 KB member name (no slash at all) the same way", async () => {
    const file = await zipWithNames(path.join(work, "long.zip"), [`filestore/${"a".repeat(60_000)}`]);
    const err = await refusal(file);
    expect(err.code).to.equal("name_too_long");
    expect(err.message.length).to.be.below(300);
    expect(checkInSmallHeap(file).out).to.match(/^name_too_long: /);
  });

  it("refuses a name deeper than 16 segments, and a segment longer than 255 bytes, each with its reason", async () => {
    const deep = await refusal(await zipWithNames(path.join(work, "d17.zip"), [deepName(MAX_NAME_DEPTH + 1)]));
    expect([deep.code, deep.message]).to.deep.equal(["path_too_deep", `member "${deepName(17)}" is 17 folders deep; an Odoo backup's files are at most 16 deep`]);
    const segment = await refusal(await zipWithNames(path.join(work, "s256.zip"), [`filestore/ab/${"s".repeat(MAX_SEGMENT_BYTES + 1)}`]));
    expect(segment.code).to.equal("name_too_long");
    expect(segment.message).to.include("longer than 255 bytes");
    // 255 bytes of UTF-8 in fewer characters is still over the limit: bytes are what counts
    const wide = await refusal(await zipWithNames(path.join(work, "wide.zip"), [`filestore/ab/${"é".repeat(128)}`]));
    expect(wide.code).to.equal("name_too_long");
  });

  it("accepts Odoo's real layout and names right at every limit (the limits are what refused the others)", async () => {
    const atDepth = deepName(MAX_NAME_DEPTH);
    const atSegment = `filestore/ab/${"s".repeat(MAX_SEGMENT_BYTES)}`;
    const atLength = `filestore/cd/${Array.from({ length: 4 }, (_, i) => `${i}`.repeat(252)).join("/")}`;
    expect(Buffer.byteLength(atLength)).to.equal(MAX_NAME_BYTES);
    const file = await zipWithNames(path.join(work, "ok.zip"), [`filestore/01/${SHA}`, `filestore/checklist/01/${SHA}`, atDepth, atSegment, atLength]);
    const check = await checkUploadedArchive(file, LIMITS);
    expect(check.filestoreFiles).to.equal(5);
  });

  it("records parent folders in time linear in the names, whatever the caps: one name of 20,000 segments, and 100,000 members 16 deep", () => {
    // NameRegistry on its own (no caps before it): the quadratic walk took seconds and 400 MB here
    const deep = new NameRegistry();
    const t0 = Date.now();
    deep.add(deepName(20_000));
    deep.add(`${deepName(20_000).slice(0, -1)}b`);
    expect(Date.now() - t0).to.be.below(500);
    expect(() => deep.add(`${deepName(20_000)}/c`)).to.throw(UploadRefusedError, /more than once/);
    const names = new NameRegistry();
    const started = Date.now();
    for (let i = 0; i < 100_000; i++) names.add(`filestore/${"x/".repeat(13)}${i % 100}/${i}`);
    expect(Date.now() - started).to.be.below(10_000);
    // still refuses a file used as a folder, and the same name twice, deep in the tree
    expect(() => names.add(`filestore/${"x/".repeat(13)}7/7/z`)).to.throw(UploadRefusedError, /more than once/);
    expect(() => names.add(`filestore/${"x/".repeat(13)}7/`)).to.not.throw();
    expect(() => names.add(`filestore/${"x/".repeat(13)}7/`)).to.throw(UploadRefusedError, /more than once/);
    expect(() => names.add(`filestore/${"x/".repeat(13)}`)).to.not.throw();
    expect(() => names.add(`filestore/${"x/".repeat(12)}x`)).to.throw(UploadRefusedError, /more than once/);
  });
});
