// Billing page: start a checkout (then the card form), cancel at period end, and keep a
// pending payment's banner up to date.

import { api } from "./api.js";

export function start() {
  const error = document.getElementById("checkout-error");
  for (const button of document.querySelectorAll("[data-checkout]")) {
    const idempotencyKey = crypto.randomUUID(); // one intent per page load and item
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const started = await api("/v1/payments/checkout", {
          method: "POST",
          body: { item: button.dataset.checkout },
          idempotencyKey,
        });
        window.location.assign(`/billing/pay/${encodeURIComponent(started.payment_id)}`);
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        button.disabled = false;
      }
    });
  }
  // "Choose Pro" on the landing page → sign-in → here with ?item=plan:pro: open that checkout
  const wanted = new URLSearchParams(window.location.search).get("item");
  const chosen = wanted && [...document.querySelectorAll("[data-checkout]")].find((b) => b.dataset.checkout === wanted);
  if (chosen && !chosen.disabled) chosen.click();
  for (const button of document.querySelectorAll("[data-change-plan]")) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api("/v1/subscription/change", {
          method: "POST",
          body: { plan: button.dataset.changePlan },
          idempotencyKey: crypto.randomUUID(),
        });
        window.location.reload();
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        button.disabled = false;
      }
    });
  }
  const cancel = document.getElementById("cancel-subscription");
  cancel?.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      await api("/v1/subscription/cancel", { method: "POST" });
      window.location.reload();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      cancel.disabled = false;
    }
  });
  const result = document.getElementById("payment-result");
  if (result && ["pending", "created"].includes(result.dataset.status)) {
    setTimeout(() => window.location.reload(), 3000);
  }
}
