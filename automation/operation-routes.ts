/**
 * An operation and its progress: the record (customer or admin view) and a Server-Sent
 * Events stream of persisted events, history first (whichever process ran the operation),
 * then live ones until the operation ends; open streams are capped per user and per server
 * (stream-slots.ts). Customers get steps in their words
 * (CustomerProgress); the raw engine stream (`?view=admin`) is for administrators.
 */
import { CustomerProgress } from "./customer-progress";
import { API_HEADERS, OP_ID, send, sseWrite, RouteTable, type RouteDef } from "./http-io";
import { isTerminal, type OperationEvents, type ProgressEntry } from "./operation-events";
import { StreamSlots } from "./stream-slots";
import { audienceOf, requireAdmin } from "./tenant-access";
import type { TenantService } from "./tenant-service";
import { operationView } from "./tenant-views";

export interface OperationRoutesOptions {
  service: TenantService;
  events: OperationEvents;
  /** SSE keep-alive comment interval (default 15 s). */
  heartbeatMs?: number;
  /** Caps on open streams (per user, per server); default DEFAULT_STREAM_CAPS. */
  streams?: StreamSlots;
}

export function operationRoutes(options: OperationRoutesOptions): RouteDef[] {
  const { service, events } = options;
  const slots = options.streams ?? new StreamSlots();
  const routes = new RouteTable();
  routes.add("GET", `/api/operations/${OP_ID}`, async ({ res, params, caller }) => {
    const who = await caller();
    send(res, 200, operationView(await service.operation(who, params[0] as string), audienceOf(who)));
  });
  routes.add("GET", `/api/operations/${OP_ID}/events`, async ({ req, res, params, url, caller }) => {
    const who = await caller();
    const op = await service.operation(who, params[0] as string);
    // Customers read steps in their words; the raw engine stream is for administrators.
    const raw = url.searchParams.get("view") === "admin";
    if (raw) requireAdmin(who);
    const progress = new CustomerProgress(op);
    const write = (entry: ProgressEntry): void => {
      if (raw) sseWrite(res, entry);
      else for (const converted of progress.entries(entry)) sseWrite(res, converted);
    };
    // Counted from before the headers until the connection closes, however it ends.
    const free = slots.open(who.sub);
    res.once("close", free);
    const lastId = Number.parseInt(String(req.headers["last-event-id"] ?? "0"), 10);
    const after = Number.isInteger(lastId) && lastId > 0 ? lastId : 0;
    res.writeHead(200, { ...API_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    res.write(`retry: 2000\n\n`);
    // Persisted events: the history first (whichever process ran it), then what any process appends.
    const history = await events.history(op.id, after);
    for (const entry of history) write(entry);
    if (history.some((entry) => isTerminal(entry.event))) {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), options.heartbeatMs ?? 15_000);
      const stop = (): void => {
        clearInterval(heartbeat);
        unsubscribe();
        resolve();
      };
      const unsubscribe = events.subscribe(op.id, history.at(-1)?.seq ?? after, (entry) => {
        write(entry);
        if (isTerminal(entry.event)) {
          stop();
          res.end();
        }
      });
      req.on("close", stop);
    });
  });
  return routes.declared();
}
