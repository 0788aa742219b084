/**
 * The OdooTenant wiring under Pulumi mocks: which resources are registered, with which
 * values, under which parent and options. Object shapes are asserted in specs.test.ts;
 * the real engine runs in test/engine.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import type { OdooTenant as OdooTenantClass } from "../../components/odoo-tenant";
import type * as PlatformModule from "../../components/platform";
import { requireStackConfig } from "../../tenants/validate";
import type { StackConfig } from "../../tenants/schema";
import { resolveTenantArgs } from "../../components/tenant-args";
import { roleSetupSources } from "../../components/specs/postgres-roles";
import { ResourceRecorder, settle, valueOf, type RecordedResource } from "../support/pulumi-mocks";
import { tenant, validConfig } from "../support/fixtures";
import { REJECTIONS } from "../support/rejection-cases";

const recorder = new ResourceRecorder();
let OdooTenant: typeof OdooTenantClass;
let platform: typeof PlatformModule;

function twoTenants(): StackConfig {
  return requireStackConfig(validConfig([tenant({ id: "acme" }), tenant({ id: "globex", plan: "business", odooVersion: "17.0" })]));
}

const K8S_MODEL: Record<string, string> = {
  "kubernetes:core/v1:Namespace": "v1/Namespace",
  "kubernetes:core/v1:Secret": "v1/Secret",
  "kubernetes:core/v1:ServiceAccount": "v1/ServiceAccount",
  "kubernetes:core/v1:ResourceQuota": "v1/ResourceQuota",
  "kubernetes:core/v1:LimitRange": "v1/LimitRange",
  "kubernetes:core/v1:Service": "v1/Service",
  "kubernetes:core/v1:ConfigMap": "v1/ConfigMap",
  "kubernetes:core/v1:PersistentVolumeClaim": "v1/PersistentVolumeClaim",
  "kubernetes:apps/v1:StatefulSet": "apps/v1/StatefulSet",
  "kubernetes:apps/v1:Deployment": "apps/v1/Deployment",
  "kubernetes:networking.k8s.io/v1:Ingress": "networking.k8s.io/v1/Ingress",
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": "networking.k8s.io/v1/NetworkPolicy",
  "kubernetes:batch/v1:CronJob": "batch/v1/CronJob",
};

describe("OdooTenant component (Pulumi mocks)", () => {
  before(() => {
    recorder.install();
    // Imported after the mocks are installed, as Pulumi's own component tests do.
    OdooTenant = (require("../../components/odoo-tenant") as typeof import("../../components/odoo-tenant")).OdooTenant;
    platform = require("../../components/platform") as typeof PlatformModule;
  });
  beforeEach(() => recorder.reset());

  it("registers every object of each tenant, named from the id", async () => {
    platform.deployTenants(twoTenants());
    await settle();
    const names = (type: string): string[] => recorder.ofType(type).map((r) => r.name).sort();
    expect(names("kubernetes:core/v1:Namespace")).to.deep.equal(["acme-namespace", "globex-namespace"]);
    expect(names("random:index/randomPassword:RandomPassword")).to.deep.equal([
      "acme-admin-password", "acme-db-password", "acme-master-password", "acme-superuser-password",
      "globex-admin-password", "globex-db-password", "globex-master-password", "globex-superuser-password",
    ]);
    for (const id of ["acme", "globex"]) {
      const mine = recorder.resources.filter((r) => r.name.startsWith(`${id}-`));
      const count = (type: string): number => mine.filter((r) => r.type === type).length;
      expect(count("kubernetes:core/v1:Secret"), id).to.equal(4);
      expect(count("kubernetes:core/v1:ConfigMap"), id).to.equal(2);
      expect(count("kubernetes:core/v1:ServiceAccount"), id).to.equal(3);
      expect(count("kubernetes:core/v1:Service"), id).to.equal(2);
      expect(count("kubernetes:core/v1:PersistentVolumeClaim"), id).to.equal(2);
      expect(count("kubernetes:apps/v1:StatefulSet"), id).to.equal(1);
      expect(count("kubernetes:apps/v1:Deployment"), id).to.equal(1);
      expect(count("kubernetes:networking.k8s.io/v1:Ingress"), id).to.equal(1);
      expect(count("kubernetes:batch/v1:CronJob"), id).to.equal(1);
      expect(count("kubernetes:networking.k8s.io/v1:NetworkPolicy"), id).to.equal(6);
      expect(count("kubernetes:core/v1:ResourceQuota"), id).to.equal(1);
      expect(count("kubernetes:core/v1:LimitRange"), id).to.equal(1);
      for (const r of mine.filter((x) => x.type.startsWith("kubernetes:") && x.type !== "kubernetes:core/v1:Namespace")) {
        const meta = r.inputs.metadata as { namespace: string; labels: Record<string, string> };
        expect(meta.namespace, r.name).to.equal(`tenant-${id}`);
        expect(meta.labels["odoo-saas.io/tenant"], r.name).to.equal(id);
        expect(meta.labels["app.kubernetes.io/part-of"], r.name).to.equal("odoo-saas");
      }
    }
  });

  it("generates passwords with a CSPRNG provider, alphanumeric, 32 characters", async () => {
    platform.deployTenants(twoTenants());
    await settle();
    for (const pw of recorder.ofType("random:index/randomPassword:RandomPassword")) {
      expect(pw.inputs).to.include({ length: 32, special: false });
    }
  });

  it("puts generated secrets only into Kubernetes Secrets, via stringData", async () => {
    platform.deployTenants(twoTenants());
    await settle();
    const secrets = recorder.ofType("kubernetes:core/v1:Secret");
    const conf = secrets.find((s) => s.name === "acme-odoo-conf-secret") as RecordedResource;
    const confText = (conf.inputs.stringData as Record<string, string>)["odoo.conf"] as string;
    expect(confText).to.contain("db_password = MOCKSECRET-acme-db-password-x9Q");
    expect(confText).to.contain("admin_passwd = MOCKSECRET-acme-master-password-x9Q");
    expect(conf.inputs).to.not.have.property("data");
    const admin = secrets.find((s) => s.name === "acme-admin-secret") as RecordedResource;
    expect(admin.inputs.stringData).to.deep.equal({ login: "admin@acme.example", password: "MOCKSECRET-acme-admin-password-x9Q" });
    for (const r of recorder.resources) {
      if (r.type === "kubernetes:core/v1:Secret" || r.type.startsWith("random:")) continue;
      expect(JSON.stringify(r.inputs), `${r.type} ${r.name}`).to.not.contain("MOCKSECRET");
    }
  });

  it("keeps the superuser's password in its own Secret, referenced by the PostgreSQL pod only", async () => {
    platform.deployTenants(twoTenants());
    await settle();
    for (const id of ["acme", "globex"]) {
      const secrets = recorder.ofType("kubernetes:core/v1:Secret");
      const superuser = secrets.find((s) => s.name === `${id}-superuser-secret`) as RecordedResource;
      const meta = superuser.inputs.metadata as { name: string; labels: Record<string, string> };
      expect(meta.name).to.equal(`${id}-postgres-superuser`);
      expect(meta.labels).to.include({ "app.kubernetes.io/name": "postgres", "app.kubernetes.io/instance": id, "app.kubernetes.io/managed-by": "pulumi" });
      expect(superuser.inputs.stringData).to.deep.equal({ username: "odoo", password: `MOCKSECRET-${id}-superuser-password-x9Q` });
      const app = secrets.find((s) => s.name === `${id}-db-secret`) as RecordedResource;
      expect(app.inputs.stringData).to.deep.equal({ username: "odoo_app", password: `MOCKSECRET-${id}-db-password-x9Q` });
      // Every object that names the superuser's Secret or holds its password: the Secret itself and
      // the PostgreSQL StatefulSet (its init container). Never Odoo, the backup CronJob, odoo.conf.
      const naming = recorder.resources
        .filter((r) => r.type.startsWith("kubernetes:") && JSON.stringify(r.inputs).includes(`${id}-postgres-superuser`))
        .map((r) => r.name);
      expect(naming).to.deep.equal([`${id}-superuser-secret`, `${id}-postgres`]);
      const holding = recorder.resources
        .filter((r) => !r.type.startsWith("random:") && JSON.stringify(r.inputs).includes(`${id}-superuser-password`))
        .map((r) => r.name);
      expect(holding).to.deep.equal([`${id}-superuser-secret`]);
      // The role set-up the init container runs is this repository's, in the tenant's namespace.
      const setup = recorder.ofType("kubernetes:core/v1:ConfigMap").find((r) => r.name === `${id}-postgres-setup`) as RecordedResource;
      expect((setup.inputs.metadata as { name: string; namespace: string })).to.include({ name: `${id}-postgres-setup`, namespace: `tenant-${id}` });
      expect(setup.inputs.data).to.deep.equal(roleSetupSources());
    }
  });

  it("parents every child to the component and protects the tenant's data", async () => {
    const seen: Array<{ type: string; name: string; parent?: pulumi.Resource; retain?: boolean; ignore?: string[] }> = [];
    const config = twoTenants();
    const component = new OdooTenant("acme", resolveTenantArgs(config, config.tenants[0] as never), {
      transformations: [(a) => { seen.push({ type: a.type, name: a.name, parent: a.opts.parent, retain: a.opts.retainOnDelete, ignore: a.opts.ignoreChanges }); return undefined; }],
    });
    await settle();
    const children = seen.filter((c) => c.type !== "odoo-saas:index:OdooTenant");
    expect(children.length).to.be.greaterThan(20);
    for (const child of children) expect(child.parent, child.name).to.equal(component);
    const retained = children.filter((c) => c.retain === true).map((c) => c.name).sort();
    expect(retained).to.deep.equal([
      "acme-admin-secret", "acme-backups", "acme-db-secret", "acme-namespace", "acme-odoo-conf-secret", "acme-odoo-data", "acme-superuser-secret",
    ]);
    // A plan change never resizes volumes or replaces the database StatefulSet.
    const ignoring = Object.fromEntries(children.filter((c) => c.ignore !== undefined).map((c) => [c.name, c.ignore]));
    expect(ignoring).to.deep.equal({
      "acme-postgres": ["spec.volumeClaimTemplates"],
      "acme-odoo-data": ["spec.resources.requests.storage"],
      "acme-backups": ["spec.resources.requests.storage"],
    });
    expect(await valueOf(component.url)).to.equal("http://acme.odoo-saas.test");
    expect(await valueOf(component.namespace)).to.equal("tenant-acme");
    expect(await pulumi.isSecret(component.adminPassword)).to.equal(true);
  });

  it("gives identical names and specs for the same config", async () => {
    platform.deployTenants(twoTenants());
    await settle();
    const first = JSON.stringify(recorder.resources.map((r) => [r.type, r.name, r.inputs]).sort());
    recorder.reset();
    platform.deployTenants(twoTenants());
    await settle();
    const second = JSON.stringify(recorder.resources.map((r) => [r.type, r.name, r.inputs]).sort());
    expect(second).to.equal(first);
  });

  it("registers nothing when the config is invalid, and the error names tenant and field", async () => {
    const bad = validConfig([tenant({ id: "acme" }), tenant({ id: "Bad_Id", plan: "gold" })]);
    pulumi.runtime.setAllConfig({
      "odoo-saas:baseDomain": bad.baseDomain,
      "odoo-saas:tenants": JSON.stringify(bad.tenants),
      "kubernetes:context": "ignored",
    }, []);
    expect(() => platform.odooSaasProgram()).to.throw(/tenants\[1\] \(id "Bad_Id"\): id: .*not a DNS label/);
    await settle();
    expect(recorder.resources).to.deep.equal([]);
  });

  it("registers nothing for a config key named like the prototype (odoo-saas:__proto__), naming it", async () => {
    const good = validConfig([tenant({ id: "acme" })]);
    pulumi.runtime.setAllConfig({
      "odoo-saas:baseDomain": good.baseDomain,
      "odoo-saas:tenants": JSON.stringify(good.tenants),
      "odoo-saas:__proto__": JSON.stringify({ plans: {} }),
    }, []);
    expect(() => platform.odooSaasProgram()).to.throw(/__proto__: unknown key/);
    await settle();
    expect(recorder.resources).to.deep.equal([]);
  });

  for (const c of REJECTIONS) {
    it(`registers nothing for ${c.title}`, async () => {
      const bad = validConfig(c.tenants);
      pulumi.runtime.setAllConfig({ "odoo-saas:baseDomain": bad.baseDomain, "odoo-saas:tenants": JSON.stringify(bad.tenants) }, []);
      let message = "";
      try {
        platform.odooSaasProgram();
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).to.match(new RegExp(`tenants\\[${c.index}\\] .*: ${c.field.replace(/[[\].]/g, "\\$&")}: `));
      expect(message).to.match(c.message);
      await settle();
      expect(recorder.resources).to.deep.equal([]);
    });
  }

  it("reads the stack config through pulumi config and deploys from it", async () => {
    const good = validConfig([tenant({ id: "acme" })]);
    pulumi.runtime.setAllConfig({
      "odoo-saas:baseDomain": good.baseDomain,
      "odoo-saas:storageClassName": "local-pool",
      "odoo-saas:tenants": JSON.stringify(good.tenants),
    }, []);
    const { tenants } = platform.odooSaasProgram();
    await settle();
    expect(Object.keys(tenants)).to.deep.equal(["acme"]);
    expect(await valueOf(tenants.acme?.url as pulumi.Output<string>)).to.equal("http://acme.odoo-saas.test");
    expect(recorder.ofType("kubernetes:core/v1:Namespace").map((r) => r.name)).to.deep.equal(["acme-namespace"]);
  });

  it("keeps the program process's $KUBECONFIG out of the provider's inputs, and restores it", async () => {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = "/home/ops/.kube/config";
    try {
      platform.kubernetesProvider();
      await settle();
      expect(process.env.KUBECONFIG).to.equal("/home/ops/.kube/config");
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
    const provider = recorder.one("pulumi:providers:kubernetes", "kubernetes");
    expect(provider.inputs).not.to.have.property("kubeconfig");
    expect(provider.inputs).to.include({ enableSecretMutable: "true", enableConfigMapMutable: "true" });
  });

  it("renders objects that validate against the Kubernetes schemas", async () => {
    platform.deployTenants(twoTenants());
    await settle();
    const k8sResources = recorder.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(k8sResources.length).to.be.greaterThan(40);
    for (const r of k8sResources) {
      const modelPath = K8S_MODEL[r.type];
      expect(modelPath, `no schema mapping for ${r.type}`).to.be.a("string");
      const [group, version, kind] = r.type.slice("kubernetes:".length).replace(/:/g, "/").split("/");
      const apiVersion = group === "core" ? version : `${group}/${version}`;
      const mod = (await import(`kubernetes-models/${modelPath}`)) as Record<string, new (v: unknown) => { validate(): void }>;
      const Model = mod[kind as string] as new (v: unknown) => { validate(): void };
      const object = new Model({ apiVersion, kind, ...r.inputs });
      expect(() => object.validate(), `${r.type} ${r.name}`).to.not.throw();
    }
  });
});
