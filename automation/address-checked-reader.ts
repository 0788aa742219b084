/**
 * A ClusterStatusReader that adds, for tenants whose Odoo pod is Ready, whether the tenant's
 * public address answered /web/health through the ingress (cluster-status.ts calls a tenant
 * "ready" only then). Tenants without a Ready pod are not requested: nothing could answer.
 */
import { odooReadiness, type ClusterObservation, type ClusterStatusReader } from "./cluster-status";
import { checkAddresses, type AddressChecker } from "./ingress-health";

/** Cluster reads and health requests in flight at once for a listing (hundreds of tenants stay bounded). */
const PARALLEL = 16;

/** Whether the tenant has a Ready Odoo pod: only then can its address answer. */
function podReady(observation: ClusterObservation): observation is Extract<ClusterObservation, { reachable: true }> {
  return observation.reachable && odooReadiness(observation.pods).ready;
}

export class AddressCheckedReader implements ClusterStatusReader {
  constructor(
    private readonly inner: ClusterStatusReader,
    private readonly checker: AddressChecker,
    /** The tenant's public host name (`<id>.<baseDomain>`). */
    private readonly hostOf: (tenantId: string) => string,
  ) {}

  private async withAddress(tenantId: string, observation: ClusterObservation): Promise<ClusterObservation> {
    if (!podReady(observation)) return observation;
    return { ...observation, address: await this.checker.check(this.hostOf(tenantId)) };
  }

  async observe(tenantId: string): Promise<ClusterObservation> {
    return this.withAddress(tenantId, await this.inner.observe(tenantId));
  }

  async observeMany(tenantIds: readonly string[]): Promise<Map<string, ClusterObservation>> {
    const observed = new Map(this.inner.observeMany ? await this.inner.observeMany(tenantIds) : []);
    for (let i = 0; i < tenantIds.length; i += PARALLEL) {
      const missing = tenantIds.slice(i, i + PARALLEL).filter((id) => !observed.has(id));
      const read = await Promise.all(missing.map((id) => this.inner.observe(id)));
      missing.forEach((id, j) => observed.set(id, read[j] as ClusterObservation));
    }
    // Tenants with a Ready pod get their address checked, all within the listing's deadline.
    const ready = tenantIds.filter((id) => { const o = observed.get(id); return o !== undefined && podReady(o); });
    const addresses = await checkAddresses(this.checker, new Map(ready.map((id) => [id, this.hostOf(id)])), { parallel: PARALLEL });
    const result = new Map<string, ClusterObservation>();
    for (const id of tenantIds) {
      const o = observed.get(id) as ClusterObservation;
      const address = addresses.get(id);
      result.set(id, address !== undefined && o.reachable ? { ...o, address } : o);
    }
    return result;
  }
}
