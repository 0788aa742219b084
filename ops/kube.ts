/** The cluster connection: KUBECONFIG (or ~/.kube/config), as kubectl would find it. */
import * as k8s from "@kubernetes/client-node";
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";

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

/**
 * An API object back in its wire (JSON) form. The client's model classes rename fields
 * that are reserved words (NetworkPolicy's `from` is `_from`), so code that reads objects
 * as plain data must convert them first.
 */
export function toWire<T>(object: unknown, type: string): T {
  return ObjectSerializer.serialize(object, type, "") as T;
}

/** The inverse of toWire: a wire-form object as the client's model (`from` -> `_from`). */
export function fromWire<T>(object: unknown, type: string): T {
  return ObjectSerializer.deserialize(object, type, "") as T;
}
