// The administrators' view: every tenant (deleted ones too), owners by e-mail, usage and the
// node distribution. Only shown when /api/me says the caller is an administrator.
import { $, el, show } from "./dom.js";

let deps = null;
let overview = null;
let isAdmin = false;

function cell(text) {
  return el("td", { text });
}

function cores(n) {
  if (n === null || n === undefined) return "n/a";
  return n < 1 ? `${Math.round(n * 1000)}m` : String(Math.round(n * 100) / 100);
}

function bytes(n) {
  if (n === null || n === undefined) return "n/a";
  const units = ["B", "Ki", "Mi", "Gi", "Ti"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)}${units[unit]}`;
}

function pair(q, fmt) {
  return q ? `${fmt(q.used)} / ${fmt(q.hard)}` : "n/a";
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

export function renderAdmin() {
  if (!overview) return;
  const filter = $("admin-filter").value;
  $("admin-rows").replaceChildren(...overview.tenants.filter((t) => !filter || t.status === filter).map((t) => {
    const status = el("td", {},
      el("span", { className: `badge ${t.status}`, text: t.status, title: t.statusReason }),
      el("span", { className: "status-reason", text: t.statusReason }),
      t.reference ? el("span", { className: "reference", text: `ref ${t.reference}` }) : null);
    return el("tr", { dataset: { tenant: t.id } },
      cell(t.id), cell(t.source), cell(t.owner || "-"), cell(t.plan || "-"), status, cell(t.node || "-"),
      cell(cores(t.cpu)), cell(bytes(t.memory)), cell(pair(t.quotaCpu, cores)), cell(pair(t.quotaMemory, bytes)), cell(bytes(t.storageRequested)));
  }));
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

export async function refreshAdmin() {
  show($("admin-section"), isAdmin);
  if (!isAdmin) return;
  overview = await deps.api("GET", "/api/admin/overview");
  renderAdmin();
}

export function resetAdmin() {
  isAdmin = false;
  overview = null;
  $("admin-filter").value = "";
  for (const id of ["admin-rows", "distribution-rows"]) $(id).replaceChildren();
  for (const id of ["admin-cluster", "distribution-rule"]) $(id).textContent = "";
  show($("admin-section"), false);
}

export function initAdmin(options) {
  deps = options;
  $("admin-filter").addEventListener("change", renderAdmin);
}
