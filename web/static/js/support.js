// Support console: retry a failed renewal on the user's saved card, or a refund HyperPay refused.

import { api } from "./api.js";
import { t } from "./i18n.js";

export function start() {
  startRefundRetries();
  const status = document.getElementById("retry-result");
  for (const button of document.querySelectorAll("[data-retry]")) {
    let idempotencyKey = crypto.randomUUID(); // a new key only after an answer
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const outcome = await api(`/v1/admin/payments/${encodeURIComponent(button.dataset.retry)}/retry`, {
          method: "POST",
          body: { reason: "support console" },
          idempotencyKey,
        });
        idempotencyKey = crypto.randomUUID();
        status.textContent = outcome.status === "succeeded" ? t("Paid") : t("Failed");
        if (outcome.status === "succeeded") button.closest("li").remove();
        else button.disabled = false;
      } catch (failure) {
        status.textContent = failure.message;
        button.disabled = false;
      }
    });
  }
}

// One Idempotency-Key per click until it is answered: a double click (or a resend) refunds once.
function startRefundRetries() {
  const status = document.getElementById("refund-result");
  for (const button of document.querySelectorAll("[data-refund-retry]")) {
    let idempotencyKey = crypto.randomUUID();
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const outcome = await api(`/v1/admin/refunds/${encodeURIComponent(button.dataset.refundRetry)}/retry`, {
          method: "POST",
          body: { reason: "support console" },
          idempotencyKey,
        });
        idempotencyKey = crypto.randomUUID();
        if (outcome.status === "refunded") {
          status.textContent = t("Refunded");
          button.closest("li").remove();
        } else {
          status.textContent = t("HyperPay refused the refund again ({code}).", { code: outcome.result_code });
          button.disabled = false;
        }
      } catch (failure) {
        status.textContent = failure.message;
        button.disabled = false;
      }
    });
  }
}
