// The login page: asks /api/session for a CSRF token, posts the form as JSON.
"use strict";

const form = document.getElementById("login");
const errorText = document.getElementById("error");
let csrf = "";

function showError(text) {
  errorText.textContent = text;
  errorText.hidden = !text;
}

async function session() {
  const r = await fetch("/api/session", { credentials: "same-origin", cache: "no-store" });
  const s = await r.json();
  if (s.user || !s.login_required) {
    location.replace("/");
    return;
  }
  csrf = s.csrf;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const button = document.getElementById("submit");
  button.disabled = true;
  try {
    if (!csrf)
      await session();
    const r = await fetch("/api/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ user: form.user.value, password: form.password.value }),
    });
    if (r.ok) {
      location.replace("/");
      return;
    }
    if (r.status === 429)
      showError("Too many failed logins. Wait " + (r.headers.get("Retry-After") || "a few") + " seconds and try again.");
    else if (r.status === 401)
      showError("Wrong user name or password.");
    else
      showError("The scan service refused the login (" + r.status + ").");
    if (r.status === 403)
      csrf = "";
  } catch (e) {
    showError("The scan service does not answer.");
  } finally {
    button.disabled = false;
  }
});

session().catch(() => showError("The scan service does not answer."));
