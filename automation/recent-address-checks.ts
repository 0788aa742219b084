/**
 * An AddressChecker that remembers each host's last answer for a short while, so a listing, a
 * metrics scrape and customer pages polling at once cost one health request per host, not one
 * each. Concurrent checks of one host share the request in flight. Only an address that
 * answered is remembered (15 s by default): a status read within that time says what was
 * observed then, while a tenant coming up is seen answering at the very next read.
 */
import type { AddressCheck, AddressChecker } from "./ingress-health";

export interface RecentAddressChecksOptions {
  /** How long an answered address is taken as answered (ms). */
  answeredMs?: number;
  /** A request in flight is shared this long at most (ms): a check that never settles does not hold every later read. */
  inFlightMs?: number;
  /** At most this many hosts are remembered; the oldest are forgotten first. */
  maxHosts?: number;
  now?: () => number;
}

interface Remembered {
  at: number;
  result: Promise<AddressCheck>;
  settled?: AddressCheck;
}

export class RecentAddressChecks implements AddressChecker {
  private readonly byHost = new Map<string, Remembered>();
  private readonly answeredMs: number;
  private readonly inFlightMs: number;
  private readonly maxHosts: number;
  private readonly now: () => number;

  constructor(private readonly inner: AddressChecker, options: RecentAddressChecksOptions = {}) {
    this.answeredMs = options.answeredMs ?? 15_000;
    this.inFlightMs = options.inFlightMs ?? 10_000;
    this.maxHosts = options.maxHosts ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  check(host: string): Promise<AddressCheck> {
    const now = this.now();
    const known = this.byHost.get(host);
    if (known !== undefined && this.fresh(known, now)) return known.result;
    const entry: Remembered = { at: now, result: this.inner.check(host) };
    entry.result.then((result) => { entry.settled = result; }, () => undefined);
    // Re-inserted at the end, so the Map's order is oldest first.
    this.byHost.delete(host);
    this.byHost.set(host, entry);
    for (const oldest of this.byHost.keys()) {
      if (this.byHost.size <= this.maxHosts) break;
      this.byHost.delete(oldest);
    }
    return entry.result;
  }

  private fresh(entry: Remembered, now: number): boolean {
    if (entry.settled === undefined) return now - entry.at < this.inFlightMs; // in flight: share it
    // Only an answered address is remembered; anything else is asked again at the next read.
    return entry.settled.checked && entry.settled.answered && now - entry.at < this.answeredMs;
  }
}
