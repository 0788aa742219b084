/**
 * The cluster's `tenant-<id>` namespace, as signup and the runner must see it before a create.
 *
 * A retired tenant's namespace (Secrets, database and file volumes: retainOnDelete) outlives
 * its stack's management of it, and a purged one is gone only once its deletion finishes. A
 * create under that id would adopt someone else's kept data, or write new credentials the
 * kept database does not know. So: signup refuses an id whose namespace exists (the name is
 * taken), and the runner checks again, right before the engine, that the namespace either does
 * not exist or is in this tenant's own stack's state (its own earlier, unfinished create).
 */
import * as k8s from "@kubernetes/client-node";
import type { Stack } from "@pulumi/pulumi/automation";
import { tenantNames } from "../components/naming";
import { isNotFound } from "../checks/kube";
import type { Logger, Redactor } from "./log";
import type { RunResult } from "./operation-runner";

/** `unknown`: the cluster could not be read (the reason says why); nothing is concluded from it. */
export type NamespaceReading =
  | { state: "absent" }
  | { state: "present" | "terminating" }
  | { state: "unknown"; reason: string };

export interface TenantNamespaces {
  read(tenantId: string): Promise<NamespaceReading>;
}

/** Reads `tenant-<id>` by name (what would collide), not by label. */
export class KubeTenantNamespaces implements TenantNamespaces {
  private readonly core: k8s.CoreV1Api;

  constructor(kc: k8s.KubeConfig) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async read(tenantId: string): Promise<NamespaceReading> {
    try {
      const ns = await this.core.readNamespace({ name: tenantNames(tenantId).namespace });
      return { state: ns.metadata?.deletionTimestamp ? "terminating" : "present" };
    } catch (err) {
      if (isNotFound(err)) return { state: "absent" };
      return { state: "unknown", reason: (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "" };
    }
  }

  /** Deletes the namespace and waits until it is gone; false when it is still there at the deadline. */
  async deleteAndWait(tenantId: string, timeoutMs: number, pollMs = 1_000): Promise<boolean> {
    const name = tenantNames(tenantId).namespace;
    await this.core.deleteNamespace({ name }).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.read(tenantId)).state === "absent") return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}

/** Whether the stack's state holds the Kubernetes Namespace `name` (its own create made it). */
export async function namespaceInState(stack: Stack, name: string): Promise<boolean> {
  const state = await stack.exportStack();
  const resources = (state.deployment as { resources?: Array<{ type?: unknown; outputs?: { metadata?: { name?: unknown } } }> } | undefined)?.resources ?? [];
  return resources.some((r) => r.type === "kubernetes:core/v1:Namespace" && r.outputs?.metadata?.name === name);
}

/**
 * The runner's check right before the engine creates anything: `tenant-<id>` must not exist,
 * or be this stack's own (an earlier attempt of this create, whose state, passwords included,
 * the retry reuses). Otherwise it is someone's kept data, and nothing is created; a namespace
 * being deleted, or one that cannot be read, is tried again later.
 */
export async function checkBeforeCreate(
  namespaces: TenantNamespaces, stack: Stack, tenantId: string, code: string, deps: { log: Logger; redactor: Redactor },
): Promise<RunResult | undefined> {
  const name = tenantNames(tenantId).namespace;
  const later = (detail: string): RunResult => ({ ok: false, retryable: true, details: [detail], error: { code, message: "the platform could not apply this change yet; it is tried again" } });
  const reading = await namespaces.read(tenantId);
  if (reading.state === "absent") return undefined;
  if (reading.state === "unknown") return later(`namespace ${name} could not be read: ${reading.reason}`);
  try {
    if (await namespaceInState(stack, name)) return undefined;
  } catch (err) {
    return later(`the stack's state could not be read: ${deps.redactor.redact((err as Error).message.split("\n")[0] ?? "")}`);
  }
  if (reading.state === "terminating") return later(`namespace ${name} is still being deleted`);
  deps.log.log("warn", "refused a create: the namespace exists outside the tenant's stack", { tenant: tenantId, namespace: name });
  return {
    ok: false, retryable: false,
    details: [`namespace ${name} already exists outside this tenant's stack (a retired tenant's kept data, or another stack's tenant); nothing was created`],
    error: { code: "id_taken", message: `"${tenantId}" is already taken; choose another name` },
  };
}
