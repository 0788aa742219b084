// The delete confirmation (the name must be typed) and the credentials dialog.
import { $, flash, setBreakable } from "./dom.js";
import { sentence } from "./api.js";

let deps = null;
let pendingDelete = null;

export function confirmDelete(id) {
  pendingDelete = id;
  setBreakable($("confirm-name"), id);
  setBreakable($("confirm-name-again"), id);
  $("confirm-input").value = "";
  $("confirm-ok").disabled = true;
  $("confirm-dialog").showModal();
  $("confirm-input").focus();
}

export async function showCredentials(id) {
  try {
    const c = await deps.api("GET", `/api/tenants/${encodeURIComponent(id)}/credentials`);
    setBreakable($("credentials-name"), id);
    $("credentials-url").href = c.url;
    setBreakable($("credentials-url"), c.url);
    setBreakable($("credentials-login"), c.login);
    $("credentials-password").textContent = c.password;
    $("credentials-copy").textContent = "Copy";
    $("credentials-dialog").showModal();
  } catch (err) {
    flash(sentence(err.message), "error");
  }
}

/** Closed and emptied: no name, login or password left in the page (sign-out). */
export function resetDialogs() {
  pendingDelete = null;
  for (const id of ["confirm-dialog", "credentials-dialog"]) if ($(id).open) $(id).close();
  for (const id of ["confirm-name", "confirm-name-again", "credentials-name", "credentials-url", "credentials-login", "credentials-password"]) $(id).textContent = "";
  $("credentials-url").removeAttribute("href");
  $("confirm-input").value = "";
}

export function initDialogs(options) {
  deps = options;
  $("confirm-input").addEventListener("input", () => { $("confirm-ok").disabled = $("confirm-input").value !== pendingDelete; });
  $("confirm-cancel").addEventListener("click", () => $("confirm-dialog").close("cancel"));
  $("confirm-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("confirm-input").value !== pendingDelete) return;
    const id = pendingDelete;
    $("confirm-dialog").close("delete");
    deps.onDelete(id);
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
}
