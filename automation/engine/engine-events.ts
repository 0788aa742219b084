/**
 * Turns the Pulumi engine's events (`onEvent` of `stack.up`) into per-tenant progress and
 * per-tenant errors. A resource belongs to the tenant whose component is its top-level
 * ancestor (components are named by tenant id, children `<id>-<role>`); when the parent
 * chain is unknown, the longest tenant id that is the resource name or a `<id>-` prefix of
 * it wins. Prelude events (they carry the config) and resource inputs/outputs (they carry
 * secrets) are never forwarded; diagnostics are stripped of colour codes and stack frames,
 * shortened, and passed through the redactor.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { ProgressEvent } from "../operation-events";

const STACK_TYPE = "pulumi:pulumi:Stack";
const MAX_MESSAGE = 600;

/** `urn:pulumi:<stack>::<project>::<parentType$type>::<name>` -> name and own type. */
export function parseUrn(urn: string): { name: string; type: string } {
  const parts = urn.split("::");
  const name = parts.slice(3).join("::");
  const qualifiedType = parts[2] ?? "";
  const type = qualifiedType.split("$").pop() ?? qualifiedType;
  return { name, type };
}

/** The tenant a resource name belongs to: the longest id equal to it or prefixing it with "-". */
export function tenantByName(name: string, tenantIds: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const id of tenantIds) {
    if ((name === id || name.startsWith(`${id}-`)) && (best === undefined || id.length > best.length)) best = id;
  }
  return best;
}

/** Engine text as a user may see it: no ANSI colours, no stack frames, short, redacted. */
export function sanitizeDiagnostic(message: string, redact: (text: string) => string): string {
  const lines = message
    // eslint-disable-next-line no-control-regex -- ANSI escape sequences
    .replace(/\u001b\[[0-9;]*[A-Za-z]/g, "")
    .replace(/<\{%[^%]*%\}>/g, "")
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "" && !/^\s+at /.test(line));
  const text = lines.slice(0, 6).join("\n").trim();
  const short = text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
  return redact(short);
}

export interface AttributedEvent {
  /** undefined: not attributable to any tenant (stack-wide). */
  tenant: string | undefined;
  event: ProgressEvent;
}

/** Steps that change nothing are not worth showing. */
const QUIET_OPS = new Set(["same", "read", "refresh"]);

export class UpdateTracker {
  private readonly parents = new Map<string, string>();
  private readonly errors = new Map<string, string[]>();
  /** The program's echoes of a child's failure ("... failed to register"): used only when nothing better is known. */
  private readonly echoes = new Map<string, string[]>();
  private readonly general: string[] = [];
  private readonly changes = new Map<string, Record<string, number>>();
  private readonly ids: ReadonlySet<string>;
  /** From the summary event. */
  summary: { durationSeconds: number; resourceChanges: Record<string, number>; result?: string } | undefined;

  constructor(tenantIds: Iterable<string>, private readonly redact: (text: string) => string) {
    this.ids = new Set(tenantIds);
  }

  /** The tenant of a URN: top-level ancestor's name when known, else the name prefix. */
  tenantOf(urn: string): string | undefined {
    const seen = new Set<string>();
    let current = urn;
    for (;;) {
      if (seen.has(current)) break;
      seen.add(current);
      const parent = this.parents.get(current);
      if (parent === undefined) break;
      if (parent === "" || parseUrn(parent).type === STACK_TYPE) {
        const { name } = parseUrn(current);
        if (this.ids.has(name)) return name;
        break;
      }
      current = parent;
    }
    return tenantByName(parseUrn(urn).name, this.ids);
  }

  private addError(tenant: string | undefined, message: string, echo = false): void {
    const target = echo ? this.echoes : this.errors;
    const list = tenant === undefined ? this.general : (target.get(tenant) ?? []);
    if (!list.includes(message)) list.push(message);
    if (tenant !== undefined) target.set(tenant, list);
  }

  private countChange(tenant: string, op: string): void {
    // `op` comes from the engine: counted on a null-prototype object, never on Object.prototype's names.
    const counts = this.changes.get(tenant) ?? (Object.create(null) as Record<string, number>);
    counts[op] = (counts[op] ?? 0) + 1;
    this.changes.set(tenant, counts);
  }

  handle(event: EngineEvent): AttributedEvent[] {
    const step = event.resourcePreEvent ?? event.resOutputsEvent ?? event.resOpFailedEvent;
    if (step) {
      const { metadata } = step;
      const parent = metadata.new?.parent ?? metadata.old?.parent;
      if (parent !== undefined) this.parents.set(metadata.urn, parent);
      if ("planning" in step && step.planning) return [];
      const { name, type } = parseUrn(metadata.urn);
      if (type === STACK_TYPE || type.startsWith("pulumi:providers:")) return [];
      const tenant = this.tenantOf(metadata.urn);
      const status = event.resourcePreEvent ? "started" : event.resOutputsEvent ? "finished" : "failed";
      if (status === "failed" && tenant !== undefined) this.countChange(tenant, "failed");
      if (status === "finished" && tenant !== undefined) this.countChange(tenant, metadata.op);
      if (QUIET_OPS.has(metadata.op) && status !== "failed") return [];
      return [{ tenant, event: { type: "step", status, op: metadata.op, resource: name, kind: type } }];
    }
    const diagnostic = event.diagnosticEvent;
    if (diagnostic) {
      const severity = diagnostic.severity as string;
      if (severity !== "error" && severity !== "warning") return [];
      const message = sanitizeDiagnostic(diagnostic.message, this.redact);
      if (message === "") return [];
      let tenant = diagnostic.urn ? this.tenantOf(diagnostic.urn) : undefined;
      let echo = false;
      if (tenant === undefined) {
        // The program's own report of a failed child: "resource <name> [<type>] failed to register".
        const failed = /resource (\S+) \[[^\]]*\] failed to register/.exec(message);
        if (failed?.[1] !== undefined) {
          tenant = tenantByName(failed[1], this.ids);
          echo = tenant !== undefined;
        }
      }
      if (severity === "error") this.addError(tenant, message, echo);
      if (echo) return [];
      return [{ tenant, event: { type: "diagnostic", severity, message } }];
    }
    if (event.summaryEvent) {
      const { durationSeconds, resourceChanges } = event.summaryEvent;
      const result = (event.summaryEvent as { result?: string }).result;
      this.summary = { durationSeconds, resourceChanges: { ...resourceChanges } as Record<string, number>, ...(result !== undefined ? { result } : {}) };
    }
    return [];
  }

  /** The tenant's errors: the resources' own messages, else the program's echo of them. */
  errorsFor(tenant: string): readonly string[] {
    return this.errors.get(tenant) ?? this.echoes.get(tenant) ?? [];
  }

  tenantsWithErrors(): string[] {
    return [...new Set([...this.errors.keys(), ...this.echoes.keys()])];
  }

  /** Errors of no tenant, minus the program's echo of a child's failure already attributed. */
  generalErrors(): readonly string[] {
    return this.general;
  }

  changesFor(tenant: string): Record<string, number> {
    return { ...(this.changes.get(tenant) ?? {}) };
  }
}
