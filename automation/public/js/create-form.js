// The "New instance" form: plans in customer words, inline name validation (the schema's
// rule locally, then /api/check-id), and the per-account limit.
import { $, clearFlash, el, show } from "./dom.js";
import { silent } from "./api.js";
import { isBusy } from "./busy.js";
import { problemFrom, problemOf, showProblem } from "./words.js";

let deps = null;
let config = null;
let idPattern = null;
let checkTimer = null;
let checkSeq = 0;
let atLimit = false;

function fieldMessage(field, message, ok) {
  const input = field === "id" ? $("tenant-id") : field === "plan" ? $("plan-options") : $("version");
  const box = $(field === "id" ? "tenant-id-error" : `${field}-error`);
  box.textContent = message || "";
  box.className = ok ? "field-error field-ok" : "field-error";
  show(box, Boolean(message));
  if (field === "id") input.setAttribute("aria-invalid", message && !ok ? "true" : "false");
}

function localIdProblem(id) {
  if (id === "") return "Choose a name for your instance.";
  if (id.length > config.idRules.maxLength) return `At most ${config.idRules.maxLength} characters.`;
  if (!idPattern.test(id)) return "Use lower-case letters, digits and \"-\", starting with a letter and ending with a letter or digit.";
  if (config.idRules.reserved.includes(id)) return `"${id}" is reserved; choose another name.`;
  const prefix = config.idRules.reservedPrefixes.find((p) => id.startsWith(p));
  if (prefix) return `Names starting with "${prefix}" are reserved.`;
  return null;
}

function planOption(plan, index) {
  const id = `plan-${plan.name}`;
  // defaultChecked too: form.reset() goes back to it.
  const input = el("input", { type: "radio", name: "plan", id, value: plan.name, checked: index === 0, defaultChecked: index === 0 });
  const label = el("label", { htmlFor: id, className: "plan-card" },
    input,
    el("span", { className: "plan-name", text: plan.displayName }),
    el("span", { className: "plan-text", text: plan.description }),
    el("span", { className: "plan-storage", text: planFacts(plan) }));
  return label;
}

/** What a plan gives, in the one storage figure the server writes everywhere ("10.7 GB"). */
export function planFacts(plan) {
  return [plan.resources, `${plan.storage} storage`, plan.backups].filter(Boolean).join(" · ");
}

export async function loadConfig() {
  if (config) return;
  const data = await deps.publicConfig();
  config = data;
  idPattern = new RegExp(data.idRules.pattern);
  $("host-suffix").textContent = `.${data.baseDomain}`;
  $("tenant-id").maxLength = data.idRules.maxLength;
  $("tenant-id-hint").textContent = `Your address will be your-name.${data.baseDomain}: ${data.idRules.description}.`;
  $("plan-options").replaceChildren(...data.plans.map(planOption));
  $("version").replaceChildren(...data.odooVersions.slice().reverse().map((v) =>
    el("option", { value: v, text: v === data.defaultOdooVersion ? `${v} (newest)` : v })));
  $("version").value = data.defaultOdooVersion;
}

/** Past the limit, the form says so and asks nothing else (no "available" next to it). */
export function setLimit(limit) {
  atLimit = Boolean(limit) && limit.used >= limit.max;
  const note = $("limit-note");
  note.textContent = atLimit ? `You have ${limit.used} instance${limit.used === 1 ? "" : "s"}, the most one account can have. Delete one to create another.` : "";
  show(note, atLimit);
  show($("create-form"), !atLimit);
  if (atLimit) fieldMessage("id", "");
}

/** Everything back to an empty form, limit note included (sign-out). */
export function resetCreateForm() {
  clearFields();
  setLimit(null);
}

function clearFields() {
  clearTimeout(checkTimer);
  checkSeq++;
  $("create-form").reset();
  fieldMessage("id", "");
  fieldMessage("plan", "");
  fieldMessage("version", "");
  show($("create-error"), false);
  if (config) $("version").value = config.defaultOdooVersion;
}

function onIdInput() {
  const id = $("tenant-id").value;
  clearTimeout(checkTimer);
  const seq = ++checkSeq;
  if (!config || atLimit) return;
  const problem = localIdProblem(id);
  if (problem) return fieldMessage("id", id === "" ? "" : problem);
  fieldMessage("id", "");
  checkTimer = setTimeout(async () => {
    try {
      const result = await deps.api("GET", `/api/check-id?id=${encodeURIComponent(id)}`);
      if (seq !== checkSeq) return;
      if (result.available) fieldMessage("id", `${id}.${config.baseDomain} is available.`, true);
      else fieldMessage("id", problemOf("id_taken", result.problem).text);
    } catch {
      // The server checks again on submit.
    }
  }, 300);
}

/** POST /api/tenants; also "Try again" for a failed create (same name, plan and version). */
export async function createInstance(body) {
  const result = await deps.api("POST", "/api/tenants", body);
  await deps.onCreated(result);
  return result;
}

async function onCreate(event) {
  event.preventDefault();
  // One create at a time: a second Enter or click while it is sent does nothing.
  if (isBusy($("create-submit"))) return;
  clearFlash();
  show($("create-error"), false);
  const id = $("tenant-id").value;
  const problem = config ? localIdProblem(id) : null;
  if (problem) {
    fieldMessage("id", problem);
    $("tenant-id").focus();
    return;
  }
  const chosen = document.querySelector('input[name="plan"]:checked');
  if (!chosen) {
    fieldMessage("plan", "Choose a plan.");
    document.querySelector('input[name="plan"]').focus();
    return;
  }
  fieldMessage("plan", "");
  const body = { id, plan: chosen.value };
  if ($("version").value) body.odooVersion = $("version").value;
  $("create-submit").setAttribute("aria-disabled", "true");
  try {
    const result = await deps.api("POST", "/api/tenants", body);
    clearFields();
    await deps.onCreated(result);
  } catch (err) {
    const field = err.field === "odooVersion" ? "version" : err.field;
    if (silent(err)) return;
    if (field === "id" || field === "plan" || field === "version") {
      fieldMessage(field, problemFrom(err).text);
      (field === "id" ? $("tenant-id") : field === "plan" ? document.querySelector('input[name="plan"]') : $("version")).focus();
    } else {
      showProblem($("create-error"), problemFrom(err));
    }
  } finally {
    $("create-submit").removeAttribute("aria-disabled");
  }
}

export function initCreateForm(options) {
  deps = options;
  $("tenant-id").addEventListener("input", onIdInput);
  $("create-form").addEventListener("submit", onCreate);
}
