// The delete confirmation (the name must be typed) and the credentials dialog. Closing either
// gives focus back to the button that opened it; if a refresh removed that button, to its card.
import { $, setBreakable } from "./dom.js";

let deps = null;
let pendingDelete = null;
let opener = null;

function remember(button) {
  opener = button || document.activeElement;
}

function giveFocusBack(id) {
  const target = opener && opener.isConnected ? opener : deps.cardHeading(id) || $("list-title");
  opener = null;
  if (target) target.focus();
}

export function confirmDelete(id, button) {
  remember(button);
  pendingDelete = id;
  setBreakable($("confirm-name"), id);
  setBreakable($("confirm-name-again"), id);
  $("confirm-input").value = "";
  $("confirm-ok").disabled = true;
  $("confirm-dialog").showModal();
  $("confirm-input").focus();
}

export async function showCredentials(id, button) {
  remember(button);
  try {
    const c = await deps.api("GET", `/api/tenants/${encodeURIComponent(id)}/credentials`);
    $("credentials-dialog").dataset.tenant = id;
    setBreakable($("credentials-name"), id);
    $("credentials-url").href = c.url;
    setBreakable($("credentials-url"), c.url);
    setBreakable($("credentials-login"), c.login);
    $("credentials-password").textContent = c.password;
    $("credentials-copy").textContent = "Copy";
    $("credentials-dialog").showModal();
  } catch (err) {
    deps.onError(id, err);
  }
}

/** Closed and emptied: no name, login or password left in the page (sign-out). */
export function resetDialogs() {
  pendingDelete = null;
  opener = null;
  for (const id of ["confirm-dialog", "credentials-dialog"]) if ($(id).open) $(id).close();
  for (const id of ["confirm-name", "confirm-name-again", "credentials-name", "credentials-url", "credentials-login", "credentials-password"]) $(id).textContent = "";
  $("credentials-url").removeAttribute("href");
  delete $("credentials-dialog").dataset.tenant;
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
    opener = null; // focus goes to the progress panel instead
    $("confirm-dialog").close("delete");
    deps.onDelete(id);
  });
  // Escape, Cancel and Close all end in "close": focus goes back where the person was.
  $("confirm-dialog").addEventListener("close", () => {
    if ($("confirm-dialog").returnValue !== "delete" && opener) giveFocusBack(pendingDelete);
    $("confirm-dialog").returnValue = "";
  });
  $("credentials-dialog").addEventListener("close", () => { if (opener) giveFocusBack($("credentials-dialog").dataset.tenant); });
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
