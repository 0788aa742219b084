// The progress panel: the operation's steps (Server-Sent Events read with fetch, so the
// token stays in a header), then the instance's own status until it settles. "Ready" is
// shown only once the server observed Odoo answering, never when the change was applied.
import { StaleAnswer } from "./api.js";
import { $, button, el, show } from "./dom.js";
import { settled } from "./status-words.js";

let deps = null;
let stream = null;
let watchTimer = null;
let current = null;

const PANEL = {
  creating: ["We are creating your instance…", 20],
  starting: ["Starting Odoo… It is ready once it answers.", 90],
  ready: ["Ready: your Odoo is answering.", 100, "done"],
  suspended: ["Paused. Your data is kept; resume it at any time.", 100, "done"],
  deleting: ["Deleting your instance…", 50],
  deleted: ["Deleted. Its data is kept until it is permanently removed.", 100, "done"],
  unknown: ["We cannot check on your instance right now; we keep trying.", 90],
};

function state(text, percent, kind) {
  $("progress-status").textContent = text;
  const meter = $("progress-meter");
  meter.style.width = `${percent}%`;
  meter.className = `meter-fill${kind ? ` ${kind}` : ""}`;
}

function logLine(text, kind) {
  const log = $("progress-log");
  log.append(el("li", { text, className: kind }));
  log.scrollTop = log.scrollHeight;
}

function stepLine(event) {
  const log = $("progress-log");
  const existing = log.querySelector(`li[data-step="${event.step}"]`);
  const text = event.status === "started" ? `${event.label}…` : event.status === "finished" ? `✓ ${event.label}` : `✗ ${event.label}`;
  const kind = event.status === "finished" ? "ok" : event.status === "failed" ? "error" : undefined;
  if (existing) {
    existing.textContent = text;
    existing.className = kind || "";
  } else {
    log.append(el("li", { text, className: kind, dataset: { step: event.step } }));
  }
}

function showFailure(error, op) {
  state(error.message, 100, "failed");
  const ref = $("progress-reference");
  ref.textContent = `Reference: ${error.reference}. Quote it if you contact us.`;
  show(ref, true);
  if (op.kind === "create" && op.retry) {
    $("progress-actions").replaceChildren(button("Try again", () => deps.retry(op.retry), { className: "primary", name: `Try again to create ${op.tenantId}` }));
  }
}

function onEvent(event, op) {
  switch (event.type) {
    case "queued": state("Waiting for our platform to take your request…", 5); break;
    case "recovering":
    case "retrying": logLine(event.message, "warning"); break;
    case "started": state(op.kind === "delete" ? PANEL.deleting[0] : op.kind === "create" ? PANEL.creating[0] : "Applying your change…", 15); break;
    case "step": stepLine(event); break;
    case "failed": showFailure(event.error, op); break;
    default: break;
  }
}

/** After the change was applied: the instance's status until it settles. */
function watch(op) {
  clearTimeout(watchTimer);
  const tick = async () => {
    if (current !== op) return;
    // A delete that succeeded retired the instance: nothing left to ask about.
    if (op.kind === "delete") {
      state(...PANEL.deleted);
      deps.onStatusChange();
      return;
    }
    let status;
    let tenant = null;
    try {
      tenant = await deps.api("GET", `/api/tenants/${encodeURIComponent(op.tenantId)}`);
      status = tenant.status;
      if (status === "failed") return showFailure({ message: tenant.statusReason, reference: tenant.reference }, op);
    } catch (err) {
      if (current !== op || err instanceof StaleAnswer) return;
      if (err.status !== 404) { watchTimer = setTimeout(tick, 3000); return; }
      status = "deleted";
    }
    if (current !== op) return;
    const [text, percent, kind] = PANEL[status] || PANEL.unknown;
    state(text, percent, kind);
    if (status === "ready" && tenant) {
      $("progress-actions").replaceChildren(el("a", { className: "button", href: tenant.url, target: "_blank", rel: "noopener noreferrer", text: "Open Odoo", "aria-label": `Open Odoo ${op.tenantId}` }));
    }
    if (status !== op.lastStatus) deps.onStatusChange();
    op.lastStatus = status;
    if (!settled(status)) watchTimer = setTimeout(tick, status === "unknown" ? 3000 : 1500);
  };
  tick();
}

async function read(op, controller) {
  const token = await deps.accessToken();
  const res = await fetch(op.events, { headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" }, signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (!data) continue;
      const event = JSON.parse(data);
      if (current !== op) return null;
      onEvent(event, op);
      if (event.type === "succeeded" || event.type === "failed") last = event.type;
    }
  }
}

/**
 * Shows one operation: op = { events, kind, tenantId, retry? }, retry being the
 * create request to send again after a failure.
 */
export async function follow(op, title) {
  stopProgress();
  const controller = new AbortController();
  stream = controller;
  current = op;
  $("progress-title").textContent = title;
  $("progress-log").replaceChildren();
  $("progress-actions").replaceChildren();
  show($("progress-reference"), false);
  state("Connecting…", 3);
  show($("progress"), true);
  let outcome = null;
  try {
    outcome = await read(op, controller);
  } catch (err) {
    if (err.name === "AbortError") return;
    logLine("Lost the live progress; the status below still updates.", "warning");
  } finally {
    if (stream === controller) stream = null;
  }
  if (current !== op) return;
  deps.onStatusChange();
  if (outcome !== "failed") watch(op);
}

/** Ends the event stream and the status polling. */
export function stopProgress() {
  if (stream) stream.abort();
  stream = null;
  current = null;
  clearTimeout(watchTimer);
}

/** Nothing of the last operation left on the page (sign-out). */
export function resetProgress() {
  stopProgress();
  $("progress-title").textContent = "Progress";
  $("progress-status").textContent = "";
  $("progress-log").replaceChildren();
  $("progress-actions").replaceChildren();
  $("progress-reference").textContent = "";
  show($("progress-reference"), false);
  show($("progress"), false);
}

export function initProgress(options) {
  deps = options;
}
