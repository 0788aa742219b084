/**
 * The fleet stack file as the API reads it (platform keys, the ids and hosts pull-request
 * tenants use): a file that cannot be read or whose platform keys are invalid answers 503 to
 * the caller, with the reason in the log only.
 */
import { StackFileError } from "../tenants/config-source";
import type { StackConfig } from "../tenants/schema";
import { tenantHost } from "../tenants/validate";
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

  /** The tenant's address by the component's rule (before its stack reported one). */
  address(tenantId: string): { url: string; host: string } {
    const fleet = this.snapshot();
    // A broken fleet stack file must not hide the list: fall back to its raw baseDomain.
    const baseDomain = fleet.platform.ok ? fleet.platform.config.baseDomain : String(fleet.platformRaw.baseDomain ?? "");
    const host = tenantHost({ baseDomain }, tenantId);
    const scheme = fleet.platform.ok && fleet.platform.config.ingress.clusterIssuer !== undefined ? "https" : "http";
    return { url: `${scheme}://${host}`, host };
  }
}
