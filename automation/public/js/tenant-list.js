// "Your instances": one card per instance with its one status and what can be done now.
import { $, button, el, flash, show } from "./dom.js";
import { sentence } from "./api.js";
import { statusLabel } from "./status-words.js";

let deps = null;

const VERB = { suspend: "Pausing", resume: "Resuming", delete: "Deleting", create: "Creating" };

export function operationTitle(kind, id) {
  return `${VERB[kind] || "Updating"} ${id}`;
}

/** What the progress panel needs to follow an operation of this tenant. */
export function followed(tenant, operation, retry) {
  return { events: operation.events, kind: operation.kind, tenantId: tenant.id, ...(retry ? { retry } : {}) };
}

export async function requestOp(id, kind) {
  try {
    const result = kind === "delete"
      ? await deps.api("DELETE", `/api/tenants/${encodeURIComponent(id)}`)
      : await deps.api("POST", `/api/tenants/${encodeURIComponent(id)}/${kind}`);
    if (result.note) flash(result.note);
    await refreshList();
    deps.follow(followed(result.tenant, result.operation), operationTitle(kind, id));
  } catch (err) {
    flash(sentence(err.message), "error");
  }
}

function retryBody(tenant) {
  return { id: tenant.id, plan: tenant.plan, odooVersion: tenant.odooVersion };
}

function actions(tenant) {
  const list = [];
  const s = tenant.status;
  const op = tenant.lastOperation;
  const pending = op && (op.status === "queued" || op.status === "running");
  if (s === "ready") list.push(el("a", { className: "button small", href: tenant.url, target: "_blank", rel: "noopener noreferrer", text: "Open Odoo", "aria-label": `Open Odoo ${tenant.id}` }));
  if (tenant.state === "active" && s !== "deleting") {
    list.push(button("Credentials", () => deps.showCredentials(tenant.id), { name: `Credentials of ${tenant.id}` }));
    list.push(button("Backups", () => deps.openBackups(tenant.id), { name: `Backups of ${tenant.id}` }));
    if (s === "suspended") list.push(button("Resume", () => requestOp(tenant.id, "resume"), { name: `Resume ${tenant.id}` }));
    else if (!tenant.suspended && !pending) list.push(button("Pause", () => requestOp(tenant.id, "suspend"), { name: `Pause ${tenant.id}` }));
  }
  if (tenant.state === "failed" && !pending) list.push(button("Try again", () => deps.retry(retryBody(tenant)), { className: "primary", name: `Try again to create ${tenant.id}` }));
  if (pending) list.push(button("Progress", () => deps.follow(followed(tenant, op, tenant.state === "failed" ? retryBody(tenant) : undefined), operationTitle(op.kind, tenant.id)), { name: `Progress of ${tenant.id}` }));
  if (s !== "deleting") list.push(button("Delete", () => deps.confirmDelete(tenant.id), { name: `Delete ${tenant.id}` }));
  return list;
}

function card(tenant) {
  const status = el("p", { className: "instance-status" },
    el("span", { className: `badge ${tenant.status}`, text: statusLabel(tenant.status) }),
    el("span", { className: "status-reason", text: tenant.statusReason }));
  const reference = tenant.reference ? el("p", { className: "reference", text: `Reference: ${tenant.reference}` }) : null;
  const facts = el("p", { className: "instance-facts" },
    el("span", { className: "address", text: tenant.host }),
    el("span", { text: `${deps.planName(tenant.plan)} plan · Odoo ${tenant.odooVersion}` }));
  return el("li", { className: "instance", dataset: { tenant: tenant.id } },
    el("h3", { text: tenant.id }), status, reference, facts,
    el("div", { className: "row-actions" }, ...actions(tenant)));
}

export async function refreshList() {
  const { tenants, limit } = await deps.api("GET", "/api/tenants");
  $("tenant-list").replaceChildren(...tenants.map(card));
  show($("list-empty"), tenants.length === 0);
  deps.onLimit(limit);
  return tenants;
}

export function resetList() {
  $("tenant-list").replaceChildren();
  show($("list-empty"), true);
}

export function initList(options) {
  deps = options;
}
