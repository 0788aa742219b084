/**
 * The engine's phases of one update, from its event stream as this process receives it
 * (`onEvent` of `stack.up`): engine start (the call to the first event), each resource's
 * step (its pre event to its outputs: create and await for a create), a provider's step
 * (configure), and the end of the run (the summary to the call's return). Only types and
 * operations are recorded, never names (they hold the tenant id) or values.
 */
import { performance } from "node:perf_hooks";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { parseUrn } from "./engine-events";
import type { PhaseTimer } from "./phase-timer";

const STACK_TYPE = "pulumi:pulumi:Stack";

export class EnginePhases {
  private readonly started = performance.now();
  private firstEvent: number | undefined;
  private summaryAt: number | undefined;
  private readonly steps = new Map<string, number>();

  constructor(private readonly timer: PhaseTimer) {}

  handle(event: EngineEvent): void {
    const now = performance.now();
    if (this.firstEvent === undefined) {
      this.firstEvent = now;
      this.timer.record("engine start", this.started, now);
    }
    if (event.summaryEvent) this.summaryAt = now;
    const pre = event.resourcePreEvent;
    if (pre) {
      if (!pre.planning) this.steps.set(`${pre.metadata.op} ${pre.metadata.urn}`, now);
      return;
    }
    const step = event.resOutputsEvent ?? event.resOpFailedEvent;
    if (!step || ("planning" in step && step.planning)) return;
    const { op, urn } = step.metadata;
    const since = this.steps.get(`${op} ${urn}`);
    if (since === undefined) return;
    this.steps.delete(`${op} ${urn}`);
    const { type } = parseUrn(urn);
    if (type === STACK_TYPE) return;
    const failed = event.resOpFailedEvent !== undefined;
    if (type.startsWith("pulumi:providers:")) {
      this.timer.record("provider configure", since, now, { detail: type });
      this.timer.record("provider ready", since, since, { detail: type });
      return;
    }
    const phase = op === "create" ? "resource create+await" : `resource ${op}`;
    this.timer.record(failed ? `${phase} (failed)` : phase, since, now, { detail: type });
  }

  /** Call when the update returned: the end of the run after the summary (state, plugins closed). */
  finish(): void {
    const now = performance.now();
    if (this.summaryAt !== undefined) this.timer.record("engine finish", this.summaryAt, now);
  }
}
