/**
 * The pieces of metrics and logs that need no server: the starter alert rules (they parse as
 * Prometheus rule groups and name only metrics the server exports), route labels without ids,
 * the metrics token check, the request id rule and the log's redaction.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { BACKUP_NAME, ID, OP_ID } from "../../automation/http-io";
import { jsonLogger, Redactor, requestIdFrom, withLogContext } from "../../automation/log";
import { ServerMetrics } from "../../automation/metrics";
import { bearerMatches, routeLabel } from "../../automation/metrics-route";
import { ConfigProblem, configFromEnv, describeConfig } from "../../automation/server-config";

const ROOT = path.join(__dirname, "..", "..", "..");

interface Rule { alert?: string; record?: string; expr?: unknown; for?: unknown; labels?: Record<string, unknown>; annotations?: Record<string, unknown> }

describe("observability: alert rules, labels, tokens and logs", () => {
  it("ships alert rules that parse as Prometheus rule groups and use only metrics the server exports", async () => {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "deploy", "alerts.yml"), "utf8")) as { groups?: Array<{ name?: unknown; rules?: Rule[] }> };
    expect(doc.groups).to.be.an("array").that.is.not.empty;
    const exported = new Set((await new ServerMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const alerts: string[] = [];
    for (const group of doc.groups ?? []) {
      expect(group.name).to.be.a("string");
      for (const rule of group.rules ?? []) {
        expect(rule.alert, JSON.stringify(rule)).to.match(/^[A-Za-z_][A-Za-z0-9_]*$/);
        expect(rule.expr).to.be.a("string");
        if (rule.for !== undefined) expect(rule.for).to.match(/^\d+[smhd]$/);
        expect(rule.labels?.severity).to.be.oneOf(["critical", "warning", "info"]);
        expect(rule.annotations?.summary).to.be.a("string");
        const names = (rule.expr as string).match(/\bodoo_saas_[a-z_]+/g) ?? [];
        expect(names, rule.alert).to.not.be.empty;
        for (const name of names) expect(exported.has(name.replace(/_(count|sum|bucket)$/, "")), `${rule.alert}: ${name}`).to.equal(true);
        alerts.push(rule.alert as string);
      }
    }
    // The three an operator should start with (issue 23): failed operations, queue age, unknown status.
    expect(alerts).to.include.members(["OdooSaasOperationsFailing", "OdooSaasQueueStuck", "OdooSaasTenantsStatusUnknown"]);
  });

  it("labels routes by their pattern, never by an id", () => {
    expect(routeLabel(`/api/tenants/${ID}/backups/${BACKUP_NAME}/download`)).to.equal("/api/tenants/:id/backups/:backup/download");
    expect(routeLabel(`/api/operations/${OP_ID}/events`)).to.equal("/api/operations/:operation/events");
    expect(routeLabel("/api/tenants/" + ID + "/uploads/(up_[A-Za-z0-9_-]{1,32})")).to.equal("/api/tenants/:id/uploads/:param");
    expect(routeLabel("/js/([a-z][a-z0-9-]*\\.js)")).to.equal("/js/:param");
    expect(routeLabel("/vendor/supabase\\.js")).to.equal("/vendor/supabase.js");
  });

  it("accepts only `Bearer <the token>`", () => {
    const token = "t".repeat(40);
    expect(bearerMatches(`Bearer ${token}`, token)).to.equal(true);
    for (const header of [undefined, "", token, `bearer ${token}`, `Bearer ${token} `, `Bearer ${token}x`, `Bearer ${token.slice(1)}`, "Bearer "]) {
      expect(bearerMatches(header, token), String(header)).to.equal(false);
    }
  });

  it("takes ODOO_SAAS_METRICS_TOKEN of 32 characters or more, never prints it, and refuses a short one", () => {
    const env = { SUPABASE_URL: "https://ref.supabase.co" };
    const token = "m".repeat(31) + "Z";
    const set = configFromEnv({ ...env, ODOO_SAAS_METRICS_TOKEN: token }, ROOT);
    expect(set.metricsToken).to.equal(token);
    expect(describeConfig(set).join("\n")).to.include("GET /metrics with the bearer token (set)").and.not.include(token);
    expect(configFromEnv(env, ROOT).metricsToken).to.equal(undefined);
    expect(describeConfig(configFromEnv(env, ROOT)).join("\n")).to.include("metrics: off");
    for (const bad of ["short", "x".repeat(31), `${"x".repeat(32)} y`]) {
      expect(() => configFromEnv({ ...env, ODOO_SAAS_METRICS_TOKEN: bad }, ROOT), bad).to.throw(ConfigProblem, /ODOO_SAAS_METRICS_TOKEN/);
    }
  });

  it("keeps a plain incoming request id and replaces anything else with a UUID", () => {
    expect(requestIdFrom("abc-123_X.y:z")).to.equal("abc-123_X.y:z");
    for (const bad of [undefined, "", "has space", "x".repeat(101), "-leading-dash", "new\nline", ["a", "b"]]) {
      expect(requestIdFrom(bad)).to.match(/^[0-9a-f-]{36}$/);
    }
  });

  it("writes JSON lines with the context's request id, and never a secret field or a registered secret", () => {
    const lines: string[] = [];
    const redactor = new Redactor();
    redactor.add("passphrase-value-123");
    const log = jsonLogger(redactor, { write: (line) => lines.push(line) });
    withLogContext({ requestId: "req-1" }, () => {
      log.log("info", "engine said passphrase-value-123", {
        password: "p4ssw0rd!", token: "tok", authorization: "Bearer abc", DATABASE_URL: "postgres://u:pw@h/db", passphrase: "pp", tenant: "shop",
        detail: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
      });
    });
    log.log("debug", "outside");
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).to.include({ level: "info", requestId: "req-1", tenant: "shop", msg: "engine said [secret]", detail: "[token]" });
    for (const field of ["password", "token", "authorization", "DATABASE_URL", "passphrase"]) expect(first?.[field], field).to.equal("[secret]");
    expect(lines.join("")).to.not.match(/p4ssw0rd|Bearer abc|u:pw|passphrase-value/);
    expect(second).to.include({ level: "debug", msg: "outside" });
    expect(second).to.not.have.property("requestId");
    const quiet: string[] = [];
    jsonLogger(redactor, { quiet: true, write: (line) => quiet.push(line) }).log("info", "dropped");
    expect(quiet).to.deep.equal([]);
  });
});
