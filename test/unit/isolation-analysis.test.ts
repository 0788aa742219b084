import { expect } from "chai";
import { networkPolicies } from "../../components/specs/network-policies";
import { backupCronJob } from "../../components/specs/backup";
import { odooDeployment } from "../../components/specs/odoo";
import { postgresStatefulSet } from "../../components/specs/postgres";
import type { OdooTenantArgs } from "../../components/tenant-args";
import { analyse, matrix, type AnalysisInput, type TenantEndpoints } from "../../checks/isolation-analysis";
import type { NetworkPolicyLike } from "../../checks/network-policy-eval";
import { asData } from "../support/as-data";
import { designDocPolicies } from "../support/design-doc-policies";
import { argsFor } from "../support/tenant-args";

function endpoints(args: OdooTenantArgs): TenantEndpoints {
  const namespace = `tenant-${args.id}`;
  return {
    id: args.id,
    namespace,
    namespaceLabels: { "kubernetes.io/metadata.name": namespace, "app.kubernetes.io/part-of": "odoo-saas" },
    odoo: asData(odooDeployment(args)).spec.template.metadata.labels,
    postgres: asData(postgresStatefulSet(args)).spec.template.metadata.labels,
    backup: asData(backupCronJob(args)).spec.jobTemplate.spec.template.metadata.labels,
  };
}

const tenants = [argsFor({ id: "acme" }), argsFor({ id: "globex", plan: "business" })];
const ours = (): NetworkPolicyLike[] => tenants.flatMap((t) => networkPolicies(t).map((p) => asData(p) as NetworkPolicyLike));
const input = (policies: NetworkPolicyLike[], tenantList: TenantEndpoints[] = tenants.map(endpoints)): AnalysisInput =>
  ({ tenants: tenantList, policies, ingressNamespace: "traefik", dnsNamespace: "kube-system" });
const rules = (policies: NetworkPolicyLike[], list?: TenantEndpoints[]): string[] =>
  [...new Set(analyse(input(policies, list)).violations.map((v) => v.rule))].sort();

describe("isolation analyser", () => {
  it("passes the component's own policies, checking every rule", () => {
    const analysis = analyse(input(ours()));
    expect(analysis.violations).to.deep.equal([]);
    expect(new Set(analysis.results.map((r) => r.rule))).to.include.keys("no path between tenants", "Odoo reaches its own PostgreSQL", "Odoo accepts only the ingress controller");
  });

  it("catches the design documents' section 8 set (Odoo cut off from PostgreSQL; ingress controller never matched)", () => {
    // Their DNS rule does let every pod reach kube-system on 53, so DNS is not among the findings.
    const legacy = (id: string): TenantEndpoints => {
      const namespace = `tenant-${id}`;
      return { id, namespace, namespaceLabels: { "kubernetes.io/metadata.name": namespace }, odoo: { app: "odoo" }, postgres: { app: "postgresql" } };
    };
    const found = rules([...designDocPolicies("tenant-acme"), ...designDocPolicies("tenant-globex")], [legacy("acme"), legacy("globex")]);
    expect(found).to.deep.equal(["Odoo reaches its own PostgreSQL", "the ingress controller reaches Odoo"]);
  });

  it("catches a set without default deny or egress fences (tenants reach each other's databases)", () => {
    const ingressOnly = ours().filter((p) => p.metadata.name !== "default-deny" && p.metadata.name !== "postgres-from-db-clients" && !(p.spec.policyTypes ?? []).includes("Egress"));
    expect(rules(ingressOnly)).to.include.members(["no path between tenants", "PostgreSQL is closed to other namespaces"]);
  });

  it("egress fences alone still stop tenants reaching each other (defence in depth)", () => {
    const found = rules(ours().filter((p) => p.metadata.name !== "default-deny" && p.metadata.name !== "postgres-from-db-clients"));
    expect(found).to.not.include("no path between tenants");
    expect(found).to.include("PostgreSQL is closed to other namespaces");
  });

  it("catches Odoo opened to every namespace", () => {
    const open = ours().map((p) => p.metadata.name === "odoo-from-ingress-controller"
      ? { ...p, spec: { ...p.spec, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ protocol: "TCP", port: 8069 }] }] } }
      : p);
    expect(rules(open)).to.deep.equal(["Odoo accepts only the ingress controller"]);
  });

  it("catches blocked DNS", () => {
    expect(rules(ours().filter((p) => p.metadata.name !== "allow-dns-egress"))).to.deep.equal(["Odoo resolves names (DNS)"]);
  });

  it("catches a rule whose 'from' was lost (a rule without peers admits everyone)", () => {
    const lost = ours().map((p) => p.metadata.name === "postgres-from-db-clients"
      ? { ...p, spec: { ...p.spec, ingress: [{ ports: [{ protocol: "TCP", port: 5432 }] }] } }
      : p);
    expect(rules(lost)).to.deep.equal(["PostgreSQL is closed to other namespaces", "PostgreSQL is closed to the ingress controller"]);
  });

  it("prints a matrix marking broken cells", () => {
    const { headers, rows } = matrix(analyse(input(ours().filter((p) => p.metadata.name !== "allow-dns-egress"))));
    expect(headers[0]).to.equal("from \\ to");
    const odooRow = rows.find((r) => r[0] === "acme/odoo") as string[];
    expect(odooRow[headers.indexOf("cluster DNS:53/udp")]).to.equal("deny!");
    expect(odooRow[headers.indexOf("acme/postgres:5432")]).to.equal("allow");
  });
});
