// Chat: conversations sidebar (new, rename, delete), model selector, streamed replies over SSE
// (delta / usage / done / error / restart with event ids; EventSource resumes with Last-Event-ID),
// Stop, regenerate, copy, a compact token meter, and re-attaching to a running reply on reload.
// Works against the chat API (/v1/chat/..., docs/chat.md); without it the page is a skeleton.

import { api } from "./api.js";
import { ENDPOINTS } from "./endpoints.js";
import { formatNumber, t, unitName } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";
import { watchUsage } from "./quota.js";

const RENDER_EVERY_MS = 250;
const STOP_GRACE_MS = 3000;
const el = (id) => document.getElementById(id);

const state = {
  conversationId: "",
  turn: null, // {id, eventsUrl, source, text, item, seq}
};

function storageKey(conversationId) {
  return `pulse.turn.${conversationId}`;
}

function parseData(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return { text: event.data };
  }
}

function showError(message) {
  const box = el("chat-error");
  box.textContent = message || t("Something went wrong on our side. Please try again.");
  box.hidden = false;
}

function setStreaming(on) {
  el("composer-send").hidden = on;
  el("composer-stop").hidden = !on;
}

function addMessage(role, text = "") {
  const item = el("message-template").content.firstElementChild.cloneNode(true);
  item.classList.add(`message-${role}`);
  item.dataset.role = role;
  const body = item.querySelector(".message-body");
  if (role === "user") {
    body.classList.add("plain");
    body.textContent = text;
    item.querySelector(".message-actions").remove();
  } else {
    item.querySelector(".message-actions").hidden = true;
  }
  el("message-list").append(item);
  el("chat-empty").hidden = true;
  item.scrollIntoView({ block: "end" });
  return item;
}

async function paintReply(item, text, final = false) {
  const body = item.querySelector(".message-body");
  body.dataset.text = text;
  try {
    const html = await renderMarkdown(text);
    if (body.dataset.text === text) {
      body.classList.remove("plain");
      body.dataset.rendered = "1";
      body.innerHTML = html; // sanitized by nh3 on the server
    }
  } catch {
    body.textContent = text;
  }
  if (final) {
    item.querySelector(".message-actions").hidden = false;
    item.dataset.state = "done";
  }
}

function wireMessageActions() {
  el("message-list").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const item = button.closest(".message");
    if (button.dataset.action === "copy") {
      await navigator.clipboard?.writeText(item.querySelector(".message-body").dataset.text || "");
      button.textContent = t("Copied");
    } else if (button.dataset.action === "regenerate" && item.dataset.turnId && !state.turn) {
      await regenerate(item);
    }
  });
}

// --- streaming ---------------------------------------------------------------------------------

function attach(turnId, eventsUrl, item) {
  const turn = { id: turnId, eventsUrl, text: "", item, seq: 0, timer: null };
  state.turn = turn;
  sessionStorage.setItem(storageKey(state.conversationId), JSON.stringify({ turnId, eventsUrl }));
  setStreaming(true);
  item.dataset.state = "streaming";
  item.dataset.turnId = turnId;
  const source = new EventSource(eventsUrl, { withCredentials: true });
  turn.source = source;
  const schedule = () => {
    if (turn.timer) return;
    turn.timer = setTimeout(() => {
      turn.timer = null;
      paintReply(item, turn.text);
    }, RENDER_EVERY_MS);
  };
  source.addEventListener("delta", (event) => {
    const data = parseData(event);
    turn.text += data.text ?? data.delta ?? data.content ?? "";
    const body = item.querySelector(".message-body");
    if (!body.dataset.rendered) {
      body.classList.add("plain"); // plain text until the first Markdown render arrives
      body.textContent = turn.text;
    }
    schedule();
  });
  source.addEventListener("restart", () => {
    turn.text = ""; // a retried attempt: drop the partial reply
    const body = item.querySelector(".message-body");
    delete body.dataset.rendered;
    body.dataset.text = "";
    body.textContent = "";
  });
  source.addEventListener("usage", (event) => showTurnUsage(parseData(event)));
  source.addEventListener("done", (event) => finish(turn, parseData(event)));
  source.addEventListener("error", (event) => {
    if (event.data) {
      finish(turn, null);
      showError(parseData(event).message);
    } else if (source.readyState === EventSource.CLOSED) {
      finish(turn, null);
    } // otherwise EventSource reconnects with Last-Event-ID by itself
  });
}

