import * as fs from "node:fs";
import * as path from "node:path";
import type * as k8s from "@pulumi/kubernetes";
import { PART_OF, selectorLabels, tenantLabels } from "../labels";
import { tenantNames } from "../naming";
import { containerSecurityContext, podSecurityContext } from "../security";
import type { OdooTenantArgs } from "../tenant-args";
import { resources, SERVICE_SKIP_AWAIT, secretEnv, volumeClaim, type Manifest } from "./common";
import { ODOO_CONF_DIR, ODOO_DATA_DIR, ODOO_HTTP_PORT, ODOO_WEBSOCKET_PORT, odooConfChecksum } from "./odoo-conf";
import { dbClientLabel } from "./postgres";

const INIT_DIR = "/opt/odoo-saas";
const INIT_SCRIPT = "init_tenant.py";

/** The first-start script, read from this repository (works from both sources and dist/). */
export function initScriptSource(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, "components", "odoo-init", INIT_SCRIPT);
    if (fs.existsSync(candidate)) return fs.readFileSync(candidate, "utf8");
  }
  throw new Error(`components/odoo-init/${INIT_SCRIPT} not found above ${__dirname}`);
}

export function odooDataClaim(args: OdooTenantArgs): Manifest<k8s.types.input.core.v1.PersistentVolumeClaimSpec> {
  return volumeClaim(args, tenantNames(args.id).odooData, "odoo", args.plan.filestoreStorage);
}

function usesWebsocketPort(args: OdooTenantArgs): boolean {
  return args.plan.workers > 0;
}

export function odooService(args: OdooTenantArgs): Manifest<k8s.types.input.core.v1.ServiceSpec> {
  const names = tenantNames(args.id);
  const ports: k8s.types.input.core.v1.ServicePort[] = [{ name: "http", port: ODOO_HTTP_PORT, targetPort: "http", protocol: "TCP" }];
  if (usesWebsocketPort(args)) ports.push({ name: "websocket", port: ODOO_WEBSOCKET_PORT, targetPort: "websocket", protocol: "TCP" });
  return {
    metadata: { name: names.odoo, namespace: names.namespace, labels: tenantLabels(args.id, "odoo", args.odooVersion), annotations: SERVICE_SKIP_AWAIT },
    spec: { type: "ClusterIP", selector: selectorLabels(args.id, "odoo"), ports },
  };
}

/** Soft anti-affinity across ALL tenants' Odoo pods, so tenants do not pile up on one node. */
function spreadAcrossTenants(): k8s.types.input.core.v1.Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: "kubernetes.io/hostname",
            labelSelector: { matchLabels: { "app.kubernetes.io/name": "odoo", "app.kubernetes.io/part-of": PART_OF } },
            // Topology spread constraints only count one namespace; anti-affinity can see all tenants.
            namespaceSelector: { matchLabels: { "app.kubernetes.io/part-of": PART_OF } },
          },
        },
      ],
    },
  };
}

export function odooDeployment(args: OdooTenantArgs): Manifest<k8s.types.input.apps.v1.DeploymentSpec> {
  const names = tenantNames(args.id);
  const labels = { ...tenantLabels(args.id, "odoo", args.odooVersion), ...dbClientLabel };
  const { uid, gid, image } = args.odooImage;
  const confMount = { name: "config", mountPath: ODOO_CONF_DIR, readOnly: true };
  const dataMount = { name: "data", mountPath: ODOO_DATA_DIR };
  const tmpMount = { name: "tmp", mountPath: "/tmp" };
  const ports: k8s.types.input.core.v1.ContainerPort[] = [{ name: "http", containerPort: ODOO_HTTP_PORT, protocol: "TCP" }];
  if (usesWebsocketPort(args)) ports.push({ name: "websocket", containerPort: ODOO_WEBSOCKET_PORT, protocol: "TCP" });
  return {
    metadata: { name: names.odoo, namespace: names.namespace, labels },
    spec: {
      replicas: args.suspended ? 0 : 1,
      // The filestore volume is ReadWriteOnce: the old pod must let go before the new one starts.
      strategy: { type: "Recreate" },
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(args.id, "odoo") },
      template: {
        // Odoo reads odoo.conf at start: a changed config must restart it (a Secret update alone
        // does not). The checksum covers the config without its secrets, which never change.
        metadata: { labels, annotations: { "odoo-saas.io/config-checksum": odooConfChecksum(args) } },
        spec: {
          serviceAccountName: names.odooServiceAccount,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(uid, gid),
          affinity: spreadAcrossTenants(),
          terminationGracePeriodSeconds: 60,
          initContainers: [
            {
              name: "init-database",
              image,
              command: ["python3", `${INIT_DIR}/${INIT_SCRIPT}`],
              env: [
                { name: "ODOO_RC", value: `${ODOO_CONF_DIR}/odoo.conf` },
                { name: "TENANT_DB", value: names.database },
                secretEnv("ODOO_ADMIN_LOGIN", names.adminSecret, "login"),
                secretEnv("ODOO_ADMIN_PASSWORD", names.adminSecret, "password"),
              ],
              resources: resources(args.plan.odoo),
              securityContext: containerSecurityContext(),
              volumeMounts: [confMount, dataMount, tmpMount, { name: "init", mountPath: INIT_DIR, readOnly: true }],
            },
          ],
          containers: [
            {
              name: "odoo",
              image,
              env: [{ name: "ODOO_RC", value: `${ODOO_CONF_DIR}/odoo.conf` }],
              ports,
              resources: resources(args.plan.odoo),
              securityContext: containerSecurityContext(),
              // The database is initialised by the init container; start-up only loads the registry.
              startupProbe: { httpGet: { path: "/web/health", port: "http" }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 30 },
              readinessProbe: { httpGet: { path: "/web/health?db_server_status=1", port: "http" }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
              livenessProbe: { httpGet: { path: "/web/health", port: "http" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
              volumeMounts: [confMount, dataMount, tmpMount],
            },
          ],
          volumes: [
            { name: "config", secret: { secretName: names.odooConfigSecret, defaultMode: 0o440 } },
            { name: "data", persistentVolumeClaim: { claimName: names.odooData } },
            { name: "tmp", emptyDir: {} },
            { name: "init", configMap: { name: names.initScript, defaultMode: 0o444 } },
          ],
        },
      },
    },
  };
}
