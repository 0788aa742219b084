/**
 * The fixed set of texts a customer may read about a failure. Engine and provider text
 * (resource names, stack traces, quota numbers) never reaches a customer: it stays on the
 * operation record, which an administrator looks up by the reference shown next to the
 * message (the operation id: GET /api/operations/<reference> with an admin token).
 */
import type { OperationKind, OperationRecord } from "./records/types";

export interface CustomerError {
  code: string;
  message: string;
  /** What an administrator looks up; the operation id. */
  reference: string;
}

const BY_KIND: ReadonlyMap<OperationKind, string> = new Map([
  ["create", "We could not create your instance. You can try again, or choose another name."],
  ["suspend", "We could not pause your instance. It is still running; you can try again."],
  ["resume", "We could not start your instance again. Its data is safe; you can try again."],
  ["delete", "We could not delete your instance. It is unchanged; you can try again."],
]);

/** Failures of the platform as a whole, whatever the operation was. */
const PLATFORM_CODES: ReadonlySet<string> = new Set(["platform_unavailable", "platform_config_invalid", "update_failed"]);
const PLATFORM_MESSAGE = "Our platform could not apply your request right now. Your data is safe; please try again later.";

/** A create the runner refused because the name's data is kept (tenant-namespace.ts). */
const TAKEN_MESSAGE = "This name is taken: data kept under it has not been removed. Choose another name.";

/** The customer's words for a failed operation; the raw message is never part of it. */
export function customerError(op: Pick<OperationRecord, "id" | "kind" | "error">): CustomerError {
  const code = op.error?.code ?? "failed";
  const message = code === "id_taken" ? TAKEN_MESSAGE : PLATFORM_CODES.has(code) ? PLATFORM_MESSAGE : (BY_KIND.get(op.kind) ?? PLATFORM_MESSAGE);
  return { code, message, reference: op.id };
}

/** Every text customerError can return (tests check that nothing else reaches a customer). */
export const CUSTOMER_ERROR_MESSAGES: readonly string[] = [...new Set([...BY_KIND.values(), PLATFORM_MESSAGE, TAKEN_MESSAGE])];
