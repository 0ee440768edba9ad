// Account page: active sessions (revoke) and personal API keys (create, shown once; revoke).
// Language switching is plain links (?lang=), saved on the user by the server.

import { api } from "./api.js";
import { formatNumber, formatWhen, t } from "./i18n.js";
import { ENDPOINTS } from "./endpoints.js";
import { wireExport } from "./account-export.js";

function row(label, detail, onRevoke) {
  const item = document.createElement("li");
  const text = document.createElement("div");
  const name = document.createElement("strong");
  name.dir = "auto";
  name.textContent = label;
  const small = document.createElement("div");
  small.className = "muted";
  small.textContent = detail;
  text.append(name, small);
  item.append(text);
  if (onRevoke) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small button-secondary";
    button.textContent = t("Revoke");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await onRevoke();
      } finally {
        button.disabled = false;
      }
    });
    item.append(button);
  }
  return item;
}

function fill(list, items, empty) {
  list.replaceChildren(...items);
  if (!items.length) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = t(empty);
    list.append(none);
  }
}

async function loadSessions() {
  const list = document.getElementById("sessions-list");
  const body = await api(ENDPOINTS.sessions);
  const sessions = Array.isArray(body) ? body : body?.items ?? body?.sessions ?? [];
  fill(
    list,
    sessions.map((session) =>
      row(
        session.current ? t("This device") : session.user_agent || session.device || "—",
        t("Last used {time}", { time: formatWhen(session.last_seen_at || session.last_used_at || session.created_at) }),
        session.current
          ? null
          : async () => {
              await api(`${ENDPOINTS.sessions}/${session.id}`, { method: "DELETE" });
              await loadSessions();
            },
      ),
    ),
    "No sessions.",
  );
}

// A key's spend this budget window (GET …/usage), from the template's translated patterns.
async function usageLine(list, key) {
  const usage = await api(`${ENDPOINTS.keys}/${key.id}/usage`);
  const line = document.createElement("div");
  line.className = "muted key-usage";
  line.dataset.testid = "key-usage";
  const pattern = usage.monthly_budget == null ? list.dataset.usage : list.dataset.budget;
  const values = {
    used: formatNumber(usage.studio_tokens_used),
    budget: usage.monthly_budget == null ? "" : formatNumber(usage.monthly_budget),
    requests: formatNumber(usage.requests),
    images: formatNumber(usage.images_used ?? 0),
    image_budget: usage.monthly_image_budget == null ? "" : formatNumber(usage.monthly_image_budget),
  };
  const fill = (text) => text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  line.textContent = fill(pattern);
  if (usage.images_used || usage.monthly_image_budget != null) {
    const images = usage.monthly_image_budget == null ? list.dataset.images : list.dataset.imageBudget;
    line.textContent += ` · ${fill(images)}`;
  }
  return line;
}

async function loadKeys() {
  const list = document.getElementById("keys-list");
  const body = await api(ENDPOINTS.keys);
  const keys = Array.isArray(body) ? body : body?.items ?? body?.keys ?? [];
  const rows = keys.map((key) =>
    row(
      key.name,
      `${key.prefix ? `${key.prefix}… · ` : ""}${t("Created {time}", { time: formatWhen(key.created_at) })}`,
      async () => {
        await api(`${ENDPOINTS.keys}/${key.id}`, { method: "DELETE" });
        await loadKeys();
      },
    ),
  );
  fill(list, rows, "No keys yet.");
  await Promise.all(
    keys.map(async (key, index) => rows[index].firstChild.append(await usageLine(list, key))),
  );
}

function wireKeyForm() {
  const form = document.getElementById("key-form");
  const created = document.getElementById("key-created");
  const secret = document.getElementById("key-secret");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    if (!name) return;
    const body = await api(ENDPOINTS.keys, { method: "POST", body: { name } });
    secret.textContent = body.key || body.secret || body.token || "";
    created.hidden = false;
    form.reset();
    await loadKeys();
  });
  document.getElementById("key-copy").addEventListener("click", async (event) => {
    await navigator.clipboard?.writeText(secret.textContent);
    event.target.textContent = t("Copied");
  });
}

function wireSignOut() {
  document.getElementById("signout").addEventListener("click", async () => {
    await api(ENDPOINTS.signout, { method: "POST" });
    window.location.assign("/");
  });
}

function wireForm(formId, statusId, send) {
  const form = document.getElementById(formId);
  const status = document.getElementById(statusId);
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      status.textContent = await send(form);
      status.classList.remove("field-error");
    } catch (failure) {
      status.textContent = failure.message;
      status.classList.add("field-error");
    } finally {
      status.hidden = false;
      button.disabled = false;
    }
  });
}

// Display name, sign-in email (a link to the new address confirms it), deletion with a grace period.
function wireProfile() {
  wireForm("name-form", "name-status", async (form) => {
    await api(ENDPOINTS.me, { method: "PATCH", body: { name: form.elements.name.value.trim() } });
    return t("Saved.");
  });
  wireForm("email-form", "email-status", async (form) => {
    const body = await api("/v1/account/email", { method: "POST", body: { email: form.elements.email.value.trim() } });
    form.reset();
    return body.message;
  });
  wireForm("delete-form", "delete-status", async (form) => {
    await api("/v1/account/deletion", { method: "POST", body: { confirm_email: form.elements.confirm_email.value.trim() } });
    window.location.reload();
    return "";
  });
  document.getElementById("deletion-undo")?.addEventListener("click", async () => {
    await api("/v1/account/deletion", { method: "DELETE" });
    window.location.reload();
  });
}

export function start({ signedIn }) {
  if (!signedIn) return;
  wireProfile();
  wireKeyForm();
  wireSignOut();
  document.getElementById("openai-base-url").textContent = `${window.location.origin}/openai/v1`;
  loadSessions();
  loadKeys();
  wireExport();
}
