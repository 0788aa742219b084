/**
 * The NetworkPolicy evaluator reads label keys and port names from stored objects: a name
 * every JavaScript object has (constructor, toString, __proto__) must never meet Object.prototype.
 */
import { expect } from "chai";
import { connectionAllowed, selectorMatches, type Endpoint, type NetworkPolicyLike } from "../../checks/network-policy-eval";

describe("NetworkPolicy evaluation: label keys and port names are own data", () => {
  it("a selector key such as constructor matches only a label the pod has", () => {
    expect(selectorMatches({ matchLabels: { constructor: "x" } }, {})).to.equal(false);
    expect(selectorMatches({ matchLabels: { constructor: "x" } }, { constructor: "x" })).to.equal(true);
    expect(selectorMatches({ matchExpressions: [{ key: "toString", operator: "Exists" }] }, {})).to.equal(false);
    expect(selectorMatches({ matchExpressions: [{ key: "__proto__", operator: "DoesNotExist" }] }, {})).to.equal(true);
  });

  it("a named port such as constructor or toString allows nothing unless the pod names that port", () => {
    const policy = (port: string): NetworkPolicyLike => ({
      metadata: { name: "allow-named", namespace: "tenant-acme" },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ ports: [{ port }] }] },
    });
    const pod = (namedPorts: Record<string, number>): Endpoint => ({
      kind: "pod", name: "acme/odoo", namespace: "tenant-acme", namespaceLabels: {}, labels: {}, namedPorts,
    });
    const source: Endpoint = { kind: "pod", name: "other", namespace: "tenant-acme", namespaceLabels: {}, labels: {} };
    for (const name of ["constructor", "toString", "valueOf", "__proto__"]) {
      expect(connectionAllowed([policy(name)], source, pod({ http: 8069 }), { port: 8069 }).allowed, name).to.equal(false);
      expect(connectionAllowed([policy(name)], source, pod(Object.defineProperty({}, name, { value: 8069, enumerable: true })), { port: 8069 }).allowed, name).to.equal(true);
    }
  });
});
