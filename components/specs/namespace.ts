import { tenantLabels } from "../labels";
import { tenantNames } from "../naming";
import type { OdooTenantArgs } from "../tenant-args";
import type { ObjectMeta } from "./common";

/**
 * The tenant namespace enforces the "restricted" Pod Security Standard: every image the
 * platform runs (odoo, postgres, backup) works as non-root without capabilities.
 */
export function namespaceMetadata(args: OdooTenantArgs): ObjectMeta & { name: string } {
  return {
    name: tenantNames(args.id).namespace,
    labels: {
      ...tenantLabels(args.id, "tenant"),
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
    },
    annotations: {
      "odoo-saas.io/plan": args.planName,
      "odoo-saas.io/admin-email": args.adminEmail,
      ...(args.ownerId !== undefined ? { "odoo-saas.io/owner": args.ownerId } : {}),
    },
  };
}
