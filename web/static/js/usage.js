// Usage page: meters for tokens, images and videos, refreshed every 30 s and after each turn.

import { formatWhen, t } from "./i18n.js";
import { renderMeter, watchUsage } from "./quota.js";

function askToSignIn(meters) {
  meters.hidden = true;
  document.getElementById("usage-signin").hidden = false;
}

export function start({ signedIn, usageApi }) {
  const meters = document.getElementById("usage-meters");
  const updated = document.getElementById("usage-updated");
  if (!usageApi) return;
  if (!signedIn) {
    askToSignIn(meters);
    return;
  }
  watchUsage((entries, error) => {
    if (error) {
      if (error.status === 401) askToSignIn(meters);
      return;
    }
    for (const entry of entries) {
      const element = meters.querySelector(`.meter[data-unit="${entry.unit}"]`);
      if (element) renderMeter(element, entry);
    }
    updated.textContent = t("Updated {time}", { time: formatWhen(new Date()) });
  });
}
