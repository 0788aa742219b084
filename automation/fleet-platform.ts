/**
 * The one module through which the signup server reads the fleet stack (the fleet's own stack,
 * `Pulumi.<fleetStack>.yaml`): its platform keys, and the ids and hosts its pull-request tenants
 * use. Signup's taken names, the admin overview's pull-request rows, upload limits and the
 * backup store all ask here; only this module calls readFleetStack (the engine reads the platform
 * keys it copies through the same readFleetStack). A file that cannot be read or whose platform
 * keys are invalid answers 503 to the caller, with the reason in the log only.
 */
import { StackFileError } from "../tenants/config-source";
import type { Plan, StackConfig } from "../tenants/schema";
import { planNamed, tenantHost } from "../tenants/validate";
import { ApiError } from "./api-error";
import type { Logger } from "./log";
import { readFleetStack, type FleetStackSnapshot } from "./fleet-stack";

export const PLATFORM_BUSY = "our platform cannot take requests right now; please try again later";

export class FleetPlatform {
  constructor(readonly file: string, private readonly log: Logger) {}

  snapshot(): FleetStackSnapshot {
    try {
      return readFleetStack(this.file);
    } catch (err) {
      if (err instanceof StackFileError) {
        this.log.log("error", err.message);
        throw new ApiError(503, "platform_unavailable", PLATFORM_BUSY);
      }
      throw err;
    }
  }

  config(): StackConfig {
    const fleet = this.snapshot();
    if (!fleet.platform.ok) {
      this.log.log("error", "the fleet stack's platform keys are invalid", { file: fleet.file });
      throw new ApiError(503, "platform_config_invalid", PLATFORM_BUSY);
    }
    return fleet.platform.config;
  }

  /** The platform keys, or why they cannot be had, without answering anyone (start-up choices). */
  tryConfig(): { ok: true; config: StackConfig } | { ok: false; reason: string } {
    let fleet: FleetStackSnapshot;
    try {
      fleet = readFleetStack(this.file);
    } catch (err) {
      return { ok: false, reason: `the fleet stack file cannot be read: ${(err as Error).message}` };
    }
    return fleet.platform.ok ? { ok: true, config: fleet.platform.config } : { ok: false, reason: "the fleet stack's platform keys are invalid" };
  }

  /** A plan of the platform by name (own keys only); undefined when unknown or the keys are invalid. */
  plan(name: string): Plan | undefined {
    const fleet = this.snapshot();
    return fleet.platform.ok ? planNamed(fleet.platform.config, name) : undefined;
  }

  /** The ids of the fleet stack's own (pull-request) tenants: they block customers' names. */
  tenantIds(): ReadonlySet<string> {
    return this.snapshot().tenantIds;
  }

  /** Whether a pull-request tenant already uses this id, or the host a tenant of this id would be served at. */
  takenByFleetTenant(id: string): boolean {
    const fleet = this.snapshot();
    const baseDomain = fleet.platform.ok ? fleet.platform.config.baseDomain : undefined;
    return fleet.tenantIds.has(id) || (baseDomain !== undefined && fleet.hosts.has(tenantHost({ baseDomain }, id)));
  }

  /** The tenant's address by the component's rule (before its stack reported one). */
  address(tenantId: string): { url: string; host: string } {
    const fleet = this.snapshot();
    // A broken fleet file must not hide the list: fall back to its raw baseDomain.
    const baseDomain = fleet.platform.ok ? fleet.platform.config.baseDomain : String(fleet.platformRaw.baseDomain ?? "");
    const host = tenantHost({ baseDomain }, tenantId);
    const scheme = fleet.platform.ok && fleet.platform.config.ingress.clusterIssuer !== undefined ? "https" : "http";
    return { url: `${scheme}://${host}`, host };
  }
}
