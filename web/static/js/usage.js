// Usage page: meters for tokens, images and videos, refreshed every 30 s and after each turn.

import { formatWhen, t } from "./i18n.js";
import { paintMeter, renderMeter, watchUsage } from "./quota.js";

export function start({ signedIn, usageApi }) {
  const meters = document.getElementById("usage-meters");
  const updated = document.getElementById("usage-updated");
  for (const element of meters.querySelectorAll(".meter")) {
    paintMeter(element, Number(element.dataset.percent));
  }
  if (!usageApi || !signedIn) return;
  watchUsage((entries, error) => {
    if (error) {
      if (error.status === 401) window.location.assign("/signin");
      return;
    }
    for (const entry of entries) {
      const element = meters.querySelector(`.meter[data-unit="${entry.unit}"]`);
      if (element) renderMeter(element, entry);
    }
    updated.textContent = t("Updated {time}", { time: formatWhen(new Date()) });
  });
}
