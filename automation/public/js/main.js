// The signup page's entry point: wires the modules, owns the session and the routes. Signing
// out (or a session that ends) clears every piece of client state: streams, timers, DOM and
// storage, so the next person on this browser sees nothing of the last one.
import { createApi, silent } from "./api.js";
import { initAdmin, refreshAdmin, resetAdmin, setAdmin } from "./admin-view.js";
import { AUTH_VIEWS, initAuth, resetAuthView, showAuthView, startRecovery } from "./auth-view.js";
import { backupsShown, initBackups, openBackups, resetBackups } from "./backups.js";
import { createInstance, initCreateForm, loadConfig, resetCreateForm, setLimit } from "./create-form.js";
import { confirmDelete, initDialogs, resetDialogs, showCredentials } from "./dialogs.js";
import { $, clearFlash, flash, show } from "./dom.js";
import { follow, initProgress, resetProgress } from "./progress.js";
import { currentRoute, go, initRouter, recoveryParams, replace } from "./router.js";
import { cardHeading, followed, initList, operationTitle, refreshList, requestOp, resetList, showCardError } from "./tenant-list.js";
import { problemFrom, SESSION_ENDED, showProblem } from "./words.js";

const config = window.ODOO_SAAS_CONFIG;
// A session kept from an earlier visit: if it cannot be renewed, the person is told, not just signed out.
const hadSession = Object.keys(window.localStorage).some((k) => /^sb-.*-auth-token$/.test(k));
const sb = window.supabase.createClient(config.supabaseUrl, config.supabaseAnonKey, {
  auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: false },
});
const { api, accessToken, publicConfig, endSession } = createApi(sb, () => signOut(SESSION_ENDED));

let refreshTimer = null;
let planNames = new Map();
let signedInNow = false;
let signingOut = false;

async function refreshAll() {
  await refreshList();
  await refreshAdmin();
}

async function onCreated(result) {
  const body = { id: result.tenant.id, plan: result.tenant.plan, odooVersion: result.tenant.odooVersion };
  // The new card first, then the panel below the list is scrolled to: nothing moves it after.
  await refreshAll().catch(() => undefined);
  follow(followed(result.tenant, result.operation, body), operationTitle("create", result.tenant.id), { focus: true });
}

async function retry(body) {
  clearFlash();
  try {
    await createInstance(body);
  } catch (err) {
    if (!silent(err)) showCardError(body.id, err);
  }
}

/** A create (or any operation) still running when the page was loaded: its panel shows again. */
function followRunning(tenants) {
  const running = tenants
    .filter((t) => t.lastOperation && (t.lastOperation.status === "queued" || t.lastOperation.status === "running"))
    .sort((a, b) => String(b.lastOperation.createdAt).localeCompare(String(a.lastOperation.createdAt)))[0];
  if (!running) return;
  const op = running.lastOperation;
  const body = op.kind === "create" ? { id: running.id, plan: running.plan, odooVersion: running.odooVersion } : undefined;
  follow(followed(running, op, body), operationTitle(op.kind, running.id));
}

/** The signed-in views: #/instances, #/backups/<id>. */
function showAppRoute(route) {
  if (route.view === "backups" && route.id) {
    if (backupsShown() !== route.id) openBackups(route.id);
    return;
  }
  const shown = backupsShown();
  if (shown) {
    resetBackups();
    // Back from Backups: the person continues at the button that opened them.
    const opener = document.querySelector(`#tenant-list button[aria-label="Backups of ${CSS.escape(shown)}"]`);
    if (opener) opener.focus();
  }
  if (route.view !== "instances") replace("instances");
}

async function onRoute(route) {
  // A recovery link opened in a tab that shows the page already (only the hash changed).
  const recovery = recoveryParams();
  if (recovery) {
    if (signedInNow) await signOut();
    await startRecovery(recovery);
    return;
  }
  if (!signedInNow) {
    if (!AUTH_VIEWS.includes(route.view) && route.view !== "password") replace("signin");
    if (route.view !== "password") showAuthView(currentRoute().view);
    return;
  }
  if (AUTH_VIEWS.includes(route.view) || route.view === "password" || route.view === "") replace("instances");
  showAppRoute(currentRoute());
}

async function signedIn(session) {
  signedInNow = true;
  clearFlash();
  $("who").textContent = session.user && session.user.email ? session.user.email : "";
  show($("account"), true);
  show($("auth-section"), false);
  show($("app-section"), true);
  resetAuthView();
  try {
    await loadConfig();
    planNames = new Map((await publicConfig()).plans.map((p) => [p.name, p.displayName]));
    setAdmin((await api("GET", "/api/me")).isAdmin === true);
    followRunning(await refreshList());
    await refreshAdmin();
  } catch (err) {
    if (!silent(err)) flash("The service is not available right now; please try again in a moment.", "error");
  }
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => { refreshAll().catch(() => undefined); }, 10000);
  onRoute(currentRoute());
  if (currentRoute().view !== "backups") $("main").focus();
}

/** Everything the last person saw or typed goes: streams, timers, DOM, storage. */
async function signOut(message) {
  signingOut = true;
  signedInNow = false;
  endSession();
  clearInterval(refreshTimer);
  refreshTimer = null;
  resetProgress();
  resetDialogs();
  resetList();
  resetBackups();
  resetAdmin();
  resetCreateForm();
  resetAuthView();
  $("who").textContent = "";
  try {
    await sb.auth.signOut({ scope: "local" });
  } catch {
    // The local session is dropped below in any case.
  }
  window.localStorage.clear();
  window.sessionStorage.clear();
  show($("account"), false);
  show($("app-section"), false);
  show($("auth-section"), true);
  replace("signin");
  signingOut = false;
  if (message) flash(message, "error");
  else clearFlash();
}

initRouter(onRoute);
initAuth(sb, signedIn);
initCreateForm({ api, publicConfig, onCreated });
initProgress({ api, accessToken, retry, onStatusChange: () => refreshAll().catch(() => undefined) });
initList({
  api, follow, confirmDelete, showCredentials, retry, onLimit: setLimit,
  openBackups: (id) => go("backups", id),
  planName: (key) => planNames.get(key) || key,
});
initAdmin({ api });
initBackups({ api, accessToken, onClose: () => go("instances") });
initDialogs({ api, cardHeading, onError: showCardError, onDelete: (id) => requestOp(id, "delete") });

// supabase-js signs out by itself when the session cannot be renewed (a dead refresh token): say so.
sb.auth.onAuthStateChange((event) => {
  if (event === "SIGNED_OUT" && signedInNow && !signingOut) setTimeout(() => signOut(SESSION_ENDED), 0);
});

$("sign-out").addEventListener("click", async () => {
  await signOut();
  flash("You are signed out.");
});
$("refresh").addEventListener("click", () => {
  clearFlash();
  refreshAll().catch((err) => {
    if (silent(err)) return;
    showProblem($("flash"), problemFrom(err));
    $("flash").className = "flash error";
  });
});

// A deployment that cannot serve real Odoo says so on every view, signed in or not.
publicConfig().then((c) => show($("demo-notice"), c.demo === true)).catch(() => undefined);

(async () => {
  const initial = currentRoute();
  const recovery = recoveryParams();
  if (recovery) {
    await startRecovery(recovery);
    return;
  }
  const { data } = await sb.auth.getSession();
  if (data.session) await signedIn(data.session);
  else {
    await signOut(hadSession ? SESSION_ENDED : undefined);
    // A bookmarked #/signup or #/reset opens on that view.
    if (AUTH_VIEWS.includes(initial.view)) replace(initial.view);
    onRoute(currentRoute());
  }
})();
