// The progress panel: the operation's steps (Server-Sent Events read with fetch, so the
// token stays in a header), then the instance's own status until it settles. "Ready" is
// shown only once the server observed Odoo answering, never when the change was applied.
// The bar follows the steps done; steps are listed in the order they happen in, whatever
// order the engine finishes them in; the title says the outcome once there is one.
import { StaleAnswer } from "./api.js";
import { $, button, el, show } from "./dom.js";
import { settled } from "./status-words.js";
import { readEvents } from "./sse.js";

let deps = null;
let stream = null;
let watchTimer = null;
let current = null;

/** The steps of each kind of operation, in the order they happen (customer-progress.ts). */
const STEPS = {
  create: ["setup", "space", "security", "database", "odoo", "address", "backups"],
  delete: ["offline"],
  suspend: ["pause"],
  resume: ["resume"],
};
/** A create shows 6 of them (setup only when the program has other resources). */
const EXPECTED = { create: 6, delete: 1, suspend: 1, resume: 1 };

export const DELETED_TEXT = "Deleted. Its database, files and backups are kept until you ask us to remove them; nothing is removed on its own. "
  + "The name stays with them: to use it again, contact us and ask us to remove the kept data permanently.";

const PANEL = {
  creating: ["We are creating your instance…", null],
  starting: ["Starting Odoo… It is ready once it answers.", 90],
  ready: ["Ready: your Odoo is answering.", 100, "done"],
  suspended: ["Paused. Your data is kept; resume it at any time.", 100, "done"],
  deleting: ["Deleting your instance…", null],
  deleted: [DELETED_TEXT, 100, "done"],
  unknown: ["We cannot check on your instance right now; we keep trying.", null],
};

const OUTCOME_TITLE = {
  ready: (id) => `${id} is ready`,
  suspended: (id) => `${id} is paused`,
  deleted: (id) => `${id} is deleted`,
  failed: (id, kind) => `${kind === "create" ? "Could not create" : kind === "delete" ? "Could not delete" : "Could not change"} ${id}`,
};

function meter(percent, kind) {
  const fill = $("progress-meter");
  if (percent !== null) fill.style.width = `${percent}%`;
  fill.className = `meter-fill${kind ? ` ${kind}` : ""}`;
  $("progress-bar").setAttribute("aria-valuenow", String(Math.round(parseFloat(fill.style.width) || 0)));
}

function state(text, percent, kind) {
  $("progress-status").textContent = text;
  meter(percent, kind);
}

function titleFor(op, outcome) {
  const make = OUTCOME_TITLE[outcome];
  if (make) $("progress-title").textContent = make(op.tenantId, op.kind);
}

/** 10% once started, 85% once every step is done (applied), the rest is Odoo answering. */
function stepPercent(op) {
  const done = $("progress-log").querySelectorAll("li.ok").length;
  const seen = $("progress-log").querySelectorAll("li[data-step]").length;
  return 10 + Math.round((75 * done) / Math.max(EXPECTED[op.kind] || 1, seen));
}

function logLine(text, kind) {
  const log = $("progress-log");
  // The same notice again (another retry) is not a new line.
  if (log.lastElementChild && !log.lastElementChild.dataset.step && log.lastElementChild.textContent === text) return;
  log.append(el("li", { text, className: kind }));
  log.scrollTop = log.scrollHeight;
}

function stepLine(event, op) {
  const log = $("progress-log");
  const existing = log.querySelector(`li[data-step="${CSS.escape(event.step)}"]`);
  const text = event.status === "started" ? `${event.label}…` : event.status === "finished" ? `✓ ${event.label}` : `✗ ${event.label}`;
  const kind = event.status === "finished" ? "ok" : event.status === "failed" ? "error" : "";
  if (existing) {
    existing.textContent = text;
    existing.className = kind;
  } else {
    // In the steps' own order, not the order the engine reports them in.
    const order = STEPS[op.kind] || [];
    const rank = (step) => { const i = order.indexOf(step); return i < 0 ? order.length : i; };
    const after = [...log.querySelectorAll("li[data-step]")].find((li) => rank(li.dataset.step) > rank(event.step));
    log.insertBefore(el("li", { text, className: kind, dataset: { step: event.step } }), after || null);
  }
  meter(stepPercent(op));
}

function showFailure(error, op) {
  state(error.message, 100, "failed");
  titleFor(op, "failed");
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
    case "started": state(op.kind === "delete" ? PANEL.deleting[0] : op.kind === "create" ? PANEL.creating[0] : "Applying your change…", 10); break;
    case "step": stepLine(event, op); break;
    case "succeeded": meter(85); break;
    case "failed": showFailure(event.error, op); break;
    default: break;
  }
}

function showStatus(op, status, tenant) {
  const [text, percent, kind] = PANEL[status] || PANEL.unknown;
  state(text, percent, kind);
  titleFor(op, status);
  if (status === "ready" && tenant) {
    $("progress-actions").replaceChildren(el("a", { className: "button", href: tenant.url, target: "_blank", rel: "noopener noreferrer", text: "Open Odoo", "aria-label": `Open Odoo ${op.tenantId}` }));
  }
}

/** After the change was applied: the instance's status until it settles. */
function watch(op) {
  clearTimeout(watchTimer);
  const tick = async () => {
    if (current !== op) return;
    // A delete that succeeded retired the instance: nothing left to ask about.
    if (op.kind === "delete") {
      showStatus(op, "deleted");
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
    showStatus(op, status, tenant);
    if (status !== op.lastStatus) deps.onStatusChange();
    op.lastStatus = status;
    if (!settled(status)) watchTimer = setTimeout(tick, status === "unknown" ? 3000 : 1500);
  };
  tick();
}

/** The panel, in view and focused: after Create or Delete the person's place is here. */
function bringIntoView() {
  $("progress").scrollIntoView({ block: "start" });
  $("progress-title").focus({ preventScroll: true });
}

// While the person's focus is in the panel, a panel that grows (steps, messages) stays wholly in
// view instead of running off the bottom of the screen.
const panelSize = new ResizeObserver(() => {
  if ($("progress").contains(document.activeElement)) $("progress").scrollIntoView({ block: "nearest" });
});

/**
 * Shows one operation: op = { events, kind, tenantId, retry? }, retry being the
 * create request to send again after a failure. options.focus moves focus to the panel.
 */
export async function follow(op, title, options = {}) {
  if (current && current.events === op.events) {
    if (options.focus) bringIntoView();
    return;
  }
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
  if (options.focus) bringIntoView();
  let outcome = null;
  try {
    outcome = await readEvents(op.events, await deps.accessToken(), controller.signal, (event) => {
      if (current !== op) return false;
      onEvent(event, op);
      return true;
    });
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
  panelSize.observe($("progress"));
  // The list above it grows too (a new card, a longer reason).
  panelSize.observe($("tenant-list"));
}
