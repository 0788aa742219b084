// Views in the URL's hash, so the browser's Back button returns to the previous view:
//   #/signin  #/signup  #/reset            (signed out)
//   #/instances  #/backups/<instance>      (signed in)
// A password-recovery link's hash (#access_token=…&type=recovery) is not a route: auth-view.js
// reads it once and removes it from the address bar.

let handler = null;

/** The current route: { view, id? }; "" when the hash names no view. */
export function currentRoute() {
  const hash = window.location.hash;
  const m = /^#\/([a-z]+)(?:\/([a-z0-9-]+))?$/.exec(hash);
  if (!m) return { view: "" };
  return m[2] ? { view: m[1], id: m[2] } : { view: m[1] };
}

export function routeHash(view, id) {
  return id ? `#/${view}/${id}` : `#/${view}`;
}

/** A new history entry (Back returns here), unless the route is already shown. */
export function go(view, id) {
  const hash = routeHash(view, id);
  if (window.location.hash === hash) handler && handler(currentRoute());
  else window.location.hash = hash;
}

/** The same view without a new history entry (sign-in, sign-out, a route that is not allowed). */
export function replace(view, id) {
  window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}${routeHash(view, id)}`);
}

/** Recovery hash parameters, or null when the hash is not a recovery link. */
export function recoveryParams() {
  const hash = window.location.hash.replace(/^#/, "");
  if (!hash.includes("type=recovery") && !hash.includes("error_code=")) return null;
  const params = new URLSearchParams(hash);
  return params.get("type") === "recovery" || params.get("error_code") ? params : null;
}

export function initRouter(onRoute) {
  handler = onRoute;
  window.addEventListener("hashchange", () => handler(currentRoute()));
}
