/** The cluster connection: KUBECONFIG (or ~/.kube/config), as kubectl would find it. */
import * as k8s from "@kubernetes/client-node";
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";

export function loadKubeConfig(kubeconfigPath = process.env.KUBECONFIG): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (kubeconfigPath !== undefined && kubeconfigPath !== "") kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

/**
 * A kubeconfig setting as the servers take it: a path, empty/undefined for kubectl's defaults,
 * or "none" (no cluster). Returns why no usable cluster came out of it instead of throwing.
 */
export function kubeConfigFromSetting(setting: string | undefined): { kc: k8s.KubeConfig } | { unusable: string } {
  if (setting === "none") return { unusable: "cluster reads are disabled (KUBECONFIG=none)" };
  try {
    const kc = loadKubeConfig(setting ?? "");
    return kc.getCurrentCluster() === null ? { unusable: "no cluster in the kubeconfig" } : { kc };
  } catch (err) {
    return { unusable: `kubeconfig not usable: ${(err as Error).message.split("\n")[0] ?? ""}` };
  }
}

/** HTTP status of a client-node ApiException, if it is one. */
export function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return httpStatus(err) === 404;
}

/**
 * An API object back in its wire (JSON) form. The client's model classes rename fields
 * that are reserved words (NetworkPolicy's `from` is `_from`), so code that reads objects
 * as plain data must convert them first.
 */
export function toWire<T>(object: unknown, type: string): T {
  return ObjectSerializer.serialize(object, type, "") as T;
}
