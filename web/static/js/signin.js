// Sign-in: email -> POST /v1/auth/magic-link -> "check your email" (with the dev mailbox link in dev).

import { api } from "./api.js";
import { ENDPOINTS } from "./endpoints.js";
import { t } from "./i18n.js";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function start() {
  const form = document.getElementById("signin-form");
  const input = document.getElementById("signin-email");
  const error = document.getElementById("signin-error");
  const stepEmail = document.getElementById("signin-step-email");
  const stepSent = document.getElementById("signin-step-sent");
  const showError = (message) => {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = input.value.trim();
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    if (!EMAIL.test(email)) {
      showError(t("Enter a valid email address."));
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const next = form.dataset.next || undefined; // where the person was going (same-origin path)
      await api(ENDPOINTS.magicLink, { method: "POST", body: { email, next } });
      document.getElementById("signin-sent-email").textContent = email;
      stepEmail.hidden = true;
      stepSent.hidden = false;
      document.getElementById("signin-sent-title").focus();
    } catch (failure) {
      if (failure.status === 422) showError(t("Enter a valid email address."));
      else if (failure.status === 429) showError(failure.message || t("Too many requests. Try again in a moment."));
      else showError(failure.message || t("Something went wrong on our side. Please try again."));
    } finally {
      button.disabled = false;
    }
  });

  document.getElementById("signin-again").addEventListener("click", () => {
    stepSent.hidden = true;
    stepEmail.hidden = false;
    input.focus();
  });
}
