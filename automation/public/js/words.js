// The one place where the page turns what a server said into customer words: the signup API's
// error codes, the auth service's error codes and upload refusals. A server text is shown as it
// is only for codes whose text is written for customers (SERVER_WORDED); any other text is
// replaced, and the exact text stays behind the reference, in "Details for support".
import { el } from "./dom.js";

export const SESSION_ENDED = "Your session has ended; sign in again.";
const TRY_LATER = "This is not possible right now; please try again in a few minutes.";

const API_WORDS = {
  invalid_token: SESSION_ENDED,
  missing_token: SESSION_ENDED,
  already_suspended: "This instance is already paused.",
  not_suspended: "This instance is not paused, so there is nothing to resume.",
  deleting: "This instance is being deleted; nothing else can be done with it now.",
  not_ready: "This instance is still being created; this is possible once it is ready.",
  tenant_failed: "This instance was never created. Try creating it again, or delete it.",
  credentials_not_ready: "The administrator login exists once the instance is created.",
  backups_unavailable: "Your backups cannot be reached right now.",
  uploads_unavailable: "Uploading a database is not possible right now; please try again later.",
  upload_in_progress: "A database is already being uploaded to this instance; wait until it is finished.",
  platform_unavailable: "Our platform cannot take requests right now. Your data is safe; please try again in a few minutes.",
  platform_config_invalid: "Our platform cannot take requests right now. Your data is safe; please try again in a few minutes.",
  auth_unavailable: "Signing in is not possible right now; please try again in a few minutes.",
  internal_error: "Something went wrong on our side. Please try again; if it happens again, contact us.",
  not_found: "This is no longer there. Refresh the page to see what is.",
  forbidden: "Only administrators can do this.",
};

/** Codes whose server text is customer words already (it carries names, sizes or times). */
const SERVER_WORDED = new Set([
  "id_taken", "invalid_tenant", "tenant_limit", "email_required", "backup_limit", "anonymous_not_allowed",
  "upload_too_large", "dump_too_large", "filestore_too_large", "too_many_entries", "version_mismatch",
  "instance_not_empty", "empty_upload", "upload_broken",
]);

/** Upload refusals whose server reason names our internals: what the customer reads instead. */
const UPLOAD_WORDS = {
  path_traversal: "A file inside the zip points outside the backup's own folders.",
  symlink: "The zip contains a link to another file; an Odoo backup has none.",
  duplicate_entry: "The zip holds the same file twice.",
  unsupported_entry: "The zip holds an entry that is not a plain file or folder.",
  zip_bomb: "The zip unpacks to far more than an Odoo backup of its size could.",
  sql_meta_command: "The database dump holds commands for a database tool; an Odoo backup holds plain SQL only.",
  sql_forbidden_statement: "The database dump holds statements an Odoo backup never has.",
  sql_unsupported: "The database dump holds something we cannot restore safely.",
  truncated_dump: "The database dump is cut off; make the backup again.",
  not_a_zip: "The file is not a zip file.",
  missing_dump: "The zip has no database dump (dump.sql).",
  missing_manifest: "The zip has no manifest.json, so it was not made by Odoo's database manager.",
  custom_format_dump: "The database dump is in pg_dump's custom format; choose \"zip (includes filestore)\" in Odoo's database manager.",
  unexpected_entry: "The zip holds files an Odoo backup does not have.",
  bad_manifest: "The zip's manifest.json cannot be read.",
  unsupported_media_type: "Send the backup zip file itself.",
  load_failed: "Your database could not be loaded.",
};

function sentence(text) {
  const t = String(text || "").trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}

/**
 * A problem in customer words: { text, detail?, reference? }. detail is the server's exact
 * text when it is not shown as the text; reference is what to quote when contacting us.
 */
export function problemOf(code, message, reference) {
  const raw = String(message || "");
  const ref = reference || (/\(reference ([A-Za-z0-9_-]+)\)/.exec(raw) || [])[1];
  if (code && SERVER_WORDED.has(code)) return { text: sentence(raw), reference: ref };
  const words = (code && (Object.hasOwn(API_WORDS, code) ? API_WORDS[code] : Object.hasOwn(UPLOAD_WORDS, code) ? UPLOAD_WORDS[code] : null)) || TRY_LATER;
  // An upload's reason is worth keeping for support; other texts only when there is a reference to quote.
  const keep = raw && raw !== words && (ref || Object.hasOwn(UPLOAD_WORDS, code));
  return { text: words, detail: keep ? raw : undefined, reference: ref };
}

/** For an error thrown by api(): its code and message. */
export function problemFrom(err) {
  if (err && err.code) return problemOf(err.code, err.message);
  return { text: "We could not reach our service. Check your connection and try again.", detail: err ? String(err.message || err) : undefined };
}

const AUTH_WORDS = {
  invalid_credentials: "The e-mail address or the password is not right. Try again, or reset your password.",
  user_already_exists: "An account with this e-mail address exists already. Sign in instead, or reset your password.",
  email_exists: "An account with this e-mail address exists already. Sign in instead, or reset your password.",
  weak_password: "Choose a longer password: at least 6 characters.",
  same_password: "Choose a password different from your old one.",
  validation_failed: "Enter a valid e-mail address.",
  over_request_rate_limit: "Too many attempts. Wait a minute, then try again.",
  over_email_send_rate_limit: "Too many e-mails asked for. Wait a minute, then try again.",
  email_not_confirmed: "Confirm your e-mail address first: follow the link we sent you.",
  refresh_token_not_found: SESSION_ENDED,
  session_not_found: SESSION_ENDED,
  session_expired: SESSION_ENDED,
  bad_jwt: "This link has expired or was used already. Ask for a new one.",
};

/** The auth service's errors (supabase-js AuthError: code, message) in customer words. */
export function authWords(error) {
  const code = error && error.code;
  if (code && Object.hasOwn(AUTH_WORDS, code)) return AUTH_WORDS[code];
  return "Signing in is not possible right now; please try again in a few minutes.";
}

/** Puts a problem into box: the words, and the exact detail behind the reference. */
export function showProblem(box, problem) {
  const parts = [el("span", { className: "problem-text", text: problem.text })];
  // The exact text is kept where support can find it: behind the reference to quote.
  if (problem.detail) {
    parts.push(" ", el("details", { className: "problem-detail" },
      el("summary", { text: problem.reference ? `Details for support (reference ${problem.reference})` : "Details for support" }),
      el("code", { text: problem.detail })));
  } else if (problem.reference) {
    parts.push(" ", el("span", { className: "reference", text: `Reference: ${problem.reference}.` }));
  }
  box.replaceChildren(...parts);
  box.hidden = !problem.text;
}
