// "Backups": one instance's backups, "Back up now" with its daily limit, and a download per
// complete backup. Downloads need the session's token, which a plain link cannot send: a click
// asks the link's own URL (with the token) where to download, and the page goes to that
// short-lived address; the browser then saves the file as it arrives, whatever its size.
import { $, el, flash, show } from "./dom.js";
import { sentence } from "./api.js";
import { initUpload, openUpload, resetUpload } from "./upload.js";

let deps = null;
let current = null; // { id, requestedAt? }
let pollTimer = null;

const KIND = { scheduled: "Automatic", "on-demand": "On request" };

function size(bytes) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function downloadUrl(id, name) {
  return `/api/tenants/${encodeURIComponent(id)}/backups/${encodeURIComponent(name)}/download`;
}

async function download(event, link) {
  event.preventDefault();
  const token = await deps.accessToken();
  try {
    const res = await fetch(link.href, { headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
    const body = (res.headers.get("content-type") || "").includes("json") ? await res.json() : null;
    if (!res.ok || !body || !body.url) throw new Error(body && body.error ? body.error.message : "the download is not available right now");
    window.location.assign(body.url);
  } catch (err) {
    flash(sentence(err.message), "error");
  }
}

function item(id, backup) {
  const complete = backup.status === "complete";
  const link = complete
    ? el("a", { className: "button small secondary", href: downloadUrl(id, backup.name), text: "Download", "aria-label": `Download the backup of ${when(backup.createdAt)}` })
    : null;
  if (link) link.addEventListener("click", (event) => download(event, link));
  return el("li", { className: "backup", dataset: { backup: backup.name } },
    el("span", { className: "backup-when", text: when(backup.createdAt) }),
    el("span", { className: "backup-facts", text: `${KIND[backup.kind] || "Backup"} · ${complete ? size(backup.size) : "Incomplete"}` }),
    link);
}

function limitText(limit) {
  const resets = new Date(limit.resetsAt).toISOString().slice(11, 16);
  if (limit.used >= limit.max) return `You have requested ${limit.max} backups today, the most per day. You can request the next one from ${resets} UTC.`;
  return `${limit.used} of ${limit.max} backups on request used today (the count starts again at ${resets} UTC).`;
}

function setState(text) {
  $("backups-state").textContent = text;
  show($("backups-state"), Boolean(text));
}

/** Reads the list; after "Back up now", says when the requested backup is there. */
export async function refreshBackups() {
  if (!current) return;
  const id = current.id;
  const { backups, limit } = await deps.api("GET", `/api/tenants/${encodeURIComponent(id)}/backups`);
  if (!current || current.id !== id) return;
  $("backups-list").replaceChildren(...backups.map((b) => item(id, b)));
  show($("backups-empty"), backups.length === 0);
  $("backups-limit").textContent = limitText(limit);
  $("backup-now").disabled = limit.used >= limit.max;
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
  if (!current) return;
  const id = current.id;
  $("backup-now").disabled = true;
  setState("Requesting a backup…");
  try {
    const result = await deps.api("POST", `/api/tenants/${encodeURIComponent(id)}/backups`);
    current.requestedAt = result.backup.requestedAt;
    startPolling();
    setState(`Backup requested at ${when(result.backup.requestedAt)}. It appears in the list when it is complete; this usually takes a few minutes.`);
  } catch (err) {
    setState(sentence(err.message));
  }
  await refreshBackups().catch(() => undefined);
}

export async function openBackups(id) {
  stopPolling();
  current = { id };
  $("backups-title").textContent = `Backups of ${id}`;
  $("backups-list").replaceChildren();
  setState("");
  show($("backups"), true);
  $("backups-title").focus();
  openUpload(id);
  try {
    await refreshBackups();
  } catch (err) {
    setState(sentence(err.message));
  }
}

export function resetBackups() {
  current = null;
  stopPolling();
  $("backups-list").replaceChildren();
  setState("");
  resetUpload();
  show($("backups"), false);
}

export function initBackups(options) {
  deps = options;
  $("backup-now").addEventListener("click", backUpNow);
  $("backups-close").addEventListener("click", resetBackups);
  initUpload(options);
}
