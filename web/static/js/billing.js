// Billing: a plan or add-on → POST /v1/payments/checkout → HyperPay's widget on /billing/pay.

import { api } from "./api.js";
import { t } from "./i18n.js";

export function start() {
  const error = document.getElementById("billing-error");
  for (const button of document.querySelectorAll("button[data-item]")) {
    button.addEventListener("click", async () => {
      error.hidden = true;
      button.disabled = true;
      try {
        const body = await api("/v1/payments/checkout", { method: "POST", body: { item: button.dataset.item } });
        const query = new URLSearchParams({
          checkout: body.checkout_id,
          payment: body.payment_id,
          brands: body.widget.brands,
        });
        window.location.assign(`/billing/pay?${query}`);
      } catch (failure) {
        error.textContent = failure.message || t("Something went wrong on our side. Please try again.");
        error.hidden = false;
        button.disabled = false;
      }
    });
  }
}
