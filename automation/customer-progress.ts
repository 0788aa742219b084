/**
 * Progress as a customer reads it: steps ("Preparing your database", "Starting Odoo")
 * instead of the engine's resource names and types, no update numbers, no engine
 * diagnostics, and failures in the fixed customer words with a reference. One converter
 * per event-stream connection: it folds the resources of a step into that one step.
 * Administrators can still read the raw stream (`?view=admin`).
 */
import { customerError, type CustomerError } from "./customer-messages";
import type { ProgressEntry, ProgressEvent } from "./operation-events";
import type { OperationRecord } from "./records/types";

export type StepKey = "setup" | "space" | "security" | "database" | "odoo" | "address" | "backups" | "offline" | "pause" | "resume";

export type CustomerProgressEvent =
  | { type: "queued" }
  | { type: "recovering"; message: string }
  | { type: "retrying"; message: string }
  | { type: "started" }
  | { type: "step"; step: StepKey; label: string; status: "started" | "finished" | "failed" }
  | { type: "succeeded" }
  | { type: "failed"; error: CustomerError };

const LABELS: Readonly<Record<StepKey, string>> = {
  setup: "Setting up your instance",
  space: "Reserving space for your instance",
  security: "Securing your instance",
  database: "Preparing your database",
  odoo: "Starting Odoo",
  address: "Publishing your address",
  backups: "Scheduling backups",
  offline: "Taking your instance offline",
  pause: "Pausing Odoo",
  resume: "Starting Odoo again",
};

/** Resource types (the last part of a Pulumi type token) and the step they belong to. */
const BY_TYPE: ReadonlyMap<string, StepKey> = new Map([
  ["Namespace", "space"], ["ResourceQuota", "space"], ["LimitRange", "space"],
  ["NetworkPolicy", "security"], ["Secret", "security"], ["RandomPassword", "security"], ["ServiceAccount", "security"],
  ["StatefulSet", "database"],
  ["Deployment", "odoo"], ["ConfigMap", "odoo"],
  ["Ingress", "address"],
  ["CronJob", "backups"],
]);

/** The step of one resource of a create; names decide where the type is shared (volumes, services). */
export function stepOf(kind: string, resource: string): StepKey {
  const type = kind.split(":").pop() ?? "";
  if (type === "PersistentVolumeClaim") return resource.endsWith("-backups") ? "backups" : resource.endsWith("-odoo-data") ? "odoo" : "database";
  if (type === "Service" || type === "ConfigMap") return resource.includes("postgres") ? "database" : "odoo";
  const byType = BY_TYPE.get(type);
  if (byType !== undefined) return byType;
  // Anything else named after Odoo (the stand-in program's one resource) starts Odoo.
  return resource.endsWith("-odoo") ? "odoo" : "setup";
}

const STEP_OF_KIND: ReadonlyMap<OperationRecord["kind"], StepKey> = new Map([["delete", "offline"], ["suspend", "pause"], ["resume", "resume"]]);

export class CustomerProgress {
  private readonly started = new Map<StepKey, number>();
  private readonly finished = new Map<StepKey, number>();
  private readonly reported = new Set<string>();

  constructor(private readonly op: Pick<OperationRecord, "id" | "kind" | "error">) {}

  /** The customer's events for one engine event (often none). */
  convert(event: ProgressEvent): CustomerProgressEvent[] {
    switch (event.type) {
      case "queued":
      case "succeeded":
        return [{ type: event.type }];
      case "started":
        return [{ type: "started" }];
      case "recovering":
        return [{ type: "recovering", message: "Our service restarted during your request; it is picking up where it left off." }];
      case "retrying":
        // The engine's reason is for administrators; the customer learns only that it goes on.
        return [{ type: "retrying", message: "This is taking longer than usual; we try again in a moment." }];
      case "failed":
        return [{ type: "failed", error: customerError({ id: this.op.id, kind: this.op.kind, error: event.error }) }];
      case "step":
        return this.step(event);
      default:
        // Diagnostics and summaries are engine text: administrators read them in the raw stream.
        return [];
    }
  }

  private step(event: Extract<ProgressEvent, { type: "step" }>): CustomerProgressEvent[] {
    const key = STEP_OF_KIND.get(this.op.kind) ?? stepOf(event.kind, event.resource);
    const label = LABELS[key];
    const once = (status: "started" | "finished" | "failed"): CustomerProgressEvent[] => {
      if (this.reported.has(`${key}:${status}`)) return [];
      this.reported.add(`${key}:${status}`);
      return [{ type: "step", step: key, label, status }];
    };
    if (event.status === "failed") return once("failed");
    const counts = event.status === "started" ? this.started : this.finished;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (event.status === "started") return once("started");
    return (this.finished.get(key) ?? 0) >= (this.started.get(key) ?? 0) ? once("finished") : [];
  }

  /** Converts entries, keeping each entry's seq (Last-Event-ID keeps working). */
  entries(entry: ProgressEntry): Array<{ seq: number; at: string; event: CustomerProgressEvent }> {
    return this.convert(entry.event).map((event) => ({ seq: entry.seq, at: entry.at, event }));
  }
}
