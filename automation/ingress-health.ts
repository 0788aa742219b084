/**
 * Whether a tenant's public address answers: GET <ingress base URL>/web/health with the tenant's
 * host name in the Host header, as a browser's request reaches the ingress controller. The base
 * URL is where this process reaches the ingress (on the local cluster the forwarder on
 * 127.0.0.1 into the real node's namespace; in production the load balancer's address), so the
 * check needs no DNS. Only a 200 counts as answered; anything else says what was seen.
 */
import * as http from "node:http";
import * as https from "node:https";
import { RecentAddressChecks } from "./recent-address-checks";

export type AddressCheck =
  | { checked: true; answered: true }
  | { checked: true; answered: false; reason: string }
  | { checked: false; reason: string };

export interface AddressChecker {
  /** The public address of `host` through the ingress; never throws. */
  check(host: string): Promise<AddressCheck>;
}

/** No ingress base URL configured: nothing is checked, and the reason says so. */
export class UncheckedAddresses implements AddressChecker {
  constructor(private readonly reason = "no ingress address is configured (ODOO_SAAS_INGRESS_URL)") {}
  async check(): Promise<AddressCheck> {
    return { checked: false, reason: this.reason };
  }
}

export class IngressHealthChecker implements AddressChecker {
  private readonly base: URL;

  constructor(baseUrl: string, private readonly timeoutMs = 3_000) {
    this.base = new URL(baseUrl);
    if (this.base.protocol !== "http:" && this.base.protocol !== "https:") throw new Error(`ingress URL "${baseUrl}" is not http(s)`);
  }

  check(host: string): Promise<AddressCheck> {
    const url = new URL("/web/health", this.base);
    const get = url.protocol === "https:" ? https.get : http.get;
    return new Promise((resolve) => {
      const req = get(url, { headers: { host }, timeout: this.timeoutMs, ...(url.protocol === "https:" ? { servername: host } : {}) }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve(status === 200 ? { checked: true, answered: true } : { checked: true, answered: false, reason: `${host} answered HTTP ${status} through the ingress` });
      });
      req.on("timeout", () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on("error", (err) => {
        const reason = `the ingress did not answer for ${host}: ${err.message.split("\n")[0]?.slice(0, 200) ?? ""}`;
        // The ingress itself could not be reached: the address was not observed either way.
        const unreachable = ["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND"].includes((err as NodeJS.ErrnoException).code ?? "");
        resolve(unreachable ? { checked: false, reason } : { checked: true, answered: false, reason });
      });
    });
  }
}

/**
 * The address of each tenant (id → host), at most `parallel` requests at a time and all within
 * `deadlineMs`: a listing of hundreds behind an ingress that swallows requests answers in
 * seconds, the addresses not checked by then "not checked" with the reason.
 */
export async function checkAddresses(
  checker: AddressChecker, hosts: ReadonlyMap<string, string>, options: { parallel?: number; deadlineMs?: number } = {},
): Promise<Map<string, AddressCheck>> {
  const deadlineMs = options.deadlineMs ?? 5_000;
  const queue = [...hosts];
  const result = new Map<string, AddressCheck>();
  let expired = false;
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined && !expired; next = queue.shift()) {
      const [id, host] = next;
      const seen = await checker.check(host);
      if (!expired) result.set(id, seen);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, deadlineMs); });
  await Promise.race([Promise.all(Array.from({ length: Math.min(options.parallel ?? 16, hosts.size) }, worker)), deadline]);
  expired = true;
  clearTimeout(timer);
  for (const [id] of hosts) {
    if (!result.has(id)) result.set(id, { checked: false, reason: `its address was not checked within this listing's ${deadlineMs / 1000} s` });
  }
  return result;
}

/**
 * ODOO_SAAS_INGRESS_URL (e.g. http://127.0.0.1:<port> from `scripts/local-cluster env`), or nothing
 * checked. Answers are remembered briefly, so a metrics scrape and listings cost one request per host.
 */
export function addressCheckerFrom(ingressUrl: string | undefined): AddressChecker {
  return ingressUrl === undefined || ingressUrl === "" ? new UncheckedAddresses() : new RecentAddressChecks(new IngressHealthChecker(ingressUrl));
}
