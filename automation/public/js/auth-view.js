// Sign in, create an account, or ask for a password reset, all through supabase-js.
import { $, clearFlash, flash, show } from "./dom.js";

let mode = "signin";

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
}

function problem(message, field) {
  const error = $("auth-error");
  error.textContent = message;
  show(error, true);
  if (field) field.focus();
}

/** Back to a fresh "Sign in" form: what a returning user (or the next person) expects. */
export function resetAuthView() {
  $("auth-form").reset();
  setMode("signin");
}

export function initAuth(sb, onSignedIn) {
  $("tab-signin").addEventListener("click", () => { clearFlash(); setMode("signin"); });
  $("tab-signup").addEventListener("click", () => { clearFlash(); setMode("signup"); });
  document.querySelector(".tabs").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    const next = mode === "signup" ? "signin" : "signup";
    setMode(next);
    $(next === "signin" ? "tab-signin" : "tab-signup").focus();
  });
  $("forgot").addEventListener("click", () => { clearFlash(); setMode("reset"); $("email").focus(); });
  $("reset-back").addEventListener("click", () => { setMode("signin"); $("email").focus(); });
  // An old banner goes as soon as the person starts something new.
  $("email").addEventListener("input", () => { show($("auth-error"), false); clearFlash(); });

  $("auth-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFlash();
    show($("auth-error"), false);
    const email = $("email").value.trim();
    const password = $("password").value;
    if (!email || !$("email").checkValidity()) return problem("Enter a valid e-mail address.", $("email"));
    if (mode !== "reset" && password.length < 6) return problem("The password needs at least 6 characters.", $("password"));
    $("auth-submit").disabled = true;
    try {
      if (mode === "reset") {
        const { error } = await sb.auth.resetPasswordForEmail(email, { redirectTo: window.location.origin });
        if (error) return problem(error.message);
        setMode("signin");
        flash(`If ${email} has an account, an e-mail with a reset link is on its way.`);
        return;
      }
      const result = mode === "signin"
        ? await sb.auth.signInWithPassword({ email, password })
        : await sb.auth.signUp({ email, password });
      if (result.error) return problem(result.error.message);
      if (!result.data.session) {
        setMode("signin");
        flash("Check your e-mail to confirm your account, then sign in.");
        return;
      }
      await onSignedIn(result.data.session);
    } catch (err) {
      problem(`Sign-in is unavailable right now (${err.message}).`);
    } finally {
      $("auth-submit").disabled = false;
    }
  });
}
