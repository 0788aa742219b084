import { resolveTenantArgs, type OdooTenantArgs } from "../../components/tenant-args";
import { requireStackConfig } from "../../tenants/validate";
import { tenant, validConfig } from "./fixtures";
import type { TenantInput } from "../../tenants/schema";

/** Resolved args for one tenant of an otherwise valid config. */
export function argsFor(overrides: Partial<TenantInput> & { id: string }, platform: Record<string, unknown> = {}): OdooTenantArgs {
  const config = requireStackConfig({ ...validConfig([tenant(overrides)]), ...platform });
  return resolveTenantArgs(config, config.tenants[0] as never);
}
