// Small DOM helpers. Everything shown goes in through textContent (never innerHTML).

export const $ = (id) => document.getElementById(id);

export function show(el, visible) {
  el.hidden = !visible;
}

/** el("li", { className: "ok", text: "Done" }, child1, child2) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("aria-") || key === "role") node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

export function button(label, onClick, { className = "secondary", name } = {}) {
  const b = el("button", { type: "button", className: `button small ${className}`, text: label, "aria-label": name });
  b.addEventListener("click", onClick);
  return b;
}

/** Long values (addresses, e-mails) may wrap after "@", "." "/" or "-", never inside a word. */
export function setBreakable(node, text) {
  const parts = String(text || "").split(/(?<=[@./-])/);
  node.replaceChildren(...parts.flatMap((part, i) => (i === 0 ? [part] : [document.createElement("wbr"), part])));
}

/** One banner at a time; it goes away on the next action (clearFlash). */
export function flash(message, kind) {
  const box = $("flash");
  box.textContent = message || "";
  box.className = `flash${kind === "error" ? " error" : ""}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  show(box, Boolean(message));
}

export function clearFlash() {
  flash("");
}
