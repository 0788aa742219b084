/**
 * One engine per stack, across every server on one database: a PostgreSQL session advisory
 * lock (class LOCK_CLASS.stack, key hashtext(stack name)) on a connection of its own, held
 * for the whole life of the engine's run.
 * - A lock that cannot be taken means another engine runs on that stack: retry later (never
 *   `pulumi cancel`, which would only delete its lock file while it runs).
 * - The connection is pinged; when it breaks or stops answering, `onLost` runs at once (the
 *   runner ends the stack's engines). PostgreSQL only lets the lock go when it sees the
 *   session end: at once when this process dies (and then the engine's launcher ends the
 *   engine too, engine-command.ts), otherwise after TCP keepalive gives up on a silent peer,
 *   which is far longer than the ping deadline here.
 */
import { Client } from "pg";
import { LOCK_CLASS } from "../records/schema";

export interface StackLockOptions {
  connectionString: string;
  /** How often the lock's connection is checked. Default 2 s. */
  pingMs?: number;
  /** A check unanswered this long means the lock is lost. Default 10 s. */
  deadlineMs?: number;
}

export interface StackLease {
  readonly stackName: string;
  /** Why the lock was lost, once it was (the engine has been told to end). */
  readonly lost: string | undefined;
  release(): Promise<void>;
}

class Lease implements StackLease {
  lost: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private releasing = false;

  constructor(
    readonly stackName: string,
    private readonly client: Client,
    private readonly onLost: (reason: string) => void,
    private readonly pingMs: number,
    private readonly deadlineMs: number,
  ) {
    client.on("error", (err) => this.lose(`its database connection failed (${err.message})`));
    client.on("end", () => this.lose("its database connection ended"));
    this.schedule();
  }

  private lose(reason: string): void {
    if (this.releasing || this.lost !== undefined) return;
    this.lost = reason;
    if (this.timer) clearTimeout(this.timer);
    this.onLost(reason);
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.ping(), this.pingMs);
  }

  private async ping(): Promise<void> {
    if (this.releasing || this.lost !== undefined) return;
    let answered = false;
    let late = false;
    const armed = Date.now();
    const check = (): void => {
      if (answered || this.releasing) return;
      // This process itself stood still (a blocked event loop, SIGSTOP): give the answer,
      // which may be waiting in the socket, a moment to be read before judging.
      if (Date.now() - armed > this.deadlineMs + 1_000 && !late) {
        late = true;
        setTimeout(check, 1_000);
        return;
      }
      this.lose(`its database connection did not answer within ${this.deadlineMs} ms`);
      this.client.end().catch(() => undefined);
    };
    const deadline = setTimeout(check, this.deadlineMs);
    try {
      await this.client.query("select 1");
      answered = true;
      clearTimeout(deadline);
      this.schedule();
    } catch (err) {
      answered = true;
      clearTimeout(deadline);
      this.lose(`its database connection failed (${(err as Error).message})`);
    }
  }

  async release(): Promise<void> {
    if (this.releasing) return;
    this.releasing = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.lost === undefined) {
      await this.client.query("select pg_advisory_unlock($1, hashtext($2))", [LOCK_CLASS.stack, this.stackName]).catch(() => undefined);
    }
    // Ending the session lets go of the lock in any case.
    await this.client.end().catch(() => undefined);
  }
}

/** Who may run an engine on a stack. */
export interface StackLockProvider {
  /** True when holding a lease proves no other engine runs on the stack, on any host. */
  readonly acrossHosts: boolean;
  tryAcquire(stackName: string, onLost: (reason: string) => void): Promise<StackLease | undefined>;
}

/** Without a database (a single process, tests): one engine per stack within this process. */
export class ProcessStackLocks implements StackLockProvider {
  readonly acrossHosts = false;
  private readonly held = new Set<string>();

  async tryAcquire(stackName: string): Promise<StackLease | undefined> {
    if (this.held.has(stackName)) return undefined;
    this.held.add(stackName);
    const held = this.held;
    return { stackName, lost: undefined, release: async () => void held.delete(stackName) };
  }
}

export class StackLocks implements StackLockProvider {
  readonly acrossHosts = true;

  constructor(private readonly options: StackLockOptions) {}

  /**
   * The stack's lock, or undefined when another engine holds it. `onLost` runs (once) if the
   * lock's connection breaks before `release`.
   */
  async tryAcquire(stackName: string, onLost: (reason: string) => void): Promise<StackLease | undefined> {
    const client = new Client({ connectionString: this.options.connectionString, keepAlive: true, application_name: "odoo-saas stack lock" });
    // Until the lease listens: a failure here surfaces through connect/query instead.
    client.on("error", () => undefined);
    await client.connect();
    let locked = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1, hashtext($2)) as locked", [LOCK_CLASS.stack, stackName]);
      locked = rows[0]?.locked === true;
    } finally {
      if (!locked) await client.end().catch(() => undefined);
    }
    if (!locked) return undefined;
    return new Lease(stackName, client, onLost, this.options.pingMs ?? 2_000, this.options.deadlineMs ?? 10_000);
  }
}
