// "Your instances": one card per instance with its one status and what can be done now.
// Cards and their buttons are updated in place (keyed.js): the 10 s refresh keeps focus, and
// buttons keep their places (Pause stays where it was, unusable, while its request runs).
import { $, el, show } from "./dom.js";
import { silent } from "./api.js";
import { whileBusy } from "./busy.js";
import { setText, syncKeyed } from "./keyed.js";
import { statusLabel } from "./status-words.js";
import { problemFrom, showProblem } from "./words.js";

let deps = null;

const VERB = { suspend: "Pausing", resume: "Resuming", delete: "Deleting", create: "Creating" };

export function operationTitle(kind, id) {
  return `${VERB[kind] || "Updating"} ${id}`;
}

/** What the progress panel needs to follow an operation of this tenant. */
export function followed(tenant, operation, retry) {
  return { events: operation.events, kind: operation.kind, tenantId: tenant.id, ...(retry ? { retry } : {}) };
}

/** The card's own error line: a problem is shown next to the button that caused it. */
function cardError(id) {
  const li = $("tenant-list").querySelector(`li[data-key="${CSS.escape(id)}"]`);
  return li ? li.querySelector(".card-error") : $("flash");
}

export function clearCardError(id) {
  const box = cardError(id);
  if (box && box.id !== "flash") { box.replaceChildren(); box.hidden = true; }
}

export function showCardError(id, err) {
  if (silent(err)) return;
  const box = cardError(id);
  showProblem(box, problemFrom(err));
  if (box.id === "flash") box.className = "flash error";
}

/** Pause, resume or delete; focus goes to the progress panel after a delete (its card goes). */
export async function requestOp(id, kind) {
  clearCardError(id);
  try {
    const result = kind === "delete"
      ? await deps.api("DELETE", `/api/tenants/${encodeURIComponent(id)}`)
      : await deps.api("POST", `/api/tenants/${encodeURIComponent(id)}/${kind}`);
    await refreshList().catch(() => undefined);
    deps.follow(followed(result.tenant, result.operation), operationTitle(kind, id), { focus: kind === "delete" });
  } catch (err) {
    showCardError(id, err);
  }
}

function retryBody(tenant) {
  return { id: tenant.id, plan: tenant.plan, odooVersion: tenant.odooVersion };
}

/** Every action a card may show, in its fixed order; `when` says whether it shows now. */
function actions(tenant) {
  const s = tenant.status;
  const op = tenant.lastOperation;
  const pending = Boolean(op && (op.status === "queued" || op.status === "running"));
  const active = tenant.state === "active" && s !== "deleting";
  const paused = s === "suspended" || (tenant.suspended && !pending);
  return [
    // Open Odoo keeps its slot: a link once Odoo answers, before that a button that says why it waits.
    s === "ready"
      ? { key: "open", when: true, link: true, label: "Open Odoo", name: `Open Odoo ${tenant.id}`, href: tenant.url }
      : { key: "open-wait", when: active, className: "primary", label: "Open Odoo", name: `Open Odoo ${tenant.id}`, blocked: `status-${tenant.id}`, run: () => undefined },
    { key: "credentials", when: active, label: "Credentials", name: `Credentials of ${tenant.id}`, run: (b) => deps.showCredentials(tenant.id, b) },
    { key: "backups", when: active, label: "Backups", name: `Backups of ${tenant.id}`, run: () => deps.openBackups(tenant.id) },
    // One slot for Pause and Resume: it stays (unusable while an operation runs), so nothing shifts under the pointer.
    paused
      ? { key: "pause", when: active, label: "Resume", name: `Resume ${tenant.id}`, busy: pending, run: () => requestOp(tenant.id, "resume") }
      : { key: "pause", when: active, label: "Pause", name: `Pause ${tenant.id}`, busy: pending, run: () => requestOp(tenant.id, "suspend") },
    { key: "retry", when: tenant.state === "failed" && !pending, className: "primary", label: "Try again", name: `Try again to create ${tenant.id}`, run: () => deps.retry(retryBody(tenant)) },
    { key: "delete", when: s !== "deleting", label: "Delete", name: `Delete ${tenant.id}`, run: (b) => deps.confirmDelete(tenant.id, b) },
    // Last, so that its coming and going moves no other button.
    { key: "progress", when: pending, label: "Progress", name: `Progress of ${tenant.id}`, run: () => deps.follow(followed(tenant, op, tenant.state === "failed" ? retryBody(tenant) : undefined), operationTitle(op.kind, tenant.id), { focus: true }) },
  ].filter((a) => a.when);
}

