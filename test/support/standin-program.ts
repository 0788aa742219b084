/**
 * STAND-IN Pulumi program for the signup server's tests and benchmark.
 *
 * Why: the real program (`odooSaasProgram`) needs the Kubernetes and random provider
 * plugins, and this machine's Go module proxy refuses both, so a real `up` of it fails
 * here when the engine asks for `pulumi-resource-kubernetes`. No provider is faked: the
 * server runs the REAL engine (the Go-built CLI, local backend, Automation API) with this
 * inline program instead, which
 * - reads and validates the `odoo-saas:*` config with the same schema (`loadStackConfig`),
 * - registers one ComponentResource per tenant (named by the id, like OdooTenant) with one
 *   dynamic-provider resource `<id>-odoo` (a real plugin process, as in
 *   test/engine/engine.test.ts) that generates the admin password with the OS CSPRNG,
 * - fails on purpose for ids containing "fail" (to test per-tenant error reporting),
 * - exports `tenants.<id>.{url, hosts, namespace, plan, odooVersion, suspended, ownerId,
 *   adminLogin, adminPassword}` exactly like the real program (password secret).
 *
 * The dynamic provider writes each tenant's "external object" into STANDIN_WORLD_DIR with
 * create-if-absent semantics (a create whose result the engine never recorded, e.g. after a
 * kill -9, is adopted on retry rather than made twice) and appends "created"/"adopted"/
 * "updated"/"deleted" lines to `journal.log` there, so tests can count side effects.
 * STANDIN_DELAY_MS slows each create down, to kill a server in the middle of an update.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { loadStackConfig } from "../../components/platform";
import { tenantHost } from "../../tenants/validate";

interface StandInInputs {
  tenant: string;
  plan: string;
  odooVersion: string;
  suspended: boolean;
  adminEmail: string;
}

/* eslint-disable @typescript-eslint/no-require-imports -- the provider runs in the provider process after serialization */
const standInProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: StandInInputs) {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const delay = Number(process.env.STANDIN_DELAY_MS ?? "0");
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (inputs.tenant.includes("fail")) {
      throw new Error(`stand-in provider: tenant "${inputs.tenant}" fails on purpose (ids containing "fail" do)`);
    }
    const world = process.env.STANDIN_WORLD_DIR;
    if (world === undefined || world === "") throw new Error("STANDIN_WORLD_DIR is not set");
    const file = path.join(world, `${inputs.tenant}.json`);
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ id: `${inputs.tenant}-${crypto.randomBytes(4).toString("hex")}`, password: crypto.randomBytes(18).toString("base64url") }));
    let outcome = "created";
    try {
      fs.linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      outcome = "adopted";
    }
    fs.rmSync(tmp, { force: true });
    const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { id: string; password: string };
    fs.appendFileSync(path.join(world, "journal.log"), `${outcome} ${inputs.tenant}\n`);
    return { id: stored.id, outs: { ...inputs, adminPassword: stored.password } };
  },
  async update(_id: string, olds: StandInInputs & { adminPassword: string }, news: StandInInputs) {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    fs.appendFileSync(path.join(process.env.STANDIN_WORLD_DIR ?? "", "journal.log"), `updated ${news.tenant} suspended=${String(news.suspended)}\n`);
    return { outs: { ...news, adminPassword: olds.adminPassword } };
  },
  async delete(_id: string, props: StandInInputs) {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    // Like the real component's retained namespace and volumes, the "object" stays.
    fs.appendFileSync(path.join(process.env.STANDIN_WORLD_DIR ?? "", "journal.log"), `deleted ${props.tenant}\n`);
  },
};
/* eslint-enable @typescript-eslint/no-require-imports */

class StandInOdoo extends pulumi.dynamic.Resource {
  declare readonly adminPassword: pulumi.Output<string>;
  constructor(name: string, inputs: StandInInputs, opts: pulumi.CustomResourceOptions) {
    super(standInProvider, name, { ...inputs, adminPassword: undefined }, { ...opts, additionalSecretOutputs: ["adminPassword"] });
  }
}

export const STANDIN_TENANT_TYPE = "odoo-saas:test:StandInTenant";

/** One tenant: a component named by its id with one child `<id>-odoo`, as OdooTenant names children. */
class StandInTenant extends pulumi.ComponentResource {
  readonly adminPassword: pulumi.Output<string>;
  constructor(id: string, inputs: Omit<StandInInputs, "tenant">) {
    super(STANDIN_TENANT_TYPE, id, {}, {});
    const odoo = new StandInOdoo(`${id}-odoo`, { tenant: id, ...inputs }, { parent: this });
    this.adminPassword = pulumi.secret(odoo.adminPassword);
    this.registerOutputs({ adminPassword: this.adminPassword });
  }
}

/** The stand-in for `odooSaasProgram` (see the file comment). */
export function standInProgram(): PulumiFn {
  return async () => {
    const config = loadStackConfig();
    const scheme = config.ingress.clusterIssuer !== undefined ? "https" : "http";
    const tenants: Record<string, unknown> = {};
    for (const tenant of config.tenants) {
      const component = new StandInTenant(tenant.id, {
        plan: tenant.plan, odooVersion: tenant.odooVersion, suspended: tenant.suspended, adminEmail: tenant.adminEmail,
      });
      const hosts = [tenantHost(config, tenant.id), ...tenant.customDomains];
      tenants[tenant.id] = {
        url: `${scheme}://${hosts[0] ?? ""}`,
        hosts,
        namespace: `tenant-${tenant.id}`,
        plan: tenant.plan,
        odooVersion: tenant.odooVersion,
        suspended: tenant.suspended,
        ownerId: tenant.ownerId ?? null,
        adminLogin: tenant.adminEmail,
        adminPassword: component.adminPassword,
      };
    }
    return { tenants };
  };
}
