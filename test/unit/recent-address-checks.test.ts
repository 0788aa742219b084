/**
 * The ingress health checks a status read makes are shared: one request per host while an
 * answer is fresh, however many readers ask at once, against a real HTTP server on loopback.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { addressCheckerFrom, checkAddresses, IngressHealthChecker, type AddressCheck, type AddressChecker } from "../../automation/ingress-health";
import { RecentAddressChecks } from "../../automation/recent-address-checks";

interface Ingress { url: string; hits: string[]; status: Map<string, number>; close(): Promise<void> }

/** An ingress stand-in: answers /web/health with the status set for the Host header (404 otherwise). */
async function ingress(): Promise<Ingress> {
  const hits: string[] = [];
  const status = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const host = req.headers.host ?? "";
    hits.push(host);
    // A little latency, so concurrent checks overlap the request in flight.
    setTimeout(() => res.writeHead(status.get(host) ?? 404).end(), 30);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, status,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("recent address checks (one health request per host while fresh)", () => {
  let fake: Ingress;
  let clock: number;
  const now = (): number => clock;

  beforeEach(async () => {
    fake = await ingress();
    clock = 1_000_000;
  });
  afterEach(async () => fake.close());

  it("shares one request among 20 concurrent reads, reuses an answer for 15 s, then asks again", async () => {
    fake.status.set("a.example.test", 200);
    const checks = new RecentAddressChecks(new IngressHealthChecker(fake.url), { now });
    const many = await Promise.all(Array.from({ length: 20 }, () => checks.check("a.example.test")));
    expect(many.every((r) => r.checked && r.answered)).to.equal(true);
    expect(fake.hits).to.deep.equal(["a.example.test"]);
    clock += 14_999;
    expect(await checks.check("a.example.test")).to.deep.equal({ checked: true, answered: true });
    expect(fake.hits).to.have.length(1);
    clock += 1;
    fake.status.set("a.example.test", 503);
    expect(await checks.check("a.example.test")).to.deep.include({ checked: true, answered: false });
    expect(fake.hits).to.have.length(2);
  });

  it("does not remember an address that did not answer: it is seen answering at the next read", async () => {
    fake.status.set("b.example.test", 503);
    const checks = new RecentAddressChecks(new IngressHealthChecker(fake.url), { now });
    expect(await checks.check("b.example.test")).to.deep.equal({ checked: true, answered: false, reason: "b.example.test answered HTTP 503 through the ingress" });
    fake.status.set("b.example.test", 200);
    expect(await checks.check("b.example.test")).to.deep.equal({ checked: true, answered: true });
    expect(fake.hits).to.deep.equal(["b.example.test", "b.example.test"]);
  });

  it("keeps each host apart and forgets the oldest past maxHosts", async () => {
    for (const h of ["c.example.test", "d.example.test", "e.example.test"]) fake.status.set(h, 200);
    const checks = new RecentAddressChecks(new IngressHealthChecker(fake.url), { now, maxHosts: 2 });
    for (const h of ["c.example.test", "d.example.test", "e.example.test", "e.example.test", "d.example.test"]) await checks.check(h);
    expect(fake.hits).to.deep.equal(["c.example.test", "d.example.test", "e.example.test"]);
    await checks.check("c.example.test"); // forgotten: asked again
    expect(fake.hits).to.have.length(4);
  });

  it("is what the server uses for ODOO_SAAS_INGRESS_URL (and nothing is checked without one)", async () => {
    fake.status.set("f.example.test", 200);
    const checker = addressCheckerFrom(fake.url);
    expect(checker).to.be.instanceOf(RecentAddressChecks);
    await Promise.all([checker.check("f.example.test"), checker.check("f.example.test")]);
    await checker.check("f.example.test");
    expect(fake.hits).to.deep.equal(["f.example.test"]);
    expect(await addressCheckerFrom(undefined).check("f.example.test")).to.deep.equal({ checked: false, reason: "no ingress address is configured (ODOO_SAAS_INGRESS_URL)" });
  });

  it("shares a request in flight for 10 s at most: a check that never settles does not hold later reads", async () => {
    let calls = 0;
    const hanging: AddressChecker = { check: () => { calls += 1; return calls === 1 ? new Promise<AddressCheck>(() => undefined) : Promise.resolve({ checked: true, answered: true }); } };
    const checks = new RecentAddressChecks(hanging, { now });
    void checks.check("g.example.test");
    clock += 9_999;
    void checks.check("g.example.test");
    expect(calls).to.equal(1);
    clock += 1;
    expect(await checks.check("g.example.test")).to.deep.equal({ checked: true, answered: true });
    expect(calls).to.equal(2);
  });

  it("checks a listing's addresses within its deadline: behind an ingress that swallows requests, the rest is 'not checked'", async () => {
    let inFlight = 0;
    let most = 0;
    const swallowing: AddressChecker = {
      check: (host) => {
        if (host.startsWith("slow")) return new Promise<AddressCheck>(() => undefined);
        inFlight += 1;
        most = Math.max(most, inFlight);
        return new Promise((resolve) => setTimeout(() => { inFlight -= 1; resolve({ checked: true, answered: true }); }, 5));
      },
    };
    const hosts = new Map(Array.from({ length: 40 }, (_, i) => [`t${i}`, `${i % 10 === 9 ? "slow" : "fast"}${i}.example.test`] as [string, string]));
    const started = Date.now();
    const seen = await checkAddresses(swallowing, hosts, { parallel: 8, deadlineMs: 300 });
    expect(Date.now() - started).to.be.within(290, 1_000);
    expect(most).to.be.at.most(8);
    expect([...seen.keys()].sort()).to.deep.equal([...hosts.keys()].sort());
    expect(seen.get("t0")).to.deep.equal({ checked: true, answered: true });
    expect(seen.get("t9")).to.deep.equal({ checked: false, reason: "its address was not checked within this listing's 0.3 s" });
    expect([...seen.values()].filter((r) => r.checked).length).to.be.at.least(4);
  });
});