function makeAction(action) {
  if (action.link) return el("a", { className: "button small", target: "_blank", rel: "noopener noreferrer" });
  const b = el("button", { type: "button" });
  b.addEventListener("click", () => { if (b.runAction) whileBusy(b, () => b.runAction(b)); });
  return b;
}

function updateAction(node, action) {
  setText(node, action.label);
  node.setAttribute("aria-label", action.name);
  if (action.link) {
    if (node.getAttribute("href") !== action.href) node.href = action.href;
    return;
  }
  node.className = `button small ${action.className || "secondary"} action-${action.key}`;
  node.runAction = action.run;
  if (action.blocked) node.setAttribute("aria-describedby", action.blocked);
  else node.removeAttribute("aria-describedby");
  // An operation in flight: the button stays where it is, visibly unusable.
  if (action.busy || action.blocked) node.setAttribute("aria-disabled", "true");
  else if (node.getAttribute("aria-busy") !== "true") node.removeAttribute("aria-disabled");
}

function makeCard(tenant) {
  const errorId = `card-error-${tenant.id}`;
  return el("li", { className: "instance", dataset: { tenant: tenant.id } },
    el("h3", { text: tenant.id, tabIndex: -1 }),
    // The buttons come before texts that change (status, reason): a longer reason moves none of them.
    el("div", { className: "row-actions" }),
    el("p", { className: "instance-status" }, el("span", { className: "badge" }), el("span", { className: "status-reason", id: `status-${tenant.id}` })),
    el("p", { className: "reference", hidden: true }),
    el("p", { className: "instance-facts" }, el("span", { className: "address" }), el("span", { className: "plan-facts" })),
    el("p", { className: "field-error card-error", id: errorId, role: "alert", hidden: true }));
}

function updateCard(li, tenant) {
  const badge = li.querySelector(".badge");
  const badgeClass = `badge ${tenant.status}`;
  if (badge.className !== badgeClass) badge.className = badgeClass;
  setText(badge, statusLabel(tenant.status));
  setText(li.querySelector(".status-reason"), tenant.statusReason);
  const ref = li.querySelector(".reference");
  setText(ref, tenant.reference ? `Reference: ${tenant.reference}` : "");
  ref.hidden = !tenant.reference;
  setText(li.querySelector(".address"), tenant.host);
  setText(li.querySelector(".plan-facts"), `${deps.planName(tenant.plan)} plan · Odoo ${tenant.odooVersion}`);
  syncKeyed(li.querySelector(".row-actions"), actions(tenant), (a) => a.key, makeAction, updateAction);
}

export async function refreshList() {
  const { tenants, limit } = await deps.api("GET", "/api/tenants");
  const list = $("tenant-list");
  const focused = document.activeElement;
  const focusedCard = focused && list.contains(focused) ? focused.closest("li.instance") : null;
  syncKeyed(list, tenants, (t) => t.id, makeCard, updateCard);
  // The focused button went (its action is no longer possible): its card keeps focus, or the list.
  if (focusedCard && !focused.isConnected) (focusedCard.isConnected ? focusedCard.querySelector("h3") : $("list-title")).focus();
  show($("list-empty"), tenants.length === 0);
  deps.onLimit(limit);
  return tenants;
}

/** A card's heading, to give focus back to when its opener is gone. */
export function cardHeading(id) {
  const li = $("tenant-list").querySelector(`li[data-key="${CSS.escape(id)}"]`);
  return li ? li.querySelector("h3") : null;
}

export function resetList() {
  $("tenant-list").replaceChildren();
  show($("list-empty"), true);
}

export function initList(options) {
  deps = options;
}
