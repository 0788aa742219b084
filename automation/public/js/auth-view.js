// Sign in, create an account, ask for a password reset, and choose a new password after a
// recovery link, all through supabase-js. The auth service's errors reach the person in
// customer words (words.js). Each mode is a route (#/signin, #/signup, #/reset, #/password).
import { $, clearFlash, flash, show } from "./dom.js";
import { go, replace } from "./router.js";
import { authWords } from "./words.js";

let mode = "signin";
let sb = null;
let onSignedIn = null;

export const AUTH_VIEWS = ["signin", "signup", "reset"];

function setMode(next) {
  mode = next;
  const signin = next !== "signup";
  $("tab-signin").setAttribute("aria-selected", String(signin));
  $("tab-signup").setAttribute("aria-selected", String(!signin));
  $("tab-signin").tabIndex = signin ? 0 : -1;
  $("tab-signup").tabIndex = signin ? -1 : 0;
  $("auth-form").setAttribute("aria-labelledby", signin ? "tab-signin" : "tab-signup");
  const reset = next === "reset";
  show($("reset-title"), reset);
  show($("reset-hint"), reset);
  show($("password-field"), !reset);
  show($("forgot"), next === "signin");
  show($("reset-back"), reset);
  $("auth-submit").textContent = reset ? "Send reset link" : signin ? "Sign in" : "Create account";
  $("password").autocomplete = next === "signup" ? "new-password" : "current-password";
  show($("auth-error"), false);
  show($("recovery-form"), false);
  show($("auth-card"), true);
}

/** The mode at once (tests and people read it right away) and as a route (Back returns). */
function to(view) {
  setMode(view);
  go(view);
}

function problem(box, message, field) {
  box.textContent = message;
  show(box, true);
  if (field) field.focus();
}

/** Shows one of the signed-out views (the route decides). */
export function showAuthView(view) {
  setMode(AUTH_VIEWS.includes(view) ? view : "signin");
}

/** Back to a fresh "Sign in" form: what a returning user (or the next person) expects. */
export function resetAuthView() {
  $("auth-form").reset();
  $("recovery-form").reset();
  $("recovery-email").textContent = "";
  setMode("signin");
}

/**
 * A recovery link (#access_token=…&refresh_token=…&type=recovery): its session is set
 * through supabase-js, the tokens leave the address bar, and "Choose a new password" shows.
 */
export async function startRecovery(params) {
  clearFlash();
  replace("password");
  const accessToken = params.get("access_token");
  const refreshToken = params.get("refresh_token");
  const { data, error } = accessToken && refreshToken
    ? await sb.auth.setSession({ access_token: accessToken, refresh_token: refreshToken })
    : { data: null, error: { code: params.get("error_code") || "bad_jwt" } };
  if (error || !data || !data.session) {
    replace("reset");
    setMode("reset");
    flash(`${authWords({ code: "bad_jwt" })}`, "error");
    $("email").focus();
    return;
  }
  show($("auth-card"), false);
  show($("recovery-form"), true);
  $("recovery-email").textContent = data.session.user ? data.session.user.email : "";
  $("new-password").focus();
}

async function saveNewPassword(event) {
  event.preventDefault();
  clearFlash();
  const box = $("recovery-error");
  show(box, false);
  const password = $("new-password").value;
  if (password.length < 6) return problem(box, "The password needs at least 6 characters.", $("new-password"));
  $("recovery-submit").disabled = true;
  try {
    const { error } = await sb.auth.updateUser({ password });
    if (error) return problem(box, authWords(error), $("new-password"));
    const { data } = await sb.auth.getSession();
    $("recovery-form").reset();
    replace("instances");
    await onSignedIn(data.session);
    flash("Your new password is saved.");
  } catch {
    problem(box, authWords(null));
  } finally {
    $("recovery-submit").disabled = false;
  }
}

async function submit(event) {
  event.preventDefault();
  clearFlash();
  const box = $("auth-error");
  show(box, false);
  const email = $("email").value.trim();
  const password = $("password").value;
  if (!email || !$("email").checkValidity()) return problem(box, "Enter a valid e-mail address.", $("email"));
  if (mode !== "reset" && password.length < 6) return problem(box, "The password needs at least 6 characters.", $("password"));
  $("auth-submit").disabled = true;
  try {
    if (mode === "reset") {
      const { error } = await sb.auth.resetPasswordForEmail(email, { redirectTo: `${window.location.origin}/` });
      if (error) return problem(box, authWords(error));
      to("signin");
      flash(`If ${email} has an account, an e-mail with a reset link is on its way.`);
      return;
    }
    const result = mode === "signin"
      ? await sb.auth.signInWithPassword({ email, password })
      : await sb.auth.signUp({ email, password });
    if (result.error) return problem(box, authWords(result.error), mode === "signin" ? $("password") : $("email"));
    if (!result.data.session) {
      to("signin");
      flash("Check your e-mail to confirm your account, then sign in.");
      return;
    }
    await onSignedIn(result.data.session);
  } catch {
    problem(box, authWords(null));
  } finally {
    $("auth-submit").disabled = false;
  }
}

export function initAuth(client, signedIn) {
  sb = client;
  onSignedIn = signedIn;
  $("tab-signin").addEventListener("click", () => { clearFlash(); to("signin"); });
  $("tab-signup").addEventListener("click", () => { clearFlash(); to("signup"); });
  document.querySelector(".tabs").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    const next = mode === "signup" ? "signin" : "signup";
    to(next);
    $(next === "signin" ? "tab-signin" : "tab-signup").focus();
  });
  $("forgot").addEventListener("click", () => { clearFlash(); to("reset"); $("email").focus(); });
  $("reset-back").addEventListener("click", () => { to("signin"); $("email").focus(); });
  // An old banner goes as soon as the person starts something new.
  $("email").addEventListener("input", () => { show($("auth-error"), false); clearFlash(); });
  $("auth-form").addEventListener("submit", submit);
  $("recovery-form").addEventListener("submit", saveNewPassword);
}
