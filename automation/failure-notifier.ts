/**
 * Tells operators about failed operations by POSTing JSON to a webhook
 * (ODOO_SAAS_FAILURE_WEBHOOK_URL), so "we have been told" can be true. Fire and forget: a
 * slow or broken receiver never delays an operation; it is logged (without the URL, which
 * may carry a token) and the failure stays visible in the admin overview.
 */
import type { Logger } from "./log";
import type { OperationRecord } from "./records/types";

export interface FailureNotice {
  event: "operation_failed";
  /** The operation id: the reference the customer was shown. */
  reference: string;
  tenant: string;
  kind: string;
  code: string;
  /** The engine's sanitised, redacted message: for operators. */
  message: string;
  at: string;
}

export class WebhookNotifier {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly url: string, private readonly log: Logger, private readonly timeoutMs = 5_000) {}

  notify(notice: FailureNotice): void {
    const sent = fetch(this.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": "odoo-saas-signup" },
      body: JSON.stringify(notice),
      signal: AbortSignal.timeout(this.timeoutMs),
    }).then((res) => {
      if (!res.ok) this.log.log("warn", "failure webhook refused the notice", { reference: notice.reference, status: res.status });
    }, (err: unknown) => {
      this.log.log("warn", "failure webhook not reachable", { reference: notice.reference, error: err instanceof Error ? err.name : "error" });
    }).finally(() => this.pending.delete(sent));
    this.pending.add(sent);
  }

  /** For shutdown and tests: every notice sent so far has been answered or given up. */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

/** The notice for an operation that failed for good (the queue calls this once per operation). */
export function failureNotice(op: Pick<OperationRecord, "id" | "tenantId" | "kind" | "error">): FailureNotice {
  return {
    event: "operation_failed",
    reference: op.id,
    tenant: op.tenantId,
    kind: op.kind,
    code: op.error?.code ?? "failed",
    message: op.error?.message ?? "",
    at: new Date().toISOString(),
  };
}
