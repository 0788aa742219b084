// "Upload a database" in an instance's Backups section: the plan's limit, the file sent as the
// request body with the browser's own upload progress (XMLHttpRequest: fetch has no upload
// progress), then the restore's phases as the server observes them, and a refusal in customer
// words with the server's reason. Nothing of the file is read into page memory.
import { $, show } from "./dom.js";
import { sentence } from "./api.js";

let deps = null;
let current = null; // { id, limit }
let xhr = null;
let pollTimer = null;

const PHASES = {
  "checking-upload": "Checking your file…",
  starting: "Your file passed the checks. Starting the restore…",
  waiting: "Waiting for the platform to start the restore…",
  checking: "Checking your file again where it is restored…",
  "checking-empty": "Checking that your instance is not in use yet…",
  "loading-database": "Loading your database…",
  "copying-files": "Copying your files (attachments)…",
  switching: "Switching your instance over to the restored database…",
  done: "Finishing…",
};

const LEADS = [
  [["not_a_zip", "missing_dump", "missing_manifest", "custom_format_dump", "unexpected_entry", "bad_manifest", "empty_upload", "unsupported_media_type"], "This file is not an Odoo backup we can restore"],
  [["version_mismatch"], "This backup is from another Odoo version"],
  [["upload_too_large", "dump_too_large", "filestore_too_large", "too_many_entries"], "This backup is too big for your plan"],
  [["zip_bomb", "path_traversal", "name_too_long", "path_too_deep", "symlink", "duplicate_entry", "unsupported_entry", "sql_meta_command", "sql_forbidden_statement", "sql_unsupported", "truncated_dump"], "This file was refused to keep your instance safe"],
  [["instance_not_empty"], "Your instance is already in use"],
  [["load_failed"], "Your database could not be loaded"],
  [["too_many_uploads", "uploads_busy", "no_room_for_upload"], "We cannot take your upload right now"],
  [["upload_too_slow"], "Your upload was too slow"],
];

/** The refusal in customer words: what kind of problem, the server's reason, and that nothing changed. */
export function refusalText(code, message) {
  const lead = (LEADS.find(([codes]) => codes.includes(code)) || [null, "Your upload was refused"])[1];
  const reason = sentence(message);
  return `${lead}: ${reason}${/nothing was changed/i.test(reason) ? "" : " Nothing was changed."}`;
}

function size(bytes) {
  if (bytes >= 1e9) return `${Number((bytes / 1e9).toFixed(1))} GB`;
  if (bytes >= 1e6) return `${Number((bytes / 1e6).toFixed(1))} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

function setState(text, refused = false) {
  const box = $("upload-state");
  box.textContent = text;
  box.classList.toggle("upload-refused", refused);
  show(box, Boolean(text));
}

function setProgress(value) {
  const bar = $("upload-progress");
  show(bar, value !== null);
  if (value !== null) bar.value = value;
}

function busy(on) {
  $("upload-start").disabled = on;
  $("upload-file").disabled = on;
}

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

/** Follows an accepted upload until the server saw it end (restored, refused, failed or unknown). */
async function follow(id, uploadId) {
  stopPolling();
  let view;
  try {
    view = await deps.api("GET", `/api/tenants/${encodeURIComponent(id)}/uploads/${encodeURIComponent(uploadId)}`);
  } catch (err) {
    if (!current || current.id !== id) return;
    setState(sentence(err.message));
    busy(false);
    return;
  }
  if (!current || current.id !== id) return;
  if (view.finishedAt === null) {
    setState(PHASES[view.phase] || "Restoring…");
    pollTimer = setTimeout(() => follow(id, uploadId), 1000);
    return;
  }
  setProgress(null);
  busy(false);
  if (view.state === "restored") setState("Your database is restored. Open Odoo and sign in with this instance's administrator login.");
  else if (view.state === "refused") setState(refusalText(view.code, view.message), true);
  else setState(sentence(view.message || "we could not restore your database"), true);
}

function send(file) {
  const id = current.id;
  return deps.accessToken().then((token) => {
    xhr = new XMLHttpRequest();
    const request = xhr;
    request.open("POST", `/api/tenants/${encodeURIComponent(id)}/uploads`);
    if (token) request.setRequestHeader("Authorization", `Bearer ${token}`);
    request.setRequestHeader("Content-Type", "application/zip");
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      setProgress(Math.floor((event.loaded / event.total) * 100));
      setState(`Uploading… ${size(event.loaded)} of ${size(event.total)}`);
    });
    request.upload.addEventListener("load", () => {
      setProgress(100);
      setState(PHASES["checking-upload"]);
    });
    request.addEventListener("load", () => {
      xhr = null;
      if (!current || current.id !== id) return;
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = null;
      }
      if (request.status === 202 && body && body.upload) {
        follow(id, body.upload.id);
        return;
      }
      setProgress(null);
      busy(false);
      const error = body && body.error ? body.error : { code: "", message: `the upload failed (HTTP ${request.status})` };
      setState(refusalText(error.code, error.message), true);
    });
    request.addEventListener("error", () => {
      xhr = null;
      if (!current || current.id !== id) return;
      setProgress(null);
      busy(false);
      setState("The upload broke off before the whole file arrived. Nothing was changed; please try again.", true);
    });
    request.send(file);
  });
}

async function submit(event) {
  event.preventDefault();
  if (!current || !current.limit || xhr) return;
  const file = $("upload-file").files[0];
  if (!file) {
    setState("Choose the backup file (.zip) first.", true);
    $("upload-file").focus();
    return;
  }
  if (file.size > current.limit.maxBytes) {
    setState(refusalText("upload_too_large", `the file is ${size(file.size)}, more than your plan allows for an uploaded database (${current.limit.maxText})`), true);
    return;
  }
  busy(true);
  setProgress(0);
  setState("Uploading…");
  await send(file).catch((err) => {
    busy(false);
    setProgress(null);
    setState(sentence(err.message), true);
  });
}

export async function openUpload(id) {
  resetUpload();
  current = { id, limit: null };
  show($("upload"), true);
  show($("upload-form"), false);
  try {
    const { limit } = await deps.api("GET", `/api/tenants/${encodeURIComponent(id)}/uploads`);
    if (!current || current.id !== id) return;
    current.limit = limit;
    // A platform that cannot restore uploads (no cluster) offers none.
    show($("upload"), limit.available);
    if (!limit.available) return;
    $("upload-limit").textContent = `Odoo ${limit.odooVersion} backups only, at most ${limit.maxText}.`;
    show($("upload-form"), true);
  } catch (err) {
    if (!current || current.id !== id) return;
    setState(sentence(err.message));
  }
}

export function resetUpload() {
  if (xhr) xhr.abort();
  xhr = null;
  current = null;
  stopPolling();
  $("upload-form").reset();
  busy(false);
  setProgress(null);
  setState("");
}

export function initUpload(options) {
  deps = options;
  $("upload-form").addEventListener("submit", submit);
}
