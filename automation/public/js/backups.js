// "Backups": one instance's backups, "Back up now" with its daily allowance, and a download per
// complete backup. Downloads need the session's token, which a plain link cannot send: a click
// asks the link's own URL (with the token) where to download, and the page goes to that
// short-lived address; the browser then saves the file as it arrives, whatever its size.
// A button that cannot be used says why next to it; a list that cannot be read offers a retry.
import { $, el, show } from "./dom.js";
import { silent } from "./api.js";
import { blockButton, whileBusy } from "./busy.js";
import { setText, syncKeyed } from "./keyed.js";
import { formatSize } from "./size.js";
import { initUpload, openUpload, resetUpload } from "./upload.js";
import { problemFrom, showProblem } from "./words.js";

let deps = null;
let current = null; // { id, requestedAt?, readable }
let pollTimer = null;
/** The error shown is the list's (a successful re-read clears it), not an action's. */
let listError = false;

const KIND = { scheduled: "Automatic", "on-demand": "On request" };

function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function downloadUrl(id, name) {
  return `/api/tenants/${encodeURIComponent(id)}/backups/${encodeURIComponent(name)}/download`;
}

function showError(err, fromList = false) {
  if (silent(err)) return;
  listError = fromList;
  showProblem($("backups-error-text"), problemFrom(err));
  show($("backups-error"), true);
}

function clearError() {
  $("backups-error-text").replaceChildren();
  show($("backups-error"), false);
}

async function download(event, link) {
  event.preventDefault();
  clearError();
  const token = await deps.accessToken();
  try {
    const res = await fetch(link.href, { headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
    const body = (res.headers.get("content-type") || "").includes("json") ? await res.json() : null;
    if (!res.ok || !body || !body.url) throw Object.assign(new Error(body && body.error ? body.error.message : ""), { code: body && body.error ? body.error.code : "download_unavailable" });
    window.location.assign(body.url);
  } catch (err) {
    showError(err);
  }
}

function makeItem(backup) {
  return el("li", { className: "backup", dataset: { backup: backup.name } },
    el("span", { className: "backup-when" }), el("span", { className: "backup-facts" }));
}

function updateItem(li, backup) {
  const complete = backup.status === "complete";
  setText(li.querySelector(".backup-when"), when(backup.createdAt));
  setText(li.querySelector(".backup-facts"), `${KIND[backup.kind] || "Backup"} · ${complete ? formatSize(backup.size) : "Incomplete"}`);
  if (complete && !li.querySelector("a")) {
    const link = el("a", { className: "button small secondary", href: downloadUrl(current.id, backup.name), text: "Download", "aria-label": `Download the backup of ${when(backup.createdAt)}` });
    link.addEventListener("click", (event) => download(event, link));
    li.append(link);
  }
}

function limitText(limit) {
  const resets = new Date(limit.resetsAt).toISOString().slice(11, 16);
  return `${limit.used} of ${limit.max} backups on request used today (the count starts again at ${resets} UTC).`;
}

/** The allowance as the server last answered it, and whether "Back up now" can be used. */
function showLimit(limit) {
  setText($("backups-limit"), limitText(limit));
  const resets = new Date(limit.resetsAt).toISOString().slice(11, 16);
  const reason = !current.readable
    ? "Back up now is possible again once your backups can be read."
    : limit.used >= limit.max ? `You have used all ${limit.max} for today; you can request the next one from ${resets} UTC.` : "";
  blockButton($("backup-now"), $("backup-now-reason"), reason);
}

function setState(text) {
  $("backups-state").textContent = text;
  show($("backups-state"), Boolean(text));
}

/** Reads the list; after "Back up now", says when the requested backup is there. */
export async function refreshBackups() {
  if (!current) return;
  const id = current.id;
  let answer;
  try {
    answer = await deps.api("GET", `/api/tenants/${encodeURIComponent(id)}/backups`);
  } catch (err) {
    if (!current || current.id !== id) return;
    current.readable = false;
    blockButton($("backup-now"), $("backup-now-reason"), "Back up now is possible again once your backups can be read.");
    showError(err, true);
    return;
  }
  if (!current || current.id !== id) return;
  const { backups, limit } = answer;
  current.readable = true;
  if (listError) clearError();
  syncKeyed($("backups-list"), backups, (b) => b.name, makeItem, updateItem);
  show($("backups-empty"), backups.length === 0);
  showLimit(limit);
  if (current.requestedAt) {
    const done = backups.find((b) => b.kind === "on-demand" && b.status === "complete" && b.createdAt >= current.requestedAt.slice(0, 19));
    if (done) {
      setState(`Your backup of ${when(done.createdAt)} is ready to download.`);
      current.requestedAt = undefined;
      stopPolling();
    }
  }
}

// The list is only re-read while a requested backup is awaited (each read may cost the platform work).
function startPolling() {
  clearInterval(pollTimer);
  pollTimer = setInterval(() => { refreshBackups().catch(() => undefined); }, 10000);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

async function backUpNow() {
  if (!current || !current.readable) return;
  const id = current.id;
  clearError();
  setState("Requesting a backup…");
  try {
    const result = await deps.api("POST", `/api/tenants/${encodeURIComponent(id)}/backups`);
    if (!current || current.id !== id) return;
    current.requestedAt = result.backup.requestedAt;
    showLimit(result.limit);
    startPolling();
    setState(`Backup requested at ${when(result.backup.requestedAt)}. It appears in the list when it is complete; this usually takes a few minutes.`);
  } catch (err) {
    setState("");
    showError(err);
  }
  await refreshBackups();
}

/** The instance whose backups are shown, or null. */
export function backupsShown() {
  return current ? current.id : null;
}

export async function openBackups(id) {
  stopPolling();
  current = { id, readable: false };
  $("backups-title").textContent = `Backups of ${id}`;
  $("backups-list").replaceChildren();
  setText($("backups-limit"), "");
  blockButton($("backup-now"), $("backup-now-reason"), "");
  $("backup-now").setAttribute("aria-disabled", "true");
  setState("");
  clearError();
  show($("backups"), true);
  $("backups").scrollIntoView({ block: "start" });
  $("backups-title").focus({ preventScroll: true });
  openUpload(id);
  await refreshBackups();
}

export function resetBackups() {
  current = null;
  $("backups-title").textContent = "Backups";
  setText($("backups-limit"), "");
  stopPolling();
  $("backups-list").replaceChildren();
  setState("");
  clearError();
  resetUpload();
  show($("backups"), false);
}

export function initBackups(options) {
  deps = options;
  $("backup-now").addEventListener("click", () => whileBusy($("backup-now"), backUpNow));
  $("backups-retry").addEventListener("click", () => whileBusy($("backups-retry"), refreshBackups));
  $("backups-close").addEventListener("click", () => options.onClose());
  initUpload(options);
}
