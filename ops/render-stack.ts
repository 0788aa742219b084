/**
 * Renders a stack config into the exact Kubernetes objects the OdooTenant component
 * registers, by running the component under Pulumi's mock monitor and recording every
 * registration (with the component's retainOnDelete flags). Generated passwords come from
 * the OS CSPRNG, as RandomPassword's would.
 *
 * Why: the Kubernetes provider plugin cannot be built on this machine (see README,
 * "Engine"), so the local simulated cluster is populated by applying these objects with
 * @kubernetes/client-node (ops/apply-objects.ts). `pulumi up` remains the real path
 * wherever the plugin is installed. Run it in its own process: mocks are process-wide.
 */
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../tenants/schema";

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** Pulumi's logical name, e.g. `acme-odoo`. */
  logicalName: string;
  /** The component asked Pulumi to keep it when the tenant is removed. */
  retainOnDelete: boolean;
  /** Paths whose live values win over the rendered ones (the component's ignoreChanges). */
  ignoreChanges: string[];
  body: Record<string, unknown>;
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Inputs as a provider would see them: Pulumi's secret wrappers replaced by their values. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** `kubernetes:apps/v1:Deployment` -> apps/v1, Deployment. */
export function apiVersionKind(type: string): { apiVersion: string; kind: string } | undefined {
  const match = /^kubernetes:([^/]+)\/([^:]+):(.+)$/.exec(type);
  if (!match) return undefined;
  const [, group, version, kind] = match as unknown as [string, string, string, string];
  return { apiVersion: group === "core" ? version : `${group}/${version}`, kind };
}

function alphanumericPassword(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length)) {
      // Rejection sampling keeps every character equally likely.
      if (byte < 248 && out.length < length) out += alphabet[byte % 62];
    }
  }
  return out;
}

/** Lets every queued registration (they wait on generated passwords) reach the mock monitor. */
export async function settleRegistrations(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 100));
}

export async function renderStack(config: StackConfig): Promise<RenderedObject[]> {
  const registered: Array<{ type: string; name: string; inputs: Record<string, unknown> }> = [];
  const retained = new Set<string>();
  const ignored = new Map<string, string[]>();
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: unwrapSecrets(args.inputs) as Record<string, unknown> });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "random:index/randomPassword:RandomPassword") {
          state.result = alphanumericPassword(Number(args.inputs.length ?? 32));
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "odoo-saas",
    "render",
    false,
  );
  // Imported after the mocks are set, so every resource registers against them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- must load after setMocks
  const { deployTenants } = require("../components/platform") as typeof import("../components/platform");
  deployTenants(config, {
    transformations: [(a) => {
      if (a.opts.retainOnDelete === true) retained.add(a.name);
      if (a.opts.ignoreChanges !== undefined) ignored.set(a.name, [...a.opts.ignoreChanges]);
      return undefined;
    }],
  });
  await settleRegistrations();

  const objects: RenderedObject[] = [];
  for (const r of registered) {
    const gvk = apiVersionKind(r.type);
    if (!gvk) continue;
    const metadata = r.inputs.metadata as RenderedObject["metadata"];
    objects.push({ ...gvk, metadata, logicalName: r.name, retainOnDelete: retained.has(r.name), ignoreChanges: ignored.get(r.name) ?? [], body: { ...gvk, ...r.inputs } });
  }
  return objects;
}
