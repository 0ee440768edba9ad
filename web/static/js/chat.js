// Chat: model selector, streamed replies over SSE (delta / usage / done / error / restart with
// event ids; EventSource resumes with Last-Event-ID), Stop (button or Esc), regenerate, copy (the
// reply or one code block), edit a sent question (the conversation continues from it), a token meter (available and held), re-attaching
// to a running reply on reload. The sidebar lives in chat-sidebar.js. Works against the chat API
// (/v1/chat/..., docs/chat.md); without it the page is a skeleton.

import { api } from "./api.js";
import { closeMenus, loadConversations, setCurrentConversation, setDrawer, startSidebar } from "./chat-sidebar.js";
import { ENDPOINTS } from "./endpoints.js";
import { formatNumber, t, unitName } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";
import { showFiles } from "./message-files.js";
import { watchUsage } from "./quota.js";

const RENDER_EVERY_MS = 250;
const STOP_GRACE_MS = 3000;
const el = (id) => document.getElementById(id);

const state = {
  conversationId: "",
  turn: null, // {id, eventsUrl, source, text, item, timer}
  editing: null, // the sent question being edited (its list item)
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

function clearError() {
  el("chat-error").hidden = true;
}

function setStreaming(on) {
  el("composer-send").hidden = on;
  el("composer-stop").hidden = !on;
}

function setTitle(title) {
  el("chat-title").textContent = title;
}

function addMessage(role, text = "", turnId = "") {
  const item = el("message-template").content.firstElementChild.cloneNode(true);
  item.classList.add(`message-${role}`);
  item.dataset.role = role;
  if (turnId) item.dataset.turnId = turnId;
  const body = item.querySelector(".message-body");
  if (role === "user") {
    body.classList.add("plain");
    body.textContent = text;
    body.dataset.text = text;
    for (const button of item.querySelectorAll("[data-action=copy], [data-action=regenerate]")) button.remove();
  } else {
    item.querySelector("[data-action=edit]").remove();
    item.querySelector(".message-actions").hidden = true;
  }
  el("message-list").append(item);
  el("chat-empty").hidden = true;
  item.scrollIntoView({ block: "end" });
  return item;
}

// Each code block gets its own Copy button; code stays left-to-right inside Arabic replies.
function addCodeButtons(body) {
  for (const pre of body.querySelectorAll("pre")) {
    if (pre.parentElement.classList.contains("code-block")) continue;
    const wrap = document.createElement("div");
    wrap.className = "code-block";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small button-secondary code-copy";
    button.dataset.action = "copy-code";
    button.textContent = t("Copy code");
    pre.dir = "ltr";
    pre.replaceWith(wrap);
    wrap.append(button, pre);
  }
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
      addCodeButtons(body);
    }
  } catch {
    body.textContent = text;
  }
  if (final) {
    item.querySelector(".message-actions").hidden = false;
    item.dataset.state = "done";
  }
}

function note(item, className, text) {
  item.querySelector(`.${className}`)?.remove();
  const paragraph = document.createElement("p");
  paragraph.className = `muted ${className}`;
  paragraph.setAttribute("role", "status");
  paragraph.textContent = text;
  item.querySelector(".message-body").after(paragraph);
  return paragraph;
}

// A turn that failed has no reply: say why in its place, and offer Regenerate (never Copy).
function markFailed(item, message) {
  item.dataset.failed = "1";
  item.dataset.state = "failed";
  const body = item.querySelector(".message-body");
  body.textContent = "";
  body.dataset.text = "";
  item.querySelector(".writing-note")?.remove();
  const shown = note(item, "failed-note", message || t("The model could not answer right now. Please try again."));
  shown.classList.remove("muted");
  item.querySelector(".message-actions").hidden = false;
}

async function copyText(button, text) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = t("Copied");
  } catch {
    button.textContent = t("Copy failed");
  }
}

function wireMessageActions() {
  el("message-list").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const item = button.closest(".message");
    const action = button.dataset.action;
    if (action === "copy") {
      await copyText(button, item.querySelector(".message-body").dataset.text || "");
    } else if (action === "copy-code") {
      await copyText(button, button.parentElement.querySelector("pre").textContent);
    } else if (action === "regenerate" && item.dataset.turnId && !state.turn) {
      await regenerate(item);
    } else if (action === "edit") {
      startEditing(item);
    }
  });
}