async function finish(turn, data) {
  if (state.turn !== turn) return;
  turn.source.close();
  clearTimeout(turn.timer);
  state.turn = null;
  sessionStorage.removeItem(storageKey(state.conversationId));
  setStreaming(false);
  if (data?.stopped || data?.status === "cancelled") turn.item.dataset.stopped = "1";
  await paintReply(turn.item, turn.text, true);
  if (turn.item.dataset.stopped) addStoppedNote(turn.item);
  document.dispatchEvent(new Event("pulse:turn-finished"));
  loadConversations();
}

function showTurnUsage(data) {
  const used = data.studio_tokens ?? data.total_tokens ?? (data.input_tokens ?? 0) + (data.output_tokens ?? 0);
  if (used) el("chat-meter").dataset.turn = String(used);
}

async function sendTurn(message) {
  el("chat-error").hidden = true;
  const files = attachments ? attachments.takeReady() : [];
  const asked = addMessage("user", message);
  attachments?.showAttached(asked, files);
  const model = el("chat-model").value;
  localStorage.setItem("pulse.model", model);
  const body = { model, message };
  if (state.conversationId) body.conversation_id = state.conversationId;
  if (files.length) body.file_ids = files.map((file) => file.id);
  try {
    const started = await api(ENDPOINTS.turns, { method: "POST", body });
    if (!state.conversationId) {
      state.conversationId = started.conversation_id;
      history.replaceState(null, "", `/chat/${started.conversation_id}`);
    }
    attach(started.turn_id, started.events_url, addMessage("assistant"));
  } catch (error) {
    showError(error.message);
  }
}

// The new reply replaces this one (the API keeps the question once and the old reply billed).
async function regenerate(item) {
  el("chat-error").hidden = true;
  const model = el("chat-model").value;
  try {
    const started = await api(`${ENDPOINTS.turns}/${item.dataset.turnId}/regenerate`, {
      method: "POST",
      body: { model },
    });
    const fresh = addMessage("assistant");
    item.replaceWith(fresh);
    attach(started.turn_id, started.events_url, fresh);
  } catch (error) {
    showError(error.message);
  }
}

async function stop() {
  const turn = state.turn;
  if (!turn) return;
  el("composer-stop").disabled = true;
  turn.item.dataset.stopped = "1";
  try {
    await api(`${ENDPOINTS.turns}/${turn.id}/cancel`, { method: "POST" });
  } catch (error) {
    showError(error.message);
  } finally {
    el("composer-stop").disabled = false;
  }
  // The stream normally ends with done (or error) after a cancel; do not wait for it forever.
  setTimeout(() => finish(turn, { status: "cancelled" }), STOP_GRACE_MS);
}

// --- conversations -----------------------------------------------------------------------------

function items(body, ...keys) {
  if (Array.isArray(body)) return body;
  for (const key of keys) if (Array.isArray(body?.[key])) return body[key];
  return [];
}

