/**
 * The one module through which the signup server reads the ops stack (the fleet's own stack,
 * `Pulumi.<opsStack>.yaml`): its platform keys, and the ids and hosts its pull-request tenants
 * use. Signup's taken names, the admin overview's pull-request rows, upload limits and the
 * backup store all ask here; only this module calls readOpsStack (the engine reads the platform
 * keys it copies through the same readOpsStack). A file that cannot be read or whose platform
 * keys are invalid answers 503 to the caller, with the reason in the log only.
 */
import { StackFileError } from "../tenants/config-source";
import type { Plan, StackConfig } from "../tenants/schema";
import { planNamed, tenantHost } from "../tenants/validate";
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

  /** The platform keys, or why they cannot be had, without answering anyone (start-up choices). */
  tryConfig(): { ok: true; config: StackConfig } | { ok: false; reason: string } {
    let ops: OpsStackSnapshot;
    try {
      ops = readOpsStack(this.file);
    } catch (err) {
      return { ok: false, reason: `the ops stack file cannot be read: ${(err as Error).message}` };
    }
    return ops.platform.ok ? { ok: true, config: ops.platform.config } : { ok: false, reason: "the ops stack's platform keys are invalid" };
  }

  /** A plan of the platform by name (own keys only); undefined when unknown or the keys are invalid. */
  plan(name: string): Plan | undefined {
    const ops = this.snapshot();
    return ops.platform.ok ? planNamed(ops.platform.config, name) : undefined;
  }

  /** The ids of the ops stack's own (pull-request) tenants: they block customers' names. */
  tenantIds(): ReadonlySet<string> {
    return this.snapshot().tenantIds;
  }

  /** Whether a pull-request tenant already uses this id, or the host a tenant of this id would be served at. */
  takenByOpsTenant(id: string): boolean {
    const ops = this.snapshot();
    const baseDomain = ops.platform.ok ? ops.platform.config.baseDomain : undefined;
    return ops.tenantIds.has(id) || (baseDomain !== undefined && ops.hosts.has(tenantHost({ baseDomain }, id)));
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