// --- streaming ---------------------------------------------------------------------------------

function attach(turnId, eventsUrl, item) {
  // attempt: the newest stream attempt announced by a restart; deltas of older ones are stale
  const turn = { id: turnId, eventsUrl, text: "", item, timer: null, attempt: 0 };
  state.turn = turn;
  sessionStorage.setItem(storageKey(state.conversationId), JSON.stringify({ turnId, eventsUrl }));
  setStreaming(true);
  item.dataset.state = "streaming";
  item.dataset.turnId = turnId;
  note(item, "writing-note", t("Writing…"));
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
    if ((data.attempt ?? 0) < turn.attempt) return; // a superseded attempt still publishing
    turn.text += data.text ?? data.delta ?? data.content ?? "";
    item.querySelector(".writing-note")?.remove();
    const body = item.querySelector(".message-body");
    if (!body.dataset.rendered) {
      body.classList.add("plain"); // plain text until the first Markdown render arrives
      body.textContent = turn.text;
    }
    schedule();
  });
  source.addEventListener("restart", (event) => {
    const attempt = parseData(event).attempt ?? 0;
    if (attempt < turn.attempt) return;
    turn.attempt = attempt;
    turn.text = ""; // a retried attempt: drop the partial reply
    const body = item.querySelector(".message-body");
    delete body.dataset.rendered;
    body.dataset.text = "";
    body.textContent = "";
    note(item, "writing-note", t("The model did not answer; trying again…"));
  });
  source.addEventListener("usage", (event) => showTurnUsage(parseData(event)));
  source.addEventListener("done", (event) => finish(turn, parseData(event)));
  source.addEventListener("error", (event) => {
    if (event.data) {
      finish(turn, null, parseData(event).message || t("The model could not answer right now. Please try again."));
    } else if (source.readyState === EventSource.CLOSED) {
      finish(turn, null, turn.text ? null : t("The connection was lost. Reload the page to see the reply."));
    } // otherwise EventSource reconnects with Last-Event-ID by itself
  });
}

async function finish(turn, data, failure = null) {
  if (state.turn !== turn) return;
  turn.source.close();
  clearTimeout(turn.timer);
  state.turn = null;
  sessionStorage.removeItem(storageKey(state.conversationId));
  setStreaming(false);
  turn.item.querySelector(".writing-note")?.remove();
  if (data?.stopped || data?.status === "cancelled") turn.item.dataset.stopped = "1";
  // a `done` summarised from the database carries the whole stored reply: its deltas may be lost
  if (typeof data?.text === "string") turn.text = data.text;
  if (failure && !turn.text) {
    markFailed(turn.item, failure);
  } else {
    await paintReply(turn.item, turn.text, true);
    if (turn.item.dataset.stopped) note(turn.item, "stopped-note", t("Stopped"));
  }
  document.dispatchEvent(new Event("pulse:turn-finished"));
  loadConversations();
}

function showTurnUsage(data) {
  const used = data.studio_tokens ?? data.total_tokens ?? (data.input_tokens ?? 0) + (data.output_tokens ?? 0);
  if (used) el("chat-meter").dataset.turn = String(used);
}

async function sendTurn(message, typed = message) {
  clearError();
  const files = attachments ? attachments.takeReady() : [];
  const asked = addMessage("user", message);
  showFiles(asked, files);
  const model = el("chat-model").value;
  localStorage.setItem("pulse.model", model);
  const body = { model, message };
  if (state.conversationId) body.conversation_id = state.conversationId;
  if (files.length) body.file_ids = files.map((file) => file.id);
  try {
    const started = await api(ENDPOINTS.turns, { method: "POST", body });
    asked.dataset.turnId = started.turn_id;
    if (!state.conversationId) {
      state.conversationId = started.conversation_id;
      setCurrentConversation(started.conversation_id);
      history.replaceState(null, "", `/chat/${started.conversation_id}`);
      showExport(started.conversation_id);
    }
    attach(started.turn_id, started.events_url, addMessage("assistant"));
    document.dispatchEvent(new Event("pulse:turn-started"));
  } catch (error) {
    asked.remove(); // nothing was recorded: the question goes back to the composer
    const input = el("composer-input");
    if (!input.value.trim()) input.value = typed;
    el("chat-empty").hidden = el("message-list").children.length > 0;
    showError(error.message);
    input.focus();
  }
}

