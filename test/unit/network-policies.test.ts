import { expect } from "chai";
import { networkPolicies } from "../../components/specs/network-policies";
import { odooDeployment } from "../../components/specs/odoo";
import { postgresStatefulSet } from "../../components/specs/postgres";
import { backupCronJob } from "../../components/specs/backup";
import { connectionAllowed, type Endpoint, type NetworkPolicyLike } from "../../checks/network-policy-eval";
import { designDocPolicies } from "../support/design-doc-policies";
import { argsFor } from "../support/tenant-args";
import type { OdooTenantArgs } from "../../components/tenant-args";
import { asData } from "../support/as-data";

const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function nsLabels(namespace: string, extra: Record<string, string> = {}): Record<string, string> {
  return { "kubernetes.io/metadata.name": namespace, ...extra };
}

/** The tenant's real pods, with the labels our specs give them. */
function tenantPods(args: OdooTenantArgs): { odoo: Endpoint; postgres: Endpoint; backup: Endpoint; stray: Endpoint } {
  const ns = `tenant-${args.id}`;
  const nsl = nsLabels(ns, { "app.kubernetes.io/part-of": "odoo-saas" });
  const pod = (name: string, labels: Record<string, string>): Endpoint => ({ kind: "pod", name: `${args.id}/${name}`, namespace: ns, namespaceLabels: nsl, labels });
  return {
    odoo: pod("odoo", asData(odooDeployment(args)).spec.template.metadata.labels),
    postgres: pod("postgres", asData(postgresStatefulSet(args)).spec.template.metadata.labels),
    backup: pod("backup", asData(backupCronJob(args)).spec.jobTemplate.spec.template.metadata.labels),
    stray: pod("debug", { app: "debug" }),
  };
}

const traefik: Endpoint = { kind: "pod", name: "traefik", namespace: "traefik", namespaceLabels: nsLabels("traefik"), labels: { "app.kubernetes.io/name": "traefik" } };
const otherNs: Endpoint = { kind: "pod", name: "default/shell", namespace: "default", namespaceLabels: nsLabels("default"), labels: {} };
const dns: Endpoint = { kind: "pod", name: "coredns", namespace: "kube-system", namespaceLabels: nsLabels("kube-system"), labels: { "k8s-app": "kube-dns" } };
const internet: Endpoint = { kind: "external", name: "smtp.example.com", ip: "93.184.216.34" };
const privateHost: Endpoint = { kind: "external", name: "10.1.2.3", ip: "10.1.2.3" };
const metadataService: Endpoint = { kind: "external", name: "cloud metadata", ip: "169.254.169.254" };

describe("tenant network policies", () => {
  const a = argsFor({ id: "acme" });
  const b = argsFor({ id: "globex", plan: "business" });
  const policies: NetworkPolicyLike[] = [...networkPolicies(a), ...networkPolicies(b)].map((p) => plain(p) as NetworkPolicyLike);
  const A = tenantPods(a);
  const B = tenantPods(b);
  const allowed = (src: Endpoint, dst: Endpoint, port: number, protocol: "TCP" | "UDP" = "TCP"): boolean => connectionAllowed(policies, src, dst, { port, protocol }).allowed;

  it("denies by default in both directions", () => {
    const deny = networkPolicies(a).find((p) => p.metadata.name === "default-deny");
    expect(plain(deny?.spec)).to.deep.equal({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("lets Odoo reach its own PostgreSQL (the design documents' egress bug)", () => {
    expect(allowed(A.odoo, A.postgres, 5432)).to.equal(true);
    expect(allowed(B.odoo, B.postgres, 5432)).to.equal(true);
  });

  it("lets the backup job reach its own PostgreSQL", () => expect(allowed(A.backup, A.postgres, 5432)).to.equal(true));

  it("keeps PostgreSQL closed to everything but its db clients on 5432", () => {
    expect(allowed(A.stray, A.postgres, 5432)).to.equal(false);
    expect(allowed(A.odoo, A.postgres, 5433)).to.equal(false);
    expect(allowed(traefik, A.postgres, 5432)).to.equal(false);
  });

  it("blocks every cross-tenant path", () => {
    for (const [src, dst, port] of [[A.odoo, B.postgres, 5432], [B.odoo, A.postgres, 5432], [A.odoo, B.odoo, 8069], [B.backup, A.postgres, 5432], [A.postgres, B.postgres, 5432]] as const) {
      expect(allowed(src, dst, port), `${src.name} -> ${dst.name}:${port}`).to.equal(false);
    }
  });

  it("admits only the ingress controller's namespace to Odoo, on 8069 (and 8072 with workers)", () => {
    expect(allowed(traefik, A.odoo, 8069)).to.equal(true);
    expect(allowed(traefik, A.odoo, 8072)).to.equal(false);
    expect(allowed(traefik, B.odoo, 8072)).to.equal(true);
    expect(allowed(otherNs, A.odoo, 8069)).to.equal(false);
    expect(allowed(internet, A.odoo, 8069)).to.equal(false);
  });

  it("allows DNS to kube-system only", () => {
    expect(allowed(A.odoo, dns, 53, "UDP")).to.equal(true);
    expect(allowed(A.postgres, dns, 53, "TCP")).to.equal(true);
    expect(allowed(A.odoo, { ...dns, namespace: "default", namespaceLabels: nsLabels("default") }, 53, "UDP")).to.equal(false);
  });

  it("lets Odoo out to the internet for mail and HTTPS, never to private ranges or cloud metadata", () => {
    expect(allowed(A.odoo, internet, 587)).to.equal(true);
    expect(allowed(A.odoo, internet, 443)).to.equal(true);
    expect(allowed(A.odoo, internet, 5432)).to.equal(false);
    expect(allowed(A.odoo, privateHost, 443)).to.equal(false);
    expect(allowed(A.odoo, metadataService, 80)).to.equal(false);
    expect(allowed(A.postgres, internet, 443)).to.equal(false);
    expect(allowed(A.backup, internet, 443)).to.equal(false);
  });

  it("closes internet egress when the config turns it off", () => {
    const closed = argsFor({ id: "acme" }, { network: { internetEgress: { enabled: false } } });
    const names = networkPolicies(closed).map((p) => p.metadata.name);
    expect(names).to.not.include("odoo-internet-egress");
    const pods = tenantPods(closed);
    expect(connectionAllowed(networkPolicies(closed).map((p) => plain(p) as NetworkPolicyLike), pods.odoo, internet, { port: 443 }).allowed).to.equal(false);
  });

  it("the same check catches the design documents' section 8 set", () => {
    const ns = "tenant-acme";
    const nsl = nsLabels(ns);
    const odoo: Endpoint = { kind: "pod", name: "odoo", namespace: ns, namespaceLabels: nsl, labels: { app: "odoo" } };
    const pg: Endpoint = { kind: "pod", name: "postgresql", namespace: ns, namespaceLabels: nsl, labels: { app: "postgresql" } };
    const verdict = connectionAllowed(designDocPolicies(ns), odoo, pg, { port: 5432 });
    expect(verdict.allowed).to.equal(false);
    expect(verdict.reason).to.match(/egress of odoo denied/);
    // And its ingress rule selects `name: traefik`, a label namespaces do not carry.
    expect(connectionAllowed(designDocPolicies(ns), traefik, odoo, { port: 8069 }).allowed).to.equal(false);
  });
});
