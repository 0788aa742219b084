// The administrators' view: every tenant (deleted ones and the fleet stack's too), owners by
// e-mail (never an account id), usage, what an operator can do (pause, send a failed operation
// again) and the node distribution. Only shown when /api/me says the caller is an administrator.
import { $, el, show } from "./dom.js";
import { silent } from "./api.js";
import { whileBusy } from "./busy.js";
import { formatSize } from "./size.js";
import { problemFrom, showProblem } from "./words.js";

let deps = null;
let overview = null;
let isAdmin = false;

const COLUMNS = 9;
/** A daily backup older than this is overdue (a day plus the schedule's slack). */
const OVERDUE_MS = 26 * 3600 * 1000;
const RETRY = { suspend: "pause", resume: "resume", delete: "delete" };

function cell(text, className) {
  return el("td", { text, className });
}

function cores(n) {
  if (n === null || n === undefined) return "n/a";
  return n < 1 ? `${Math.round(n * 1000)}m` : String(Math.round(n * 100) / 100);
}

function pair(q, fmt) {
  return q ? `${fmt(q.used)} of ${fmt(q.hard)}` : "n/a";
}

function distributionText(dist) {
  if (!dist) return "No cluster data.";
  if (dist.limit === 0 && dist.ok) return "No tenant running.";
  if (dist.limit === 0) return `No schedulable node; unscheduled: ${dist.unscheduled.join(", ")}`;
  const rule = `Rule: at most ${dist.limit} tenant${dist.limit === 1 ? "" : "s"} per node.`;
  if (dist.ok) return `${rule} Spread is even.`;
  const problems = [...dist.overloaded.map((o) => `${o.node} holds ${o.count}`), ...(dist.unscheduled.length ? [`unscheduled: ${dist.unscheduled.join(", ")}`] : [])];
  return `${rule} NOT even: ${problems.join("; ")}`;
}

async function act(t, kind) {
  const path = `/api/tenants/${encodeURIComponent(t.id)}`;
  try {
    if (kind === "delete") await deps.api("DELETE", path);
    else await deps.api("POST", `${path}/${kind}`);
    $("admin-error").hidden = true;
    await refreshAdmin(true);
  } catch (err) {
    if (silent(err)) return;
    showProblem($("admin-error"), { ...problemFrom(err), text: `${t.id}: ${problemFrom(err).text}` });
  }
}

function actionButtons(t) {
  const list = [];
  const add = (label, name, kind) => {
    const b = el("button", { type: "button", className: "button small secondary", text: label, "aria-label": name });
    b.addEventListener("click", () => whileBusy(b, () => act(t, kind)));
    list.push(b);
  };
  if (t.actions && t.actions.suspend) add("Pause", `Pause ${t.id} (administrator)`, "suspend");
  if (t.actions && t.actions.retry) add(`Retry ${RETRY[t.actions.retry]}`, `Retry the failed ${RETRY[t.actions.retry]} of ${t.id}`, t.actions.retry);
  return list;
}

function age(ms) {
  const hours = Math.floor(ms / 3600000);
  if (hours < 1) return `${Math.max(1, Math.floor(ms / 60000))} min ago`;
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** Backup health: the scheduled backup's last success and its age, as Kubernetes recorded it. */
function backupCell(t) {
  if (!t.backup) return cell("n/a");
  if (!t.backup.lastSuccess) return cell("never", "overdue");
  const ms = Date.now() - Date.parse(t.backup.lastSuccess);
  const when = new Date(t.backup.lastSuccess).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
  return el("td", { className: ms > OVERDUE_MS ? "overdue" : undefined },
    el("span", { className: "usage", text: age(ms) }), el("span", { className: "status-reason", text: when }));
}

function row(t) {
  const tenant = el("td", {}, el("span", { className: "tenant-id", text: t.id }), el("span", { className: "status-reason", text: t.source }));
  const status = el("td", {},
    el("span", { className: `badge ${t.status}`, text: t.status }),
    el("span", { className: "status-reason", text: t.statusReason }),
    t.reference ? el("span", { className: "reference", text: `ref ${t.reference}` }) : null);
  const usage = el("td", {},
    el("span", { className: "usage", text: `CPU ${cores(t.cpu)} · ${pair(t.quotaCpu, cores)}` }),
    el("span", { className: "usage", text: `Memory ${formatSize(t.memory)} · ${pair(t.quotaMemory, formatSize)}` }));
  return el("tr", { dataset: { tenant: t.id } },
    tenant, cell(t.owner || "no e-mail", "owner"), cell(t.plan || "-"), status, cell(t.node || "-"), usage,
    cell(formatSize(t.storageRequested)), backupCell(t), el("td", { className: "actions" }, ...actionButtons(t)));
}

export function renderAdmin() {
  if (!overview) return;
  const filter = $("admin-filter").value;
  const rows = overview.tenants.filter((t) => !filter || t.status === filter);
  $("admin-rows").replaceChildren(...(rows.length
    ? rows.map(row)
    : [el("tr", {}, el("td", { colSpan: COLUMNS, className: "empty", text: filter ? `No tenants match "${filter}".` : "No tenants yet." }))]));
  const cluster = overview.cluster;
  $("admin-cluster").textContent = cluster.reachable ? (overview.metricsMessage || "Live usage from the metrics API.") : `Cluster not readable: ${cluster.reason}`;
  const dist = overview.distribution;
  $("distribution-rule").textContent = distributionText(dist);
  $("distribution-rows").replaceChildren(...(dist ? dist.perNode : []).map((r) =>
    el("tr", {}, cell(r.node), cell(String(r.tenants.length)), cell(r.tenants.join(", ")))));
}

export function setAdmin(value) {
  isAdmin = value;
}

export async function refreshAdmin(force = false) {
  show($("admin-section"), isAdmin);
  if (!isAdmin) return;
  // The timer does not rebuild the table under the operator's focus (their place would go).
  if (!force && $("admin-rows").contains(document.activeElement)) return;
  overview = await deps.api("GET", "/api/admin/overview");
  renderAdmin();
}

export function resetAdmin() {
  isAdmin = false;
  overview = null;
  $("admin-filter").value = "";
  for (const id of ["admin-rows", "distribution-rows"]) $(id).replaceChildren();
  for (const id of ["admin-cluster", "distribution-rule"]) $(id).textContent = "";
  $("admin-error").hidden = true;
  show($("admin-section"), false);
}

export function initAdmin(options) {
  deps = options;
  $("admin-filter").addEventListener("change", renderAdmin);
}
