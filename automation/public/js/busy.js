// One request per button at a time. The button stays focusable and in place while its request
// runs (aria-disabled, not disabled: a disabled button drops focus), and a second click is
// ignored instead of sending a second request.

export function isBusy(button) {
  return button.getAttribute("aria-disabled") === "true";
}

/** Runs task() unless button is already busy; the button says so meanwhile. */
export async function whileBusy(button, task) {
  if (isBusy(button)) return undefined;
  button.setAttribute("aria-disabled", "true");
  button.setAttribute("aria-busy", "true");
  try {
    return await task();
  } finally {
    button.removeAttribute("aria-busy");
    if (button.dataset.blocked !== "true") button.removeAttribute("aria-disabled");
  }
}

/**
 * Keeps a button visible and in place but unusable, with the reason next to it
 * (reasonNode, referenced by aria-describedby); text "" makes it usable again.
 */
export function blockButton(button, reasonNode, text) {
  const blocked = Boolean(text);
  button.dataset.blocked = String(blocked);
  if (blocked) button.setAttribute("aria-disabled", "true");
  else if (button.getAttribute("aria-busy") !== "true") button.removeAttribute("aria-disabled");
  reasonNode.textContent = text || "";
  reasonNode.hidden = !blocked;
  if (reasonNode.id) button.setAttribute("aria-describedby", reasonNode.id);
}
