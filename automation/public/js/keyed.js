// Lists updated in place: nodes are kept by key and only their text changes, so the control
// that has focus (or a screen reader's place) survives a refresh. Rebuilding a list would
// drop focus to <body> every time the page re-reads it.

/**
 * Makes container's children match items, in order. create(item) builds a node once per
 * key; update(node, item) refreshes it. Nodes of keys no longer present are removed.
 */
export function syncKeyed(container, items, keyOf, create, update) {
  const focused = document.activeElement;
  const existing = new Map([...container.children].map((n) => [n.dataset.key, n]));
  const wanted = items.map((item) => {
    const key = String(keyOf(item));
    let node = existing.get(key);
    if (!node) {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item);
    return node;
  });
  const keep = new Set(wanted);
  for (const node of existing.values()) if (!keep.has(node)) node.remove();
  wanted.forEach((node, i) => {
    if (container.children[i] !== node) container.insertBefore(node, container.children[i] || null);
  });
  // A moved node loses focus in Chromium; give it back.
  if (focused && focused !== document.activeElement && focused.isConnected) focused.focus({ preventScroll: true });
}

/** Sets a text only when it changed (no needless announcements or layout work). */
export function setText(node, text) {
  const value = text || "";
  if (node.textContent !== value) node.textContent = value;
}
