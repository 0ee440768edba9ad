// fetch() for the JSON API: same-origin cookies, the CSRF double-submit header from the
// pulse_csrf cookie on unsafe methods, the page language, and errors as ApiError.

import { locale, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
    this.body = body;
  }
}

export function cookie(name) {
  const prefix = `${name}=`;
  for (const part of document.cookie.split(";")) {
    const item = part.trim();
    if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
  }
  return "";
}

export async function api(path, { method = "GET", body, signal, idempotencyKey } = {}) {
  const headers = { Accept: "application/json", "Accept-Language": locale };
  // money-moving routes: the same key for every click of one intent, so a double click pays once
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!["GET", "HEAD"].includes(method)) {
    const csrf = cookie("pulse_csrf");
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    signal,
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.status === 429) data = { ...data, message: rateLimitMessage(response.headers.get("Retry-After")) };
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** "Try again in about 10 minutes", not "in 593 seconds" (Retry-After is in seconds). */
export function rateLimitMessage(retryAfter) {
  const seconds = Number(retryAfter);
  if (!Number.isFinite(seconds) || seconds <= 0) return t("Too many requests. Try again in a moment.");
  const relative = new Intl.RelativeTimeFormat(locale === "ar" ? "ar-JO-u-nu-latn" : "en", { numeric: "always" });
  const when =
    seconds < 60
      ? relative.format(Math.ceil(seconds), "second")
      : seconds < 3600
        ? relative.format(Math.ceil(seconds / 60), "minute")
        : relative.format(Math.ceil(seconds / 3600), "hour");
  return t("Too many requests. Try again {when}.", { when });
}
