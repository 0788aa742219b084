import { expect } from "chai";
import { assertSafeObjectName, formatBackupName, parseBackupName, parseCompactUtc } from "../../backup/backup-name";
import { readBackupConfig, readCommonConfig, readRestoreConfig, redact, secretValues } from "../../backup/config";
import { fitDatabaseName } from "../../backup/pg/database-admin";
import { majorVersionOf, versionInfoOf } from "../../backup/archive/manifest";
import { tenantIdProblem } from "../../tenants/schema";

const BASE = {
  TENANT_ID: "acme",
  ODOO_VERSION: "17.0",
  PGHOST: "db",
  PGUSER: "odoo",
  PGPASSWORD: "s3cr3t-pw",
  PGDATABASE: "acme",
  FILESTORE_DIR: "/var/lib/odoo/filestore/acme",
};

describe("backup names", () => {
  it("sort by time and round-trip through parse", () => {
    const a = formatBackupName("acme", new Date("2024-05-01T02:00:00.123Z"), "scheduled");
    const b = formatBackupName("acme", new Date("2024-12-31T23:59:59Z"), "on-demand");
    expect(a).to.equal("acme-20240501T020000Z-scheduled.zip");
    expect(b).to.equal("acme-20241231T235959Z-on-demand.zip");
    expect([b, a].sort()).to.deep.equal([a, b]);
    expect(parseBackupName("acme", b)).to.deep.equal({ tenant: "acme", created: new Date("2024-12-31T23:59:59Z"), kind: "on-demand" });
  });

  it("do not confuse tenants that share a prefix, and reject impossible dates", () => {
    expect(parseBackupName("acme", "acme-corp-20240501T020000Z-scheduled.zip")).to.equal(undefined);
    expect(parseBackupName("acme", "acme-20241301T020000Z-scheduled.zip")).to.equal(undefined);
    expect(parseCompactUtc("20240230T000000Z")).to.equal(undefined);
    expect(parseBackupName("acme", "acme-20240501T020000Z-weekly.zip")).to.equal(undefined);
  });

  it("store names are single safe file names", () => {
    for (const bad of ["", "../x.zip", "a/b.zip", ".hidden.zip", "a\\b.zip", "x..zip", "a\nb.zip"]) {
      expect(() => assertSafeObjectName(bad), bad).to.throw(/refusing backup name/);
    }
    expect(assertSafeObjectName("acme-20240501T020000Z-scheduled.zip")).to.equal("acme-20240501T020000Z-scheduled.zip");
  });

  it("temporary database names stay within PostgreSQL's 63 bytes, on character boundaries", () => {
    const name = fitDatabaseName("ü".repeat(40), "_pre_restore_20240501T020000Z");
    expect(Buffer.byteLength(name)).to.be.at.most(63);
    expect(name.endsWith("_pre_restore_20240501T020000Z")).to.equal(true);
    expect(name).to.not.include("\ufffd");
    expect(fitDatabaseName("short", "_restore_x")).to.equal("short_restore_x");
  });

  it("Odoo major versions", () => {
    expect(versionInfoOf("17.0")).to.deep.equal([17, 0, 0, "final", 0, ""]);
    expect(versionInfoOf("18.0-20250101")).to.deep.equal([18, 0, 0, "final", 0, ""]);
    expect(versionInfoOf("saas~17.2")).to.deep.equal(["saas~17", 2, 0, "final", 0, ""]);
    expect(majorVersionOf("17.0")).to.equal("17.0");
    expect(majorVersionOf("18.0-20250101")).to.equal("18.0");
    expect(majorVersionOf("saas~17.2")).to.equal("saas~17.2");
  });
});

