/**
 * The one error shape of the HTTP API: `{ "error": { "code", "message", "field"? } }`.
 * Handlers throw ApiError; anything else becomes a 500 whose message says nothing about
 * internals (the log line carries a reference instead).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  body(): { error: { code: string; message: string; field?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}) } };
  }
}

/** 404 for anything the caller may not know exists: missing and not-yours look the same. */
export function notFound(what: string): ApiError {
  return new ApiError(404, "not_found", `${what} not found`);
}
