// Chat sidebar: the conversation list (search by title, an actions menu per item with Rename
// and Delete) and, on phones, the drawer that holds it (collapsed until opened).

import { api } from "./api.js";
import { ENDPOINTS } from "./endpoints.js";
import { t } from "./i18n.js";

const el = (id) => document.getElementById(id);
let conversations = [];
let current = { id: "", onTitle: () => {} };

function items(body) {
  if (Array.isArray(body)) return body;
  return body?.items ?? body?.conversations ?? [];
}

function menuButton(label, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "menu-item";
  button.textContent = label;
  button.addEventListener("click", (event) => {
    event.target.closest("details")?.removeAttribute("open");
    onClick();
  });
  return button;
}

function conversationItem(conversation) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = `/chat/${conversation.id}`;
  link.dir = "auto";
  link.textContent = conversation.title || t("New conversation");
  if (conversation.id === current.id) {
    link.setAttribute("aria-current", "page");
    if (conversation.title) current.onTitle(conversation.title);
  }
  const menu = document.createElement("details");
  menu.className = "menu item-menu";
  const summary = document.createElement("summary");
  summary.className = "item-menu-button";
  summary.setAttribute("aria-label", t("Actions for {title}", { title: link.textContent }));
  summary.textContent = "⋯";
  const list = document.createElement("div");
  list.className = "menu-items";
  list.append(
    menuButton(t("Rename"), () => renameConversation(conversation)),
    menuButton(t("Delete"), () => deleteConversation(conversation)),
  );
  menu.append(summary, list);
  item.append(link, menu);
  return item;
}

function render() {
  const query = el("conversation-search").value.trim().toLocaleLowerCase();
  const shown = conversations.filter(
    (conversation) => !query || (conversation.title || t("New conversation")).toLocaleLowerCase().includes(query),
  );
  el("conversation-list").replaceChildren(...shown.map(conversationItem));
  el("conversation-none").hidden = !(query && shown.length === 0);
}

export async function loadConversations() {
  try {
    conversations = items(await api(ENDPOINTS.conversations));
  } catch {
    return;
  }
  const toggle = el("chat-drawer-toggle");
  toggle.textContent = conversations.length
    ? t("Conversations ({count})", { count: conversations.length })
    : t("Conversations");
  render();
}

async function renameConversation(conversation) {
  const title = window.prompt(t("New title"), conversation.title || "");
  if (!title?.trim()) return;
  await api(`${ENDPOINTS.conversations}/${conversation.id}`, { method: "PATCH", body: { title: title.trim() } });
  if (conversation.id === current.id) current.onTitle(title.trim());
  loadConversations();
}

async function deleteConversation(conversation) {
  if (!window.confirm(t("Delete this conversation?"))) return;
  await api(`${ENDPOINTS.conversations}/${conversation.id}`, { method: "DELETE" });
  if (conversation.id === current.id) window.location.assign("/chat");
  else loadConversations();
}

export function setDrawer(open) {
  const sidebar = el("chat-sidebar");
  sidebar.toggleAttribute("data-open", open);
  el("chat-drawer-toggle").setAttribute("aria-expanded", String(open));
  if (open) el("conversation-search").focus();
}

export function closeMenus() {
  for (const menu of document.querySelectorAll("details.menu[open]")) menu.removeAttribute("open");
}

/** Wire the sidebar; ``onTitle`` hears the current conversation's title. */
export function startSidebar(conversationId, onTitle) {
  current = { id: conversationId, onTitle };
  el("conversation-search").addEventListener("input", render);
  el("chat-drawer-toggle").addEventListener("click", () => {
    setDrawer(!el("chat-sidebar").hasAttribute("data-open"));
  });
  el("chat-drawer-close").addEventListener("click", () => {
    setDrawer(false);
    el("chat-drawer-toggle").focus();
  });
  document.addEventListener("click", (event) => {
    for (const menu of document.querySelectorAll("details.menu[open]")) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    }
  });
  loadConversations();
}

export function setCurrentConversation(conversationId) {
  current.id = conversationId;
}