describe("environment contract", () => {
  it("reads a complete backup configuration with defaults", () => {
    const config = readBackupConfig(BASE);
    expect(config.tenant).to.equal("acme");
    expect(config.kind).to.equal("scheduled");
    expect(config.store).to.deep.equal({ kind: "pvc", dir: "/backups" });
    expect(config.retention).to.deep.equal({ daily: 7, weekly: 4, monthly: 3, onDemand: 5 });
    expect(config.pg).to.include({ host: "db", port: 5432, user: "odoo", database: "acme", maintenanceDatabase: "postgres" });
    expect(readBackupConfig({ ...BASE, BACKUP_KIND: "on-demand" }).kind).to.equal("on-demand");
    expect(readBackupConfig({ ...BASE, BACKUP_KIND: "on-demand" }, "scheduled").kind).to.equal("scheduled");
  });

  it("names the variable in every error", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...BASE, TENANT_ID: "" }, /TENANT_ID is required/],
      [{ ...BASE, TENANT_ID: "Acme Corp" }, /TENANT_ID is not a valid tenant id: .*not a DNS label/],
      // The schema's one rule (tenants/tenant-id.ts), not a looser DNS-1123 one.
      [{ ...BASE, TENANT_ID: "1acme" }, /TENANT_ID is not a valid tenant id: .*starting with a letter/],
      [{ ...BASE, TENANT_ID: "a".repeat(41) }, /TENANT_ID is not a valid tenant id: .*41 characters; at most 40/],
      [{ ...BASE, TENANT_ID: "kube-system" }, /TENANT_ID is not a valid tenant id: .*reserved/],
      // Names every JavaScript object has are data like any other.
      [{ ...BASE, TENANT_ID: "__proto__" }, /TENANT_ID is not a valid tenant id/],
      [{ ...BASE, BACKUP_STORE: "toString" }, /BACKUP_STORE must be "pvc" or "s3"; got "toString"/],
      [{ ...BASE, BACKUP_STORE: "__proto__" }, /BACKUP_STORE must be "pvc" or "s3"; got "__proto__"/],
      [{ ...BASE, BACKUP_KIND: "constructor" }, /BACKUP_KIND must be "scheduled" or "on-demand"; got "constructor"/],
      [{ ...BASE, PGPORT: "54x" }, /PGPORT must be a whole number/],
      [{ ...BASE, PGHOST: "" }, /PGHOST is required/],
      [{ ...BASE, PGDATABASE: "x".repeat(64) }, /PGDATABASE must be at most 63 bytes/],
      [{ ...BASE, FILESTORE_DIR: "relative/dir" }, /FILESTORE_DIR must be an absolute path/],
      [{ ...BASE, ODOO_VERSION: "" }, /ODOO_VERSION is required/],
      [{ ...BASE, ODOO_VERSION: "master" }, /ODOO_VERSION must start with an Odoo series such as 17.0/],
      [{ ...BASE, BACKUP_STORE: "ftp" }, /BACKUP_STORE must be "pvc" or "s3"/],
      [{ ...BASE, BACKUP_KEEP: "7" }, /BACKUP_KEEP is no longer read: retention is BACKUP_RETENTION_DAILY, BACKUP_RETENTION_WEEKLY, BACKUP_RETENTION_MONTHLY and BACKUP_RETENTION_ON_DEMAND/],
      [{ ...BASE, BACKUP_RETENTION_DAILY: "-1" }, /BACKUP_RETENTION_DAILY must be a whole number from 0 to 1000; got "-1"/],
      [{ ...BASE, BACKUP_RETENTION_WEEKLY: "2.5" }, /BACKUP_RETENTION_WEEKLY must be a whole number from 0 to 1000; got "2.5"/],
      [{ ...BASE, BACKUP_RETENTION_MONTHLY: "1001" }, /BACKUP_RETENTION_MONTHLY must be a whole number from 0 to 1000/],
      [{ ...BASE, BACKUP_RETENTION_ON_DEMAND: "five" }, /BACKUP_RETENTION_ON_DEMAND must be a whole number from 0 to 1000/],
      [{ ...BASE, BACKUP_RETENTION_DAILY: "0", BACKUP_RETENTION_WEEKLY: "0", BACKUP_RETENTION_MONTHLY: "0" }, /BACKUP_RETENTION_DAILY, BACKUP_RETENTION_WEEKLY and BACKUP_RETENTION_MONTHLY are all 0/],
      [{ ...BASE, BACKUP_KIND: "weekly" }, /BACKUP_KIND must be "scheduled" or "on-demand"/],
      [{ ...BASE, BACKUP_STORE: "s3" }, /S3_BUCKET is required/],
      [{ ...BASE, BACKUP_STORE: "s3", S3_BUCKET: "b", S3_ENDPOINT: "ftp://x" }, /S3_ENDPOINT must be an http\(s\) URL/],
      [{ ...BASE, BACKUP_STORE: "s3", S3_BUCKET: "b", S3_PREFIX: "a/../b" }, /S3_PREFIX/],
      [{ ...BASE, BACKUP_STORE: "s3", S3_BUCKET: "b", AWS_ACCESS_KEY_ID: "AKIA" }, /AWS_SECRET_ACCESS_KEY is required/],
      [{ ...BASE, BACKUP_STORE: "s3", S3_BUCKET: "b", S3_FORCE_PATH_STYLE: "maybe" }, /S3_FORCE_PATH_STYLE must be true or false/],
    ];
    for (const [env, message] of cases) expect(() => readBackupConfig(env), message.source).to.throw(message);
    expect(() => readBackupConfig(BASE, "weekly")).to.throw(/--kind must be/);
    expect(() => readRestoreConfig({ ...BASE, RESTORE_KEEP_PREVIOUS: "perhaps" })).to.throw(/RESTORE_KEEP_PREVIOUS/);
  });

  it("uses the tenant schema's id rule: what the schema accepts, the backup accepts, and nothing else", () => {
    const ids = ["acme", "a1", "constructor", "1acme", "-a", "a-", "Acme", "a".repeat(40), "a".repeat(41), "a".repeat(63), "kube-x", "tenant-a", "www", "__proto__", "toString"];
    for (const id of ids) {
      const schemaOk = tenantIdProblem(id) === undefined;
      const backupOk = (() => {
        try {
          readCommonConfig({ TENANT_ID: id });
          return true;
        } catch {
          return false;
        }
      })();
      expect(backupOk, id).to.equal(schemaOk);
    }
  });

  it("reads only the environment's own variables, never inherited ones", () => {
    const inherited = Object.create({ PGHOST: "evil", PGDATABASE: "evil" }) as Record<string, string>;
    Object.assign(inherited, { ...BASE, PGHOST: undefined, PGDATABASE: undefined });
    expect(() => readBackupConfig(inherited)).to.throw(/PGDATABASE is required|PGHOST is required/);
  });

  it("list and prune need only the tenant and the store", () => {
    const config = readCommonConfig({ TENANT_ID: "acme", BACKUP_STORE: "s3", S3_BUCKET: "b", S3_PREFIX: "/platform/", S3_FORCE_PATH_STYLE: "true" });
    expect(config.store).to.deep.include({ kind: "s3", bucket: "b", prefix: "platform", forcePathStyle: true, region: "us-east-1" });
  });

  it("redacts secret values from messages", () => {
    const secrets = secretValues({ PGPASSWORD: "s3cr3t-pw", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI" });
    expect(redact("password s3cr3t-pw and wJalrXUtnFEMI!", secrets)).to.equal("password *** and ***!");
  });
});
