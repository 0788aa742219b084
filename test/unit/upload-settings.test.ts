// The upload bounds' settings (server-config.ts) and this server's places and disk room
// (upload-admission.ts), on the real file system of the OS temp folder.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import { ApiError } from "../../automation/api-error";
import { ConfigProblem, configFromEnv, DEFAULT_UPLOAD_SETTINGS, describeConfig } from "../../automation/server-config";
import { uploadDeadlineMs, UploadSlots } from "../../automation/upload-admission";

const base = { SUPABASE_URL: "https://abc.supabase.co/" };

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("upload bounds: settings, places, disk room and deadline", () => {
  it("reads ODOO_SAAS_UPLOADS_PER_USER/_PER_SERVER/UPLOAD_MIN_RATE/UPLOAD_DISK_MARGIN with documented defaults, and refuses nonsense", () => {
    expect(configFromEnv(base, "/repo").uploads).to.deep.equal({ perUser: 2, perServer: 4, minBytesPerSecond: 262_144, graceMs: 60_000, diskMarginBytes: 1024 ** 3 });
    const set = configFromEnv({ ...base, ODOO_SAAS_UPLOADS_PER_USER: "1", ODOO_SAAS_UPLOADS_PER_SERVER: "8", ODOO_SAAS_UPLOAD_MIN_RATE: "1048576", ODOO_SAAS_UPLOAD_DISK_MARGIN: "0" }, "/repo");
    expect(set.uploads).to.include({ perUser: 1, perServer: 8, minBytesPerSecond: 1_048_576, diskMarginBytes: 0 });
    expect(describeConfig(set).join("\n")).to.contain("uploads: at most 1 per user and 8 on this server at once, at least 1048576 bytes/s, 0 bytes kept free");
    for (const [name, value] of [["ODOO_SAAS_UPLOADS_PER_USER", "0"], ["ODOO_SAAS_UPLOADS_PER_SERVER", "many"], ["ODOO_SAAS_UPLOAD_MIN_RATE", "10"], ["ODOO_SAAS_UPLOAD_DISK_MARGIN", "-1"]] as const) {
      expect(() => configFromEnv({ ...base, [name]: value }, "/repo"), name).to.throw(ConfigProblem, name);
    }
  });

  it("gives an upload its size at the floor rate after the grace: a 10 GiB plan limit 11.4 h at the defaults", () => {
    expect(uploadDeadlineMs(60_000, { ...DEFAULT_UPLOAD_SETTINGS, minBytesPerSecond: 20_000, graceMs: 1000 })).to.equal(4000);
    expect(uploadDeadlineMs(10 * 1024 ** 3, DEFAULT_UPLOAD_SETTINGS) / 3_600_000).to.be.closeTo(11.4, 0.05);
  });

  it("takes at most perServer places and gives each back once; refuses 507 when the upload would not leave the margin free", async () => {
    const disk = fs.statfsSync(os.tmpdir());
    const free = disk.bavail * disk.bsize;
    const slots = new UploadSlots({ ...DEFAULT_UPLOAD_SETTINGS, perServer: 2, diskMarginBytes: free / 2 }, os.tmpdir());
    const one = await slots.take(1000);
    const two = await slots.take(1000);
    const busy = await refusal(slots.take(1000));
    expect([busy.status, busy.code, busy.headers["Retry-After"]]).to.deep.equal([429, "uploads_busy", "60"]);
    one();
    one();
    expect(slots.inUse).to.equal(1);
    // three quarters of the disk would not leave half of it free (other processes' writes are far smaller)
    const full = await refusal(slots.take(Math.ceil(free * 0.75)));
    expect([full.status, full.code, full.headers["Retry-After"]]).to.deep.equal([507, "no_room_for_upload", "600"]);
    expect(full.message).to.equal("we have no room for a file this large right now; nothing was changed, please try again later");
    two();
    expect(slots.inUse).to.equal(0);
    (await slots.take(Math.floor(free / 8)))();
  });
});
