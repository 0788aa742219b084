// The signup API with the session's access token in a header. A 401 means the session
// ended: the caller's onUnauthorized signs the page out.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `request failed (HTTP ${status})`);
    this.status = status;
    this.code = body && body.error ? body.error.code : undefined;
    this.field = body && body.error ? body.error.field : undefined;
  }
}

/** Thrown for answers that arrive after the session they were asked for ended. */
export class StaleAnswer extends Error {}

/** A 401: the page signs out and says so once; callers show nothing more. */
export class SessionEnded extends StaleAnswer {}

/** Errors that have been told already (sign-out banner) or belong to no one now. */
export function silent(err) {
  return err instanceof StaleAnswer;
}

export function createApi(sb, onUnauthorized) {
  // Bumped at sign-out: an answer to the last person's request must not reach the next one's page.
  let epoch = 0;

  async function accessToken() {
    const { data } = await sb.auth.getSession();
    return data.session ? data.session.access_token : null;
  }

  async function api(method, path, body) {
    const asked = epoch;
    const token = await accessToken();
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const type = res.headers.get("content-type") || "";
    const data = type.includes("json") ? await res.json() : null;
    if (asked !== epoch) throw new StaleAnswer("signed out meanwhile");
    if (!res.ok) {
      if (res.status === 401) {
        await onUnauthorized();
        throw new SessionEnded("session ended");
      }
      throw new ApiError(res.status, data);
    }
    return data;
  }

  async function publicConfig() {
    const res = await fetch("/api/config/public", { headers: { Accept: "application/json" } });
    const data = await res.json();
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  return { api, accessToken, publicConfig, endSession: () => { epoch++; } };
}

/** First letter up: server messages are written to follow a colon. */
export function sentence(text) {
  const t = String(text || "");
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}