// The new reply replaces this one (the API keeps the question once and the old reply billed).
async function regenerate(item) {
  clearError();
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

// --- editing -----------------------------------------------------------------------------------

function startEditing(item) {
  const text = item.querySelector(".message-body").dataset.text || "";
  const input = el("composer-input");
  state.editing = item.dataset.turnId ? item : null; // a question not recorded yet is just re-sent
  input.value = text;
  el("composer-editing").hidden = false;
  input.focus();
  input.setSelectionRange(text.length, text.length);
}

function stopEditing() {
  state.editing = null;
  el("composer-editing").hidden = true;
}

// POST /v1/chat/turns/{id}/edit: the edited question and everything after it leave the
// conversation; the new question is answered from what came before it.
async function sendEdit(item, message, typed) {
  clearError();
  const model = el("chat-model").value;
  try {
    const started = await api(`${ENDPOINTS.turns}/${item.dataset.turnId}/edit`, {
      method: "POST",
      body: { model, message },
    });
    stopEditing();
    while (item.nextElementSibling) item.nextElementSibling.remove();
    item.remove();
    addMessage("user", message, started.turn_id);
    attach(started.turn_id, started.events_url, addMessage("assistant"));
    document.dispatchEvent(new Event("pulse:turn-started"));
  } catch (error) {
    const input = el("composer-input");
    if (!input.value.trim()) input.value = typed;
    showError(error.message);
    input.focus();
  }
}

// --- conversation ------------------------------------------------------------------------------

function showExport(conversationId) {
  el("export-markdown").href = `/chat/${conversationId}/export.md`;
  el("export-pdf").href = `/chat/${conversationId}/export.pdf`;
  el("chat-export").hidden = false;
}

async function addFailedReply(message) {
  const item = addMessage("assistant");
  item.dataset.turnId = message.turn_id;
  markFailed(item, message.error_message);
}

async function loadConversation(conversationId) {
  const conversation = await api(`${ENDPOINTS.conversations}/${conversationId}`);
  setTitle(conversation.title || t("New conversation"));
  const select = el("chat-model");
  if ([...select.options].some((option) => option.value === conversation.model)) select.value = conversation.model;
  for (const message of conversation.messages ?? []) {
    const text = message.content ?? "";
    if (message.role === "user") {
      showFiles(addMessage("user", text, message.turn_id), message.files);
      if (message.error_message) await addFailedReply(message); // the turn ended without a reply
    } else if (text) {
      const item = addMessage("assistant");
      item.dataset.turnId = message.turn_id;
      await paintReply(item, text, true);
      if (message.status === "stopped") note(item, "stopped-note", t("Stopped"));
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
  input.addEventListener("input", clearError);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message) {
      showError(t("Write a message first."));
      input.focus();
      return;
    }
    if (state.turn || document.body.dataset.chatApi !== "1" || attachments?.busy()) return;
    const typed = input.value;
    input.value = "";
    if (state.editing) {
      sendEdit(state.editing, message, typed);
      return;
    }
    stopEditing();
    sendTurn(message, typed);
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
  el("composer-edit-cancel").addEventListener("click", () => {
    stopEditing();
    input.value = "";
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (state.turn) stop();
    else if (document.querySelector("details.menu[open]")) closeMenus();
    else if (!el("composer-editing").hidden) stopEditing();
    else if (el("chat-sidebar").hasAttribute("data-open")) setDrawer(false);
  });
}

function wireMeter() {
  const meter = el("chat-meter");
  watchUsage((entries) => {
    const tokens = entries?.find((entry) => entry.unit === "tokens");
    if (!tokens) return;
    meter.dataset.level = tokens.warning ? (tokens.exceeded ? "exceeded" : "warning") : "ok";
    const available = t("{unit} available: {remaining}", {
      unit: unitName("tokens"),
      remaining: formatNumber(tokens.remaining),
    });
    const held = tokens.reserved
      ? ` · ${t("{reserved} held for replies in progress", { reserved: formatNumber(tokens.reserved) })}`
      : "";
    meter.textContent = available + held;
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
  startSidebar(state.conversationId, setTitle);
  if (state.conversationId) loadConversation(state.conversationId).catch((error) => showError(error.message));
}
