// The signup page's entry point: wires the modules and owns the session. Signing out (or a
// session that ends) clears every piece of client state: streams, timers, DOM and storage,
// so the next person on this browser sees nothing of the last one.
import { createApi } from "./api.js";
import { initAdmin, refreshAdmin, resetAdmin, setAdmin } from "./admin-view.js";
import { initAuth, resetAuthView } from "./auth-view.js";
import { initBackups, openBackups, resetBackups } from "./backups.js";
import { createInstance, initCreateForm, loadConfig, resetCreateForm, setLimit } from "./create-form.js";
import { confirmDelete, initDialogs, resetDialogs, showCredentials } from "./dialogs.js";
import { $, clearFlash, flash, show } from "./dom.js";
import { follow, initProgress, resetProgress } from "./progress.js";
import { followed, initList, operationTitle, refreshList, requestOp, resetList } from "./tenant-list.js";

const config = window.ODOO_SAAS_CONFIG;
const sb = window.supabase.createClient(config.supabaseUrl, config.supabaseAnonKey, {
  auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: false },
});
const { api, accessToken, publicConfig, endSession } = createApi(sb, () => signOut("Your session has ended; sign in again."));

let refreshTimer = null;
let planNames = new Map();

async function refreshAll() {
  await refreshList();
  await refreshAdmin();
}

async function onCreated(result) {
  await refreshAll().catch(() => undefined);
  const body = { id: result.tenant.id, plan: result.tenant.plan, odooVersion: result.tenant.odooVersion };
  follow(followed(result.tenant, result.operation, body), operationTitle("create", result.tenant.id));
}

async function retry(body) {
  clearFlash();
  try {
    await createInstance(body);
  } catch (err) {
    flash(err.message, "error");
  }
}

async function signedIn(session) {
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
    await refreshAll();
  } catch (err) {
    if (err.status !== 401) flash("The service is not available right now; please try again in a moment.", "error");
  }
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => { refreshAll().catch(() => undefined); }, 10000);
  $("main").focus();
}

/** Everything the last person saw or typed goes: streams, timers, DOM, storage. */
async function signOut(message) {
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
  if (message) flash(message, "error");
  else clearFlash();
}

initAuth(sb, signedIn);
initCreateForm({ api, publicConfig, onCreated });
initProgress({ api, accessToken, retry, onStatusChange: () => refreshAll().catch(() => undefined) });
initList({
  api, follow, confirmDelete, showCredentials, openBackups, retry, onLimit: setLimit,
  planName: (key) => planNames.get(key) || key,
});
initAdmin({ api });
initBackups({ api, accessToken });
initDialogs({ api, onDelete: (id) => requestOp(id, "delete") });

$("sign-out").addEventListener("click", async () => {
  await signOut();
  flash("You are signed out.");
});
$("refresh").addEventListener("click", () => { clearFlash(); refreshAll().catch((err) => flash(err.message, "error")); });

(async () => {
  const { data } = await sb.auth.getSession();
  if (data.session) await signedIn(data.session);
  else await signOut();
})();
