/**
 * The role set-up of a tenant's PostgreSQL (components/postgres-roles/): an init container of the
 * PostgreSQL pod runs setup-roles.sh, which initialises a fresh volume as the image would and then
 * runs setup-roles.sql as the bootstrap superuser, on every start. The superuser's Secret is
 * mounted here only; Odoo, backup, restore and upload Jobs get the application role's.
 * The same SQL file runs in the backup suite against a real PostgreSQL (test/backup/role-setup.test.ts).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as k8s from "@pulumi/kubernetes";
import { tenantNames } from "../naming";
import { containerSecurityContext } from "../security";
import type { OdooTenantArgs } from "../tenant-args";
import { resources, secretEnv } from "./common";

export const ROLE_SETUP_FILES = ["setup-roles.sh", "setup-roles.sql"] as const;
export type RoleSetupFile = (typeof ROLE_SETUP_FILES)[number];
const ROLE_SETUP_DIR = "/opt/odoo-saas/postgres";

/** Path of a role set-up file in this repository (works from both sources and dist/). */
export function roleSetupFile(file: RoleSetupFile): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, "components", "postgres-roles", file);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`components/postgres-roles/${file} not found above ${__dirname}`);
}

/** The ConfigMap's data: both files, as they are in the repository. */
export function roleSetupSources(): Record<RoleSetupFile, string> {
  const read = (file: RoleSetupFile) => fs.readFileSync(roleSetupFile(file), "utf8");
  return { "setup-roles.sh": read("setup-roles.sh"), "setup-roles.sql": read("setup-roles.sql") };
}

/** Changes exactly when the set-up does, so the pod restarts and runs the new one. */
export function roleSetupChecksum(): string {
  const hash = createHash("sha256");
  for (const [file, text] of Object.entries(roleSetupSources())) hash.update(`${file}\0${text}\0`);
  return hash.digest("hex");
}

/** What the image's entrypoint reads, shared by the init container and the server. */
export function postgresImageEnv(args: OdooTenantArgs, pgdata: string): k8s.types.input.core.v1.EnvVar[] {
  const names = tenantNames(args.id);
  return [
    { name: "POSTGRES_USER", value: names.dbSuperuser },
    { name: "POSTGRES_DB", value: names.database },
    { name: "PGDATA", value: pgdata },
    { name: "POSTGRES_INITDB_ARGS", value: "--encoding=UTF8 --locale=C.UTF-8" },
  ];
}

export function roleSetupContainer(args: OdooTenantArgs, pgdata: string, volumeMounts: k8s.types.input.core.v1.VolumeMount[]): k8s.types.input.core.v1.Container {
  const names = tenantNames(args.id);
  return {
    name: "setup-roles",
    image: args.postgresImage,
    command: ["bash", `${ROLE_SETUP_DIR}/setup-roles.sh`],
    env: [
      ...postgresImageEnv(args, pgdata),
      secretEnv("POSTGRES_PASSWORD", names.dbSuperuserSecret, "password"),
      { name: "ODOO_SAAS_APP_ROLE", value: names.dbUser },
      secretEnv("ODOO_SAAS_APP_PASSWORD", names.dbSecret, "password"),
      { name: "ODOO_SAAS_DATABASE", value: names.database },
    ],
    resources: resources(args.plan.postgres),
    securityContext: containerSecurityContext(),
    volumeMounts: [...volumeMounts, { name: "setup", mountPath: ROLE_SETUP_DIR, readOnly: true }],
  };
}

export function roleSetupVolume(args: OdooTenantArgs): k8s.types.input.core.v1.Volume {
  return { name: "setup", configMap: { name: tenantNames(args.id).postgresSetup, defaultMode: 0o444 } };
}
