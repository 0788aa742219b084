import type * as k8s from "@pulumi/kubernetes";
import { DB_CLIENT_LABEL, selectorLabels, tenantLabels } from "../labels";
import { tenantNames } from "../naming";
import { containerSecurityContext, podSecurityContext, POSTGRES_UID } from "../security";
import type { OdooTenantArgs } from "../tenant-args";
import { resources, SERVICE_SKIP_AWAIT, type Manifest } from "./common";
import { postgresImageEnv, roleSetupChecksum, roleSetupContainer, roleSetupVolume } from "./postgres-roles";

export const POSTGRES_PORT = 5432;
/** PGDATA below the mount point: a fresh volume's lost+found makes initdb refuse the mount itself. */
const DATA_MOUNT = "/var/lib/postgresql/data";
const PGDATA = `${DATA_MOUNT}/pgdata`;

export function postgresService(args: OdooTenantArgs): Manifest<k8s.types.input.core.v1.ServiceSpec> {
  const names = tenantNames(args.id);
  return {
    metadata: { name: names.postgres, namespace: names.namespace, labels: tenantLabels(args.id, "postgres"), annotations: SERVICE_SKIP_AWAIT },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(args.id, "postgres"),
      ports: [{ name: "postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP" }],
    },
  };
}

function pgIsReady(args: OdooTenantArgs): string[] {
  const names = tenantNames(args.id);
  return ["pg_isready", "--host=127.0.0.1", `--port=${POSTGRES_PORT}`, `--username=${names.dbSuperuser}`, `--dbname=${names.database}`];
}

export function postgresStatefulSet(args: OdooTenantArgs): Manifest<k8s.types.input.apps.v1.StatefulSetSpec> {
  const names = tenantNames(args.id);
  const labels = tenantLabels(args.id, "postgres");
  const volumeMounts = [
    { name: "data", mountPath: DATA_MOUNT },
    // Writable places a read-only root file system still needs.
    { name: "run", mountPath: "/var/run/postgresql" },
    { name: "tmp", mountPath: "/tmp" },
    { name: "shm", mountPath: "/dev/shm" },
  ];
  return {
    metadata: { name: names.postgres, namespace: names.namespace, labels },
    spec: {
      serviceName: names.postgres,
      replicas: 1,
      selector: { matchLabels: selectorLabels(args.id, "postgres") },
      // Volumes outlive the StatefulSet: removing a tenant never drops its database (see README).
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      template: {
        // A changed role set-up restarts the pod, whose init container then runs it.
        metadata: { labels, annotations: { "odoo-saas.io/role-setup-checksum": roleSetupChecksum() } },
        spec: {
          serviceAccountName: names.postgresServiceAccount,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(POSTGRES_UID, POSTGRES_UID),
          terminationGracePeriodSeconds: 60,
          // Initialises a fresh volume, then sets the roles (fresh and existing volumes alike)
          // before the server listens on the network. The only holder of the superuser's Secret.
          initContainers: [roleSetupContainer(args, PGDATA, volumeMounts)],
          containers: [
            {
              name: "postgres",
              image: args.postgresImage,
              ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
              // No password: the volume is always initialised by then, so the entrypoint only starts the server.
              env: postgresImageEnv(args, PGDATA),
              resources: resources(args.plan.postgres),
              securityContext: containerSecurityContext(),
              readinessProbe: { exec: { command: pgIsReady(args) }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
              livenessProbe: { exec: { command: pgIsReady(args) }, initialDelaySeconds: 30, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 6 },
              volumeMounts,
            },
          ],
          volumes: [
            { name: "run", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
            { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
            roleSetupVolume(args),
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data", labels },
          spec: {
            accessModes: ["ReadWriteOnce"],
            ...(args.storageClassName !== undefined ? { storageClassName: args.storageClassName } : {}),
            resources: { requests: { storage: args.plan.databaseStorage } },
          },
        },
      ],
    },
  };
}

/** Pods that may open connections to PostgreSQL carry this label (Odoo, backup jobs). */
export const dbClientLabel: Record<string, string> = { [DB_CLIENT_LABEL]: "true" };
