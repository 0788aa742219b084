/** The cluster connection: KUBECONFIG (or ~/.kube/config), as kubectl would find it. */
import * as k8s from "@kubernetes/client-node";

export function loadKubeConfig(kubeconfigPath = process.env.KUBECONFIG): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (kubeconfigPath !== undefined && kubeconfigPath !== "") kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

/** HTTP status of a client-node ApiException, if it is one. */
export function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return httpStatus(err) === 404;
}