async function loadConversations() {
  const list = el("conversation-list");
  let conversations = [];
  try {
    conversations = items(await api(ENDPOINTS.conversations), "items", "conversations");
  } catch {
    return;
  }
  list.replaceChildren(
    ...conversations.map((conversation) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/chat/${conversation.id}`;
      link.dir = "auto";
      link.textContent = conversation.title || t("New conversation");
      if (conversation.id === state.conversationId) {
        link.setAttribute("aria-current", "page");
        if (conversation.title) el("chat-title").textContent = conversation.title;
      }
      const rename = smallButton(t("Rename"), () => renameConversation(conversation));
      const remove = smallButton(t("Delete"), () => deleteConversation(conversation));
      item.append(link, rename, remove);
      return item;
    }),
  );
}

function smallButton(label, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button";
  button.textContent = label;
  button.addEventListener("click", onClick);
  return button;
}

async function renameConversation(conversation) {
  const title = window.prompt(t("New title"), conversation.title || "");
  if (!title?.trim()) return;
  await api(`${ENDPOINTS.conversations}/${conversation.id}`, { method: "PATCH", body: { title: title.trim() } });
  if (conversation.id === state.conversationId) el("chat-title").textContent = title.trim();
  loadConversations();
}

async function deleteConversation(conversation) {
  if (!window.confirm(t("Delete this conversation?"))) return;
  await api(`${ENDPOINTS.conversations}/${conversation.id}`, { method: "DELETE" });
  if (conversation.id === state.conversationId) window.location.assign("/chat");
  else loadConversations();
}

function addStoppedNote(item) {
  const note = document.createElement("p");
  note.className = "muted stopped-note";
  note.textContent = t("Stopped");
  item.querySelector(".message-body").after(note);
}

// A turn that failed has no reply: say why, and offer Regenerate (it retries the question).
async function addFailedReply(message) {
  const item = addMessage("assistant");
  item.dataset.turnId = message.turn_id;
  item.dataset.failed = "1";
  await paintReply(item, "", true);
  const note = document.createElement("p");
  note.className = "muted failed-note";
  note.setAttribute("role", "status");
  note.textContent = message.error_message;
  item.querySelector(".message-body").after(note);
}

async function loadConversation(conversationId) {
  const conversation = await api(`${ENDPOINTS.conversations}/${conversationId}`);
  el("chat-title").textContent = conversation.title || t("New conversation");
  const select = el("chat-model");
  if ([...select.options].some((option) => option.value === conversation.model)) select.value = conversation.model;
  for (const message of items(conversation, "messages")) {
    const text = message.content ?? "";
    if (message.role === "user") {
      addMessage("user", text);
      if (message.error_message) await addFailedReply(message); // the turn ended without a reply
    } else if (text) {
      const item = addMessage("assistant");
      item.dataset.turnId = message.turn_id;
      await paintReply(item, text, true);
      if (message.status === "stopped") addStoppedNote(item);
    }
  }
  // Re-attach to a reply still running: the API names it; this tab may also remember it.
  const saved = JSON.parse(sessionStorage.getItem(storageKey(conversationId)) || "null");
  const turnId = conversation.running_turn_id;
  if (turnId) {
    const eventsUrl = saved?.turnId === turnId ? saved.eventsUrl : `${ENDPOINTS.turns}/${turnId}/events`;
    attach(turnId, eventsUrl, addMessage("assistant"));
  } else if (saved) {
    sessionStorage.removeItem(storageKey(conversationId));
  }
}

let attachments = null; // web/static/js/attach.js once loaded

// --- start -------------------------------------------------------------------------------------

function wireComposer() {
  const input = el("composer-input");
  const form = el("composer");
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message || state.turn || document.body.dataset.chatApi !== "1" || attachments?.busy()) return;
    input.value = "";
    sendTurn(message);
  });
  el("composer-stop").addEventListener("click", stop);
  // The attach UI (attach.js) loads after the composer works, so typing never waits for it.
  import("./attach.js").then((module) => {
    attachments = module;
    module.wireAttachments(form, el("chat"));
  });
  document.addEventListener("pulse:attachments-changed", (event) => {
    el("composer-send").disabled = event.detail.busy;
  });
}

function wireMeter() {
  const meter = el("chat-meter");
  watchUsage((entries) => {
    const tokens = entries?.find((entry) => entry.unit === "tokens");
    if (!tokens) return;
    meter.dataset.level = tokens.warning ? (tokens.exceeded ? "exceeded" : "warning") : "ok";
    meter.textContent = t("{unit} left: {remaining}", {
      unit: unitName("tokens"),
      remaining: formatNumber(tokens.remaining),
    });
  });
}

export function start({ signedIn, usageApi }) {
  wireComposer();
  if (!signedIn) return;
  if (usageApi) wireMeter();
  if (document.body.dataset.chatApi !== "1") return;
  const saved = localStorage.getItem("pulse.model");
  const select = el("chat-model");
  if (saved && [...select.options].some((option) => option.value === saved)) select.value = saved;
  wireMessageActions();
  state.conversationId = el("chat").dataset.conversationId || "";
  loadConversations();
  if (state.conversationId) loadConversation(state.conversationId).catch((error) => showError(error.message));
}
