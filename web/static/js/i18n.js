// Strings and number/date formatting in the page's language (matching Babel's ar-JO output:
// Latin digits). The server puts the translated strings in <script type="application/json" id="i18n">.

const strings = JSON.parse(document.getElementById("i18n")?.textContent || "{}");
export const locale = document.documentElement.lang || "ar";
const intlLocale = locale === "ar" ? "ar-JO-u-nu-latn" : "en";

/** Translate a msgid and fill {placeholders}. */
export function t(msgid, params = {}) {
  const text = strings[msgid] ?? msgid;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

export function formatNumber(value) {
  return new Intl.NumberFormat(intlLocale).format(value);
}

export function formatWhen(value) {
  const date = value instanceof Date ? value : new Date(value);
  return new Intl.DateTimeFormat(intlLocale, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "Asia/Amman",
  }).format(date);
}

export function unitName(unit) {
  return t(unit.charAt(0).toUpperCase() + unit.slice(1));
}
