// "Upload a database" in an instance's Backups section: the plan's limit, the file sent as the
// request body with the browser's own upload progress (XMLHttpRequest: fetch has no upload
// progress), then the restore's phases as the server observes them, and a refusal in customer
// words with the server's reason. Nothing of the file is read into page memory.
import { $, show } from "./dom.js";
import { silent } from "./api.js";
import { formatSize as size } from "./size.js";
import { problemFrom, problemOf, showProblem } from "./words.js";

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

/** The refusal in customer words (words.js): what kind of problem, why, and that nothing changed. */
export function refusalProblem(code, message, reference) {
  const lead = (LEADS.find(([codes]) => codes.includes(code)) || [null, "Your upload was refused"])[1];
  const problem = problemOf(code, message, reference);
  return { ...problem, text: `${lead}: ${problem.text}${/nothing was changed/i.test(problem.text) ? "" : " Nothing was changed."}` };
}

const NOT_RESTORED = "We could not restore your database. Nothing in your instance was changed; please try again later.";

function setState(text) {
  const box = $("upload-state");
  box.textContent = text;
  box.classList.remove("upload-refused");
  box.setAttribute("role", "status");
  show(box, Boolean(text));
}

/** A refusal or failure: styled and announced as an error, with the detail behind its reference. */
function setProblem(problem) {
  const box = $("upload-state");
  showProblem(box, problem);
  box.classList.add("upload-refused");
  box.setAttribute("role", "alert");
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
    if (!current || current.id !== id || silent(err)) return;
    setProblem(problemFrom(err));
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
  else if (view.state === "refused") setProblem(refusalProblem(view.code, view.message, view.id));
  else setProblem({ text: NOT_RESTORED, detail: view.message, reference: view.id });
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
      setProblem(refusalProblem(error.code, error.message));
    });
    request.addEventListener("error", () => {
      xhr = null;
      if (!current || current.id !== id) return;
      setProgress(null);
      busy(false);
      setProblem({ text: "The upload broke off before the whole file arrived. Nothing was changed; please try again." });
    });
    request.send(file);
  });
}

async function submit(event) {
  event.preventDefault();
  if (!current || !current.limit || xhr) return;
  const file = $("upload-file").files[0];
  if (!file) {
    setProblem({ text: "Choose the backup file (.zip) first." });
    $("upload-file").focus();
    return;
  }
  if (file.size > current.limit.maxBytes) {
    setProblem(refusalProblem("upload_too_large", `the file is ${size(file.size)}, more than your plan allows for an uploaded database (${current.limit.maxText})`));
    return;
  }
  busy(true);
  setProgress(0);
  setState("Uploading…");
  await send(file).catch((err) => {
    busy(false);
    setProgress(null);
    setProblem(problemFrom(err));
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
    if (!current || current.id !== id || silent(err)) return;
    setProblem(problemFrom(err));
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
