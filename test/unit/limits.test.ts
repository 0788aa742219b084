/**
 * Issue 19's small in-process pieces: caps on open event streams, the credentials read kept
 * per tenant version, reader Job names, and the limits' settings from the environment.
 */
import { expect } from "chai";
import { ApiError } from "../../automation/api-error";
import { CredentialsCache, type Credentials } from "../../automation/credentials-cache";
import { readerJobName } from "../../automation/kube-backup-access";
import { DEFAULT_RATE_RULES } from "../../automation/rate-limits";
import { ConfigProblem, configFromEnv, describeConfig } from "../../automation/server-config";
import { DEFAULT_STREAM_CAPS, StreamSlots } from "../../automation/stream-slots";

function thrown(work: () => unknown): ApiError | undefined {
  try {
    work();
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

describe("limits: streams, credentials reads, reader Jobs, settings", () => {
  describe("open event streams", () => {
    it("caps each user (429) and the server (503), both with Retry-After; a freed slot is free once", () => {
      const slots = new StreamSlots({ perUser: 2, perServer: 3 });
      const ann1 = slots.open("ann");
      slots.open("ann");
      const user = thrown(() => slots.open("ann"));
      expect(user?.status).to.equal(429);
      expect(user?.code).to.equal("too_many_streams");
      expect(Number(user?.headers["Retry-After"])).to.be.above(0);
      slots.open("ben");
      const server = thrown(() => slots.open("cid"));
      expect(server?.status).to.equal(503);
      expect(Number(server?.headers["Retry-After"])).to.be.above(0);
      ann1();
      ann1();
      expect(slots.openCount).to.equal(2);
      expect(thrown(() => slots.open("cid"))).to.equal(undefined);
      expect(thrown(() => slots.open("ann"))?.status, "freed twice counts once").to.equal(503);
    });
  });

  describe("credentials read once per tenant version", () => {
    const creds: Credentials = { url: "https://shop.example", login: "a@example.com", password: "pw-1" };
    const version = { id: "shop", lastOperationId: "op_1", updatedAt: "2026-12-06T10:00:00.000Z", state: "active" as const };

    it("shares one read between concurrent and later calls until the record changes", async () => {
      let reads = 0;
      const cache = new CredentialsCache(async () => {
        reads++;
        await new Promise((r) => setTimeout(r, 20));
        return { ...creds, password: `pw-${reads}` };
      });
      const [x, y] = await Promise.all([cache.get(version), cache.get(version)]);
      expect(await cache.get(version)).to.equal(x);
      expect(y).to.equal(x);
      expect(reads).to.equal(1);
      // A new operation requested, then applied: read again each time.
      expect((await cache.get({ ...version, lastOperationId: "op_2" }))?.password).to.equal("pw-2");
      expect((await cache.get({ ...version, lastOperationId: "op_2", updatedAt: "2026-12-06T11:00:00.000Z" }))?.password).to.equal("pw-3");
      expect(reads).to.equal(3);
    });

    it("keeps neither a failed nor an empty read, and at most its bound of tenants", async () => {
      let answer: "fail" | "none" | "ok" = "fail";
      const cache = new CredentialsCache(async () => {
        if (answer === "fail") throw new Error("engine away");
        return answer === "none" ? undefined : creds;
      }, 2);
      await cache.get(version).catch(() => undefined);
      answer = "none";
      expect(await cache.get(version)).to.equal(undefined);
      answer = "ok";
      expect(await cache.get(version)).to.deep.equal(creds);
      for (const id of ["b", "c", "d"]) await cache.get({ ...version, id });
      expect(cache.size).to.equal(2);
    });
  });

  describe("reader Job names", () => {
    it("differ per download, derive from the backup, and fit a label value (63)", () => {
      const cron = "a-very-long-tenant-name-that-fills-the-limit-nearly-backup";
      const one = readerJobName(cron, "x.zip", "id-1");
      expect(one).to.equal(readerJobName(cron, "x.zip", "id-1"));
      expect(readerJobName(cron, "x.zip", "id-2")).to.not.equal(one);
      expect(readerJobName(cron, "y.zip", "id-1")).to.not.equal(one);
      for (const name of [one, readerJobName("shop-backup", "x.zip", "id-1")]) expect(name).to.match(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      expect(readerJobName("shop-backup", "x.zip", "id-1")).to.match(/^shop-backup-download-[0-9a-f]{12}$/);
    });
  });

  describe("settings", () => {
    const base = { SUPABASE_URL: "https://ref.supabase.test", SUPABASE_JWT_SECRET: "a-test-secret-that-is-long-enough-for-hs256" };

    it("defaults, overrides and refuses malformed values, naming the variable", () => {
      const defaults = configFromEnv(base, "/nowhere");
      expect(defaults.rateRules).to.deep.equal(DEFAULT_RATE_RULES);
      expect(defaults.streamCaps).to.deep.equal(DEFAULT_STREAM_CAPS);
      const set = configFromEnv({ ...base, ODOO_SAAS_RATE_DOWNLOAD: "3/60", ODOO_SAAS_RATE_SUSPEND_RESUME: "2/3600", ODOO_SAAS_SSE_PER_USER: "4", ODOO_SAAS_SSE_PER_SERVER: "40" }, "/nowhere");
      expect(set.rateRules).to.deep.equal({ ...DEFAULT_RATE_RULES, download: { limit: 3, windowSeconds: 60 }, "suspend-resume": { limit: 2, windowSeconds: 3600 } });
      expect(set.streamCaps).to.deep.equal({ perUser: 4, perServer: 40 });
      expect(describeConfig(set).join("\n")).to.include("download 3/60 s").and.include("4 per user, 40 per server");
      for (const [name, value] of [["ODOO_SAAS_RATE_CREDENTIALS", "lots"], ["ODOO_SAAS_RATE_DOWNLOAD", "0/60"], ["ODOO_SAAS_SSE_PER_USER", "0"]] as const) {
        expect(() => configFromEnv({ ...base, [name]: value }, "/nowhere"), name).to.throw(ConfigProblem, name);
      }
    });
  });
});
