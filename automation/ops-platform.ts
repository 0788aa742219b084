/**
 * The ops stack file as the API reads it (platform keys, the ids and hosts pull-request
 * tenants use): a file that cannot be read or whose platform keys are invalid answers 503 to
 * the caller, with the reason in the log only.
 */
import { StackFileError } from "../tenants/config-source";
import type { StackConfig } from "../tenants/schema";
import { tenantHost } from "../tenants/validate";
import { ApiError } from "./api-error";
import type { Logger } from "./log";
import { readOpsStack, type OpsStackSnapshot } from "./ops-stack";

export const PLATFORM_BUSY = "our platform cannot take requests right now; please try again later";

export class OpsPlatform {
  constructor(readonly file: string, private readonly log: Logger) {}

  snapshot(): OpsStackSnapshot {
    try {
      return readOpsStack(this.file);
    } catch (err) {
      if (err instanceof StackFileError) {
        this.log.log("error", err.message);
        throw new ApiError(503, "platform_unavailable", PLATFORM_BUSY);
      }
      throw err;
    }
  }

  config(): StackConfig {
    const ops = this.snapshot();
    if (!ops.platform.ok) {
      this.log.log("error", "the ops stack's platform keys are invalid", { file: ops.file });
      throw new ApiError(503, "platform_config_invalid", PLATFORM_BUSY);
    }
    return ops.platform.config;
  }

  /** The tenant's address by the component's rule (before its stack reported one). */
  address(tenantId: string): { url: string; host: string } {
    const ops = this.snapshot();
    // A broken ops file must not hide the list: fall back to its raw baseDomain.
    const baseDomain = ops.platform.ok ? ops.platform.config.baseDomain : String(ops.platformRaw.baseDomain ?? "");
    const host = tenantHost({ baseDomain }, tenantId);
    const scheme = ops.platform.ok && ops.platform.config.ingress.clusterIssuer !== undefined ? "https" : "http";
    return { url: `${scheme}://${host}`, host };
  }
}
