/**
 * An OperationRunner for queue tests: it applies nothing, records each call (operation,
 * tenant, attempt, start and end times) and answers what the test's `behave` says, after
 * `delayMs`. The API suites use the real runner (automation/engine/tenant-stack-runner.ts).
 */
import * as fs from "node:fs";
import type { OperationRun, OperationRunner, RunResult } from "../../automation/operation-runner";
import type { StackLockProvider } from "../../automation/engine/stack-lock";

export interface RecordedCall {
  operationId: string;
  tenantId: string;
  kind: string;
  attempt: number;
  startedAt: number;
  endedAt?: number;
  pid: number;
}

export class RecordingRunner implements OperationRunner {
  readonly calls: RecordedCall[] = [];

  constructor(
    private readonly behave: (run: OperationRun, call: RecordedCall) => RunResult | Promise<RunResult> = () => ({ ok: true, changes: {} }),
    private readonly delayMs = 0,
    /** Also appends each call's start and end as JSON lines (for calls made in other processes). */
    private readonly journal?: string,
  ) {}

  async run(run: OperationRun): Promise<RunResult> {
    const call: RecordedCall = { operationId: run.operation.id, tenantId: run.tenant.id, kind: run.operation.kind, attempt: run.attempt, startedAt: Date.now(), pid: process.pid };
    this.calls.push(call);
    this.write({ event: "start", ...call });
    run.progress({ type: "step", status: "started", op: "create", resource: `${run.tenant.id}-odoo`, kind: "test:index:Odoo" });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const result = await this.behave(run, call);
    call.endedAt = Date.now();
    this.write({ event: result.ok ? "applied" : "refused", ...call });
    return result;
  }

  private write(entry: Record<string, unknown>): void {
    if (this.journal !== undefined) fs.appendFileSync(this.journal, `${JSON.stringify(entry)}\n`);
  }

  async credentials(): Promise<undefined> {
    return undefined;
  }
}

export function readJournal(file: string): Array<RecordedCall & { event: string }> {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as RecordedCall & { event: string });
}

/**
 * A RecordingRunner behind the stack's lock, as the real runner takes it (automation/engine/stack-lock.ts):
 * a run that cannot take it journals "busy" and asks to be tried again; one whose lock is lost
 * journals "lost". Proves the lock and the fencing with the real queue, without the engine.
 */
export class LockedRunner implements OperationRunner {
  constructor(
    private readonly locks: StackLockProvider,
    private readonly inner: RecordingRunner,
    private readonly journal?: string,
  ) {}

  async run(run: OperationRun): Promise<RunResult> {
    const stack = `stack-${run.tenant.id}`;
    const note = (event: string): void => {
      if (this.journal !== undefined) fs.appendFileSync(this.journal, `${JSON.stringify({ event, operationId: run.operation.id, attempt: run.attempt, pid: process.pid, at: Date.now() })}\n`);
    };
    const lease = await this.locks.tryAcquire(stack, () => note("lost"));
    if (!lease) {
      note("busy");
      return { ok: false, retryable: true, error: { code: "stack_locked", message: "another engine runs on this stack" } };
    }
    try {
      return await this.inner.run(run);
    } finally {
      await lease.release();
    }
  }

  async credentials(): Promise<undefined> {
    return undefined;
  }
}
