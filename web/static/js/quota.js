// The quota meters (usage page, chat) and the upgrade banner shown across the app at >= 80 %.
// GET /v1/usage/me answers per unit: granted, used, reserved, remaining, percent, warning, exceeded.

import { api } from "./api.js";
import { ENDPOINTS } from "./endpoints.js";
import { formatNumber, locale, t, unitName } from "./i18n.js";

export const REFRESH_MS = 30_000;

/** [{unit, granted, used, reserved, remaining, percent, warning, exceeded}] from any of the shapes
 * {units: {tokens: {...}}}, {units: [{unit: "tokens", ...}]} or {tokens: {...}}. */
export function normalizeUsage(body) {
  const source = body?.units ?? body ?? {};
  const entries = Array.isArray(source)
    ? source.map((item) => [item.unit, item])
    : Object.entries(source).filter(([, item]) => item && typeof item === "object");
  return entries.map(([unit, item]) => {
    const granted = Number(item.granted ?? 0);
    const used = Number(item.used ?? 0);
    const percent = Number(item.percent ?? (granted ? Math.floor((used * 100) / granted) : 0));
    return {
      unit,
      granted,
      used,
      reserved: Number(item.reserved ?? 0),
      remaining: Number(item.remaining ?? Math.max(granted - used, 0)),
      percent,
      warning: Boolean(item.warning ?? percent >= 80),
      exceeded: Boolean(item.exceeded ?? (granted > 0 && percent >= 100)),
    };
  });
}

export function level(entry) {
  if (entry.exceeded || entry.percent >= 100) return "exceeded";
  if (entry.warning || entry.percent >= 80) return "warning";
  return "ok";
}

export async function fetchUsage() {
  return normalizeUsage(await api(ENDPOINTS.usage));
}

/** Show the banner for the most used unit at >= 80 %, hide it otherwise. */
export function renderBanner(entries) {
  const banner = document.getElementById("quota-banner");
  if (!banner) return;
  const worst = entries
    .filter((entry) => entry.granted > 0 && level(entry) !== "ok")
    .sort((a, b) => b.percent - a.percent)[0];
  if (!worst) {
    banner.hidden = true;
    return;
  }
  const name = unitName(worst.unit);
  const unit = locale === "en" ? name.toLowerCase() : name;
  const exceeded = level(worst) === "exceeded";
  banner.dataset.level = level(worst);
  banner.querySelector(".quota-banner-text").textContent = exceeded
    ? t("You have used all your {unit} this period.", { unit })
    : t("You have used {percent}% of your {unit} this period.", {
        unit,
        percent: formatNumber(Math.min(worst.percent, 100)),
      });
  banner.hidden = false;
}

/** Set the bar's length (CSSOM, allowed by the CSP) and its accessible value. */
export function paintMeter(element, percent) {
  const shown = Math.min(Math.max(percent || 0, 0), 100);
  element.dataset.percent = String(percent || 0);
  element.querySelector(".meter-fill").style.inlineSize = `${shown}%`;
  const track = element.querySelector(".meter-track");
  track.setAttribute("aria-valuenow", String(shown));
  track.setAttribute("aria-valuetext", `${formatNumber(shown)}%`);
}

/** Fill one .meter element from an entry. */
export function renderMeter(element, entry) {
  const state = level(entry);
  element.dataset.level = state;
  paintMeter(element, entry.percent);
  element.querySelector(".meter-used").textContent = t("{used} of {granted} used", {
    used: formatNumber(entry.used),
    granted: formatNumber(entry.granted),
  });
  element.querySelector(".meter-note").textContent = t("{remaining} available", {
    remaining: formatNumber(entry.remaining),
  });
  const held = element.querySelector(".meter-held");
  if (held) {
    held.hidden = !entry.reserved;
    held.textContent = t("{reserved} held for replies in progress", { reserved: formatNumber(entry.reserved) });
  }
  element.querySelector(".meter-cta").hidden = state !== "exceeded";
}

/** Refresh the banner now and every 30 s while signed in; listeners get each result. */
export function watchUsage(onUpdate = () => {}) {
  let timer = null;
  const refresh = async () => {
    try {
      const entries = await fetchUsage();
      renderBanner(entries);
      onUpdate(entries, null);
    } catch (error) {
      onUpdate(null, error);
    }
  };
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
  document.addEventListener("pulse:turn-finished", refresh);
  document.addEventListener("pulse:turn-started", refresh);
  return { refresh, stop: () => clearInterval(timer) };
}
