// The signup page: plain JavaScript, no build step. Sign-in through supabase-js (served by
// this server as /vendor/supabase.js), then the signup API with the session's access token.
// Everything shown comes in through textContent (never innerHTML).
(() => {
  "use strict";

  const config = window.ODOO_SAAS_CONFIG;
  const sb = window.supabase.createClient(config.supabaseUrl, config.supabaseAnonKey, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: false },
  });
  const $ = (id) => document.getElementById(id);

  let authMode = "signin";
  let publicConfig = null;
  let idPattern = null;
  let stream = null;
  let refreshTimer = null;
  let checkTimer = null;
  let checkSeq = 0;
  let pendingDelete = null;

  // ---- helpers -------------------------------------------------------------------------
  function show(el, visible) { el.hidden = !visible; }

  function flash(message, kind) {
    const el = $("flash");
    el.textContent = message || "";
    el.className = `flash${kind === "error" ? " error" : ""}`;
    show(el, Boolean(message));
  }

  async function accessToken() {
    const { data } = await sb.auth.getSession();
    return data.session ? data.session.access_token : null;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || `request failed (HTTP ${status})`);
      this.status = status;
      this.code = body && body.error ? body.error.code : undefined;
      this.field = body && body.error ? body.error.field : undefined;
    }
  }

  async function api(method, path, body) {
    const token = await accessToken();
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const type = res.headers.get("content-type") || "";
    const data = type.includes("json") ? await res.json() : null;
    if (!res.ok) {
      if (res.status === 401) await signedOut("Your session has expired; sign in again.");
      throw new ApiError(res.status, data);
    }
    return data;
  }

  // ---- authentication ------------------------------------------------------------------
  function setAuthMode(mode) {
    authMode = mode;
    const signin = mode === "signin";
    $("tab-signin").setAttribute("aria-selected", String(signin));
    $("tab-signup").setAttribute("aria-selected", String(!signin));
    $("tab-signin").tabIndex = signin ? 0 : -1;
    $("tab-signup").tabIndex = signin ? -1 : 0;
    $("auth-form").setAttribute("aria-labelledby", signin ? "tab-signin" : "tab-signup");
    $("auth-submit").textContent = signin ? "Sign in" : "Create account";
    $("password").autocomplete = signin ? "current-password" : "new-password";
    show($("auth-error"), false);
  }

  async function onAuthSubmit(event) {
    event.preventDefault();
    const email = $("email").value.trim();
    const password = $("password").value;
    const error = $("auth-error");
    show(error, false);
    if (!email || !$("email").checkValidity()) return authProblem("Enter a valid e-mail address.", $("email"));
    if (password.length < 6) return authProblem("The password needs at least 6 characters.", $("password"));
    $("auth-submit").disabled = true;
    try {
      const result = authMode === "signin"
        ? await sb.auth.signInWithPassword({ email, password })
        : await sb.auth.signUp({ email, password });
      if (result.error) return authProblem(result.error.message);
      if (!result.data.session) {
        flash("Check your e-mail to confirm your account, then sign in.");
        setAuthMode("signin");
        return;
      }
      await signedIn(result.data.session);
    } catch (err) {
      authProblem(`Sign-in is unavailable right now (${err.message}).`);
    } finally {
      $("auth-submit").disabled = false;
    }
  }

  function authProblem(message, field) {
    const error = $("auth-error");
    error.textContent = message;
    show(error, true);
    if (field) field.focus();
  }

  async function signedIn(session) {
    flash("");
    $("who").textContent = session.user && session.user.email ? session.user.email : "";
    show($("account"), true);
    show($("auth-section"), false);
    show($("app-section"), true);
    $("password").value = "";
    try {
      await loadPublicConfig();
      isAdmin = (await api("GET", "/api/me")).isAdmin === true;
    } catch (err) {
      flash(`The service is not available right now: ${err.message}`, "error");
    }
    await refreshList();
    clearInterval(refreshTimer);
    refreshTimer = setInterval(() => { refreshList().catch(() => undefined); }, 10000);
    $("main").focus();
  }

  async function signedOut(message) {
    clearInterval(refreshTimer);
    isAdmin = false;
    adminOverview = null;
    show($("admin-section"), false);
    if (stream) stream.abort();
    show($("account"), false);
    show($("app-section"), false);
    show($("auth-section"), true);
    if (message) flash(message, "error");
  }

  // ---- create form and inline validation -----------------------------------------------
  async function loadPublicConfig() {
    if (publicConfig) return;
    const res = await fetch("/api/config/public", { headers: { Accept: "application/json" } });
    const data = await res.json();
    if (!res.ok) throw new ApiError(res.status, data);
    publicConfig = data;
    idPattern = new RegExp(data.idRules.pattern);
    $("host-suffix").textContent = `.${data.baseDomain}`;
    $("tenant-id").maxLength = data.idRules.maxLength;
    $("tenant-id-hint").textContent = `Your address will be <name>.${data.baseDomain}: ${data.idRules.description}.`;
    const plan = $("plan");
    plan.replaceChildren(...data.plans.map((p) => {
      const option = document.createElement("option");
      option.value = p.name;
      option.textContent = `${p.name} (${p.memory} memory, ${p.databaseStorage} database)`;
      return option;
    }));
    const version = $("version");
    version.replaceChildren(...data.odooVersions.slice().reverse().map((v) => {
      const option = document.createElement("option");
      option.value = v;
      option.textContent = v === data.defaultOdooVersion ? `${v} (newest)` : v;
      option.selected = v === data.defaultOdooVersion;
      return option;
    }));
  }

  function localIdProblem(id) {
    const rules = publicConfig.idRules;
    if (id === "") return "Choose a name.";
    if (id.length > rules.maxLength) return `At most ${rules.maxLength} characters.`;
    if (!idPattern.test(id)) return `Use ${rules.description}.`;
    if (rules.reserved.includes(id)) return `"${id}" is reserved.`;
    const prefix = rules.reservedPrefixes.find((p) => id.startsWith(p));
    if (prefix) return `Names starting with "${prefix}" are reserved.`;
    return null;
  }

  function fieldMessage(field, message, ok) {
    const input = field === "id" ? $("tenant-id") : field === "plan" ? $("plan") : $("version");
    const el = field === "id" ? $("tenant-id-error") : field === "plan" ? $("plan-error") : $("version-error");
    el.textContent = message || "";
    el.className = ok ? "field-error field-ok" : "field-error";
    show(el, Boolean(message));
    input.setAttribute("aria-invalid", message && !ok ? "true" : "false");
  }

  function onIdInput() {
    const id = $("tenant-id").value;
    clearTimeout(checkTimer);
    if (!publicConfig) return;
    const problem = localIdProblem(id);
    if (problem) {
      fieldMessage("id", id === "" ? "" : problem);
      return;
    }
    fieldMessage("id", "");
    const seq = ++checkSeq;
    checkTimer = setTimeout(async () => {
      try {
        const result = await api("GET", `/api/check-id?id=${encodeURIComponent(id)}`);
        if (seq !== checkSeq) return;
        if (result.available) fieldMessage("id", `${id}.${publicConfig.baseDomain} is available.`, true);
        else fieldMessage("id", result.problem);
      } catch {
        // The server checks again on submit.
      }
    }, 300);
  }

  async function onCreate(event) {
    event.preventDefault();
    show($("create-error"), false);
    const id = $("tenant-id").value;
    const problem = publicConfig ? localIdProblem(id) : null;
    if (problem) {
      fieldMessage("id", problem);
      $("tenant-id").focus();
      return;
    }
    const body = { id, plan: $("plan").value };
    if ($("version").value) body.odooVersion = $("version").value;
    $("create-submit").disabled = true;
    try {
      const result = await api("POST", "/api/tenants", body);
      $("create-form").reset();
      fieldMessage("id", "");
      $("version").value = publicConfig.defaultOdooVersion;
      await refreshList();
      follow(result.operation, `Creating ${result.tenant.id}`);
    } catch (err) {
      if (err.field === "id" || err.field === "plan" || err.field === "odooVersion") {
        fieldMessage(err.field === "odooVersion" ? "version" : err.field, err.message);
        (err.field === "id" ? $("tenant-id") : err.field === "plan" ? $("plan") : $("version")).focus();
      } else {
        const el = $("create-error");
        el.textContent = err.message;
        show(el, true);
      }
    } finally {
      $("create-submit").disabled = false;
    }
  }

  // ---- live progress (Server-Sent Events over fetch, so the token travels in a header) ----
  const VERBS = {
    create: ["Creating", "Created"], update: ["Updating", "Updated"], delete: ["Removing", "Removed"],
    replace: ["Replacing", "Replaced"], "create-replacement": ["Creating replacement of", "Created replacement of"],
    "delete-replaced": ["Removing old", "Removed old"],
  };

  function logLine(text, kind) {
    const li = document.createElement("li");
    li.textContent = text;
    if (kind) li.className = kind;
    const log = $("progress-log");
    log.append(li);
    log.scrollTop = log.scrollHeight;
  }

  function progressState(text, percent, kind) {
    $("progress-status").textContent = text;
    const meter = $("progress-meter");
    meter.style.width = `${percent}%`;
    meter.className = `meter-fill${kind ? ` ${kind}` : ""}`;
  }

  let stepsStarted = 0;
  let stepsDone = 0;

  function onProgress(event) {
    switch (event.type) {
      case "queued": progressState("Queued: waiting for the next platform update…", 5); break;
      case "recovering": progressState("The platform restarted; resuming…", 10); logLine(event.message, "warning"); break;
      case "started": progressState(`Provisioning (platform update #${event.update})…`, 15); break;
      case "step": {
        const verbs = VERBS[event.op] || [event.op, event.op];
        if (event.status === "started") { stepsStarted += 1; logLine(`${verbs[0]} ${event.resource}…`); }
        else if (event.status === "finished") { stepsDone += 1; logLine(`✓ ${verbs[1]} ${event.resource}`, "ok"); }
        else logLine(`✗ Failed: ${event.resource}`, "error");
        const ratio = stepsStarted === 0 ? 0 : stepsDone / stepsStarted;
        progressState($("progress-status").textContent, Math.min(90, 15 + Math.round(75 * ratio)));
        break;
      }
      case "diagnostic": logLine(`${event.severity === "error" ? "Error" : "Warning"}: ${event.message}`, event.severity); break;
      case "summary": {
        const parts = Object.entries(event.changes || {}).map(([op, n]) => `${n} ${op === "create" ? "created" : op === "update" ? "updated" : op === "delete" ? "removed" : op}`);
        if (parts.length) logLine(`Summary: ${parts.join(", ")}${event.durationSeconds !== undefined ? ` in ${event.durationSeconds}s` : ""}.`);
        break;
      }
      case "succeeded": progressState("Done: the operation succeeded.", 100, "done"); break;
      case "failed": progressState(`Failed: ${event.error.message}`, 100, "failed"); break;
      default: break;
    }
  }

  async function follow(operation, title) {
    if (stream) stream.abort();
    const controller = new AbortController();
    stream = controller;
    stepsStarted = 0;
    stepsDone = 0;
    $("progress-title").textContent = title;
    $("progress-log").replaceChildren();
    progressState("Connecting…", 3);
    show($("progress"), true);
    let finished = false;
    try {
      const token = await accessToken();
      const res = await fetch(operation.events, { headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" }, signal: controller.signal });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (!data) continue;
          const event = JSON.parse(data);
          onProgress(event);
          if (event.type === "succeeded" || event.type === "failed") finished = true;
        }
      }
    } catch (err) {
      if (err.name === "AbortError") return;
      logLine(`Lost the progress stream (${err.message}); the list below still updates.`, "warning");
    } finally {
      if (stream === controller) stream = null;
    }
    if (finished) await refreshList();
  }

  // ---- the list ------------------------------------------------------------------------
  function button(label, handler, className, accessibleName) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `button small ${className || "secondary"}`;
    b.textContent = label;
    if (accessibleName) b.setAttribute("aria-label", accessibleName);
    b.addEventListener("click", handler);
    return b;
  }

  function row(tenant) {
    const tr = document.createElement("tr");
    tr.dataset.tenant = tenant.id;
    const name = document.createElement("td");
    name.textContent = tenant.id;
    const status = document.createElement("td");
    const badge = document.createElement("span");
    badge.className = `badge ${tenant.status}`;
    badge.textContent = tenant.status;
    status.append(badge);
    if (tenant.status === "error" || tenant.status === "provisioning" || tenant.status === "unknown") {
      const reason = document.createElement("span");
      reason.className = "status-reason";
      reason.textContent = tenant.statusReason;
      status.append(reason);
    }
    const address = document.createElement("td");
    const link = document.createElement("a");
    link.href = tenant.url;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    link.textContent = tenant.host;
    address.append(link);
    const plan = document.createElement("td");
    plan.textContent = tenant.plan;
    const version = document.createElement("td");
    version.textContent = tenant.odooVersion;
    const actions = document.createElement("td");
    actions.className = "actions";
    if (tenant.state === "active") {
      actions.append(button("Credentials", () => showCredentials(tenant.id), "secondary", `Credentials of ${tenant.id}`));
      if (tenant.suspended) actions.append(button("Resume", () => requestOp(tenant.id, "resume"), "secondary", `Resume ${tenant.id}`));
      else if (tenant.status !== "deleting") actions.append(button("Suspend", () => requestOp(tenant.id, "suspend"), "secondary", `Suspend ${tenant.id}`));
    }
    if (tenant.status !== "deleting") actions.append(button("Delete", () => confirmDelete(tenant.id), "secondary", `Delete ${tenant.id}`));
    if (tenant.lastOperation && (tenant.lastOperation.status === "queued" || tenant.lastOperation.status === "running")) {
      actions.append(button("Progress", () => follow(tenant.lastOperation, `${tenant.lastOperation.kind} ${tenant.id}`), "secondary", `Progress of ${tenant.id}`));
    }
    tr.append(name, status, address, plan, version, actions);
    return tr;
  }

  async function refreshList() {
    const { tenants } = await api("GET", "/api/tenants");
    $("tenant-rows").replaceChildren(...tenants.map(row));
    show($("tenant-table"), tenants.length > 0);
    show($("list-empty"), tenants.length === 0);
    await refreshAdmin();
  }

  // ---- administrators' view ---------------------------------------------------------------
  let adminOverview = null;
  let isAdmin = false;

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
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

  function renderAdmin() {
    if (!adminOverview) return;
    const filter = $("admin-filter").value;
    const rows = adminOverview.tenants.filter((t) => !filter || t.status === filter).map((t) => {
      const tr = document.createElement("tr");
      tr.dataset.tenant = t.id;
      const status = document.createElement("td");
      const badge = document.createElement("span");
      badge.className = `badge ${t.status}`;
      badge.textContent = t.status;
      badge.title = t.statusReason;
      status.append(badge);
      tr.append(cell(t.id), cell(t.source), cell(t.owner || "-"), cell(t.plan || "-"), status, cell(t.node || "-"),
        cell(cores(t.cpu)), cell(bytes(t.memory)), cell(pair(t.quotaCpu, cores)), cell(pair(t.quotaMemory, bytes)), cell(bytes(t.storageRequested)));
      return tr;
    });
    $("admin-rows").replaceChildren(...rows);
    const cluster = adminOverview.cluster;
    $("admin-cluster").textContent = cluster.reachable
      ? (adminOverview.metricsMessage || "Live usage from the metrics API.")
      : `Cluster not readable: ${cluster.reason}`;
    const dist = adminOverview.distribution;
    $("distribution-rule").textContent = dist
      ? `Rule: at most ${dist.limit} tenant(s) per node. ${dist.ok ? "Spread is even." : `NOT even: ${[...dist.overloaded.map((o) => `${o.node} holds ${o.count}`), ...(dist.unscheduled.length ? [`unscheduled: ${dist.unscheduled.join(", ")}`] : [])].join("; ")}`}`
      : "No cluster data.";
    $("distribution-rows").replaceChildren(...(dist ? dist.perNode : []).map((r) => {
      const tr = document.createElement("tr");
      tr.append(cell(r.node), cell(String(r.tenants.length)), cell(r.tenants.join(", ")));
      return tr;
    }));
  }

  async function refreshAdmin() {
    // Only administrators have this view; everyone else simply does not see it.
    show($("admin-section"), isAdmin);
    if (!isAdmin) return;
    adminOverview = await api("GET", "/api/admin/overview");
    renderAdmin();
  }

  async function requestOp(id, kind) {
    try {
      const result = kind === "delete" ? await api("DELETE", `/api/tenants/${id}`) : await api("POST", `/api/tenants/${id}/${kind}`);
      if (result.note) flash(result.note);
      await refreshList();
      follow(result.operation, `${kind === "delete" ? "Deleting" : kind === "suspend" ? "Suspending" : "Resuming"} ${id}`);
    } catch (err) {
      flash(err.message, "error");
    }
  }

  // ---- dialogs -------------------------------------------------------------------------
  function confirmDelete(id) {
    pendingDelete = id;
    $("confirm-name").textContent = id;
    $("confirm-name-again").textContent = id;
    $("confirm-input").value = "";
    $("confirm-ok").disabled = true;
    $("confirm-dialog").showModal();
    $("confirm-input").focus();
  }

  async function showCredentials(id) {
    try {
      const c = await api("GET", `/api/tenants/${id}/credentials`);
      $("credentials-name").textContent = id;
      $("credentials-url").href = c.url;
      $("credentials-url").textContent = c.url;
      $("credentials-login").textContent = c.login;
      $("credentials-password").textContent = c.password;
      $("credentials-dialog").showModal();
    } catch (err) {
      flash(err.message, "error");
    }
  }

  // ---- wiring --------------------------------------------------------------------------
  $("tab-signin").addEventListener("click", () => setAuthMode("signin"));
  $("tab-signup").addEventListener("click", () => setAuthMode("signup"));
  document.querySelector(".tabs").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    const next = authMode === "signin" ? "signup" : "signin";
    setAuthMode(next);
    $(next === "signin" ? "tab-signin" : "tab-signup").focus();
  });
  $("auth-form").addEventListener("submit", onAuthSubmit);
  $("sign-out").addEventListener("click", async () => {
    await sb.auth.signOut();
    await signedOut();
    flash("Signed out.");
  });
  $("tenant-id").addEventListener("input", onIdInput);
  $("create-form").addEventListener("submit", onCreate);
  $("refresh").addEventListener("click", () => refreshList().catch((err) => flash(err.message, "error")));
  $("admin-filter").addEventListener("change", renderAdmin);
  $("confirm-input").addEventListener("input", () => { $("confirm-ok").disabled = $("confirm-input").value !== pendingDelete; });
  $("confirm-cancel").addEventListener("click", () => $("confirm-dialog").close("cancel"));
  $("confirm-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("confirm-input").value !== pendingDelete) return;
    const id = pendingDelete;
    $("confirm-dialog").close("delete");
    requestOp(id, "delete");
  });
  $("credentials-close").addEventListener("click", () => $("credentials-dialog").close());
  $("credentials-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("credentials-password").textContent);
      $("credentials-copy").textContent = "Copied";
    } catch {
      $("credentials-copy").textContent = "Select and copy";
    }
  });

  (async () => {
    const { data } = await sb.auth.getSession();
    if (data.session) await signedIn(data.session);
    else await signedOut();
  })();
})();
