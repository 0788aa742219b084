/**
 * Helpers of the node suite's lifecycle and recovery tests: a stack of small tenants on the
 * real node (images from the local build, Odoo's the STAND-IN), the customer status computed by
 * the server's own parts (KubernetesStatusReader + AddressCheckedReader + customerStatus) against
 * the real cluster and the real ingress, and requests through the ingress forwarder by host name.
 */
import * as http from "node:http";
import * as k8s from "@kubernetes/client-node";
import { AddressCheckedReader } from "../../automation/address-checked-reader";
import { KubernetesStatusReader } from "../../automation/cluster-status";
import { customerStatus, type CustomerStatusView } from "../../automation/customer-status";
import { IngressHealthChecker } from "../../automation/ingress-health";
import type { StackConfigInput } from "../../tenants/schema";
import { tenant, validConfig } from "../support/fixtures";
import { image, realCluster } from "./real-cluster";

export const DOMAIN = "odoo-saas.test";

/** Small requests, so these tenants fit on the 2-CPU node beside the suite's others. */
const TINY = {
  odoo: { cpu: { request: "20m", limit: "1" }, memory: { request: "64Mi", limit: "512Mi" } },
  postgres: { cpu: { request: "20m", limit: "500m" }, memory: { request: "64Mi", limit: "512Mi" } },
  workers: 0, databaseStorage: "1Gi", filestoreStorage: "1Gi", backupStorage: "1Gi",
  quota: { cpu: "3", memory: "3Gi", storage: "10Gi", pods: 10 },
};

export function lifeConfig(tenants: Array<{ id: string; suspended?: boolean }>): StackConfigInput {
  const standin = { image: image("odoo-standin"), uid: 101, gid: 101 };
  return {
    ...validConfig(tenants.map((t) => tenant({ id: t.id, plan: "tiny", ...(t.suspended ? { suspended: true } : {}) }))),
    plans: { tiny: TINY },
    images: { odoo: { "17.0": standin, "18.0": standin }, postgres: image("postgres"), backup: image("backup") },
  };
}

export function ingressUrl(): string {
  const url = realCluster().ingressUrl;
  if (url === undefined) throw new Error("the cluster has no ingress forwarder");
  return url;
}

/** What the API would tell the customer now, from the real cluster and the real ingress. */
export async function statusNow(id: string, suspended = false): Promise<CustomerStatusView> {
  const reader = new AddressCheckedReader(new KubernetesStatusReader(realCluster().kc), new IngressHealthChecker(ingressUrl()), (t) => `${t}.${DOMAIN}`);
  const cluster = await reader.observe(id);
  return customerStatus({ tenant: { state: "active", suspended, lastOperationId: "op_node" }, pending: [], cluster });
}

/** One HTTP request through the ingress forwarder with the tenant's host name; status and body. */
export function throughIngress(host: string, method: string, urlPath: string, form?: Record<string, string>): Promise<{ status: number; body: string }> {
  const body = form === undefined ? undefined : new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(urlPath, ingressUrl()), {
      method, timeout: 5_000,
      headers: { host, ...(body !== undefined ? { "content-type": "application/x-www-form-urlencoded", "content-length": String(Buffer.byteLength(body)) } : {}) },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => { text += c; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
    req.on("error", reject);
    req.end(body);
  });
}

/** The tenant's admin login and password, from its Secret (the owner's credentials). */
export async function adminCredentials(id: string): Promise<{ login: string; password: string }> {
  const secret = await realCluster().kc.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name: `${id}-admin`, namespace: `tenant-${id}` });
  const decode = (key: string): string => Buffer.from(secret.data?.[key] ?? "", "base64").toString("utf8");
  return { login: decode("login"), password: decode("password") };
}

/** The host folder of the local PV behind the tenant's PostgreSQL claim. */
export async function postgresVolumeDir(id: string): Promise<string> {
  const core = realCluster().kc.makeApiClient(k8s.CoreV1Api);
  const pod = await core.readNamespacedPod({ name: `${id}-postgres-0`, namespace: `tenant-${id}` });
  const claim = pod.spec?.volumes?.find((v) => v.name === "data")?.persistentVolumeClaim?.claimName;
  if (claim === undefined) throw new Error(`${id}-postgres-0 has no claim`);
  const pvc = await core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: `tenant-${id}` });
  const pv = await core.readPersistentVolume({ name: pvc.spec?.volumeName ?? "" });
  const dir = pv.spec?.local?.path;
  if (dir === undefined) throw new Error(`PV ${pv.metadata?.name} is not a local volume`);
  return dir;
}
