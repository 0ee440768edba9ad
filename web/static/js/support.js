// Support console: retry a failed renewal on the user's saved card.

import { api } from "./api.js";
import { t } from "./i18n.js";

export function start() {
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
