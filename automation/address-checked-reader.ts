/**
 * A ClusterStatusReader that adds, for tenants whose Odoo pod is Ready, whether the tenant's
 * public address answered /web/health through the ingress (cluster-status.ts calls a tenant
 * "ready" only then). Tenants without a Ready pod are not requested: nothing could answer.
 */
import { odooReadiness, type ClusterObservation, type ClusterStatusReader } from "./cluster-status";
import type { AddressChecker } from "./ingress-health";

/** Health requests in flight at once for a listing (hundreds of tenants stay bounded). */
const PARALLEL = 16;

export class AddressCheckedReader implements ClusterStatusReader {
  constructor(
    private readonly inner: ClusterStatusReader,
    private readonly checker: AddressChecker,
    /** The tenant's public host name (`<id>.<baseDomain>`). */
    private readonly hostOf: (tenantId: string) => string,
  ) {}

  private async withAddress(tenantId: string, observation: ClusterObservation): Promise<ClusterObservation> {
    if (!observation.reachable || !odooReadiness(observation.pods).ready) return observation;
    return { ...observation, address: await this.checker.check(this.hostOf(tenantId)) };
  }

  async observe(tenantId: string): Promise<ClusterObservation> {
    return this.withAddress(tenantId, await this.inner.observe(tenantId));
  }

  async observeMany(tenantIds: readonly string[]): Promise<Map<string, ClusterObservation>> {
    const observed = this.inner.observeMany ? await this.inner.observeMany(tenantIds) : undefined;
    const result = new Map<string, ClusterObservation>();
    for (let i = 0; i < tenantIds.length; i += PARALLEL) {
      const chunk = tenantIds.slice(i, i + PARALLEL);
      const done = await Promise.all(chunk.map(async (id) => {
        const one = observed?.get(id);
        return one === undefined ? this.observe(id) : this.withAddress(id, one);
      }));
      chunk.forEach((id, j) => result.set(id, done[j] as ClusterObservation));
    }
    return result;
  }
}
