// Slide-deck studio: brief → the model's outline, edited here (reorder, add, delete, rewrite)
// → approved (the workflow's Update) → progress from the job's events → thumbnails + downloads.

import { api } from "./api.js";

const el = (id) => document.getElementById(id);
const words = JSON.parse(el("slides-strings")?.textContent || "{}");
const say = (text, params = {}) => text.replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ""));
let deck = null;
let slides = [];

function showError(id, error) {
  const box = el(id);
  box.textContent = error?.message || String(error);
  box.hidden = false;
}

function progress(text) {
  const box = el("deck-progress");
  box.textContent = text;
  box.hidden = !text;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(...statuses) {
  for (;;) {
    deck = await api(`/v1/slides/${deck.id}`);
    // "ready" is recorded just before the job lists its files: wait for both
    if (statuses.includes(deck.status) && (deck.status !== "ready" || deck.files.length)) return deck;
    await sleep(700);
  }
}

function button(label, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "button button-small button-secondary";
  b.textContent = label;
  b.addEventListener("click", action);
  return b;
}

function renderOutline() {
  const list = el("outline-list");
  list.replaceChildren();
  slides.forEach((slide, i) => {
    const item = document.createElement("li");
    item.className = "outline-item";
    item.dataset.testid = "outline-slide";
    const heading = document.createElement("input");
    heading.value = slide.heading;
    heading.maxLength = 200;
    heading.dir = "auto";
    heading.setAttribute("aria-label", `${words.heading} ${i + 1}`);
    heading.addEventListener("input", () => { slide.heading = heading.value; });
    const layout = document.createElement("select");
    layout.setAttribute("aria-label", `${say(words.slide, { n: i + 1 })}`);
    for (const [value, label] of Object.entries(words.layouts)) layout.add(new Option(label, value, false, value === slide.layout));
    layout.addEventListener("change", () => { slide.layout = layout.value; });
    const actions = document.createElement("div");
    actions.className = "outline-actions";
    const move = (delta) => () => {
      const j = i + delta;
      if (j < 0 || j >= slides.length) return;
      [slides[i], slides[j]] = [slides[j], slides[i]];
      renderOutline();
    };
    actions.append(
      button(words.up, move(-1)),
      button(words.down, move(1)),
      button(words.delete, () => { if (slides.length > 3) { slides.splice(i, 1); renderOutline(); } }),
    );
    item.append(heading, layout, actions);
    list.append(item);
  });
}

async function submitBrief(event) {
  event.preventDefault();
  el("brief-error").hidden = true;
  const form = new FormData(event.target);
  const body = {
    topic: form.get("topic"),
    audience: form.get("audience"),
    purpose: form.get("purpose"),
    tone: form.get("tone"),
    theme: form.get("theme"),
    source_text: form.get("source_text"),
    language: form.get("language"),
    slides: Number(form.get("slides")),
    images: form.get("images") === "on",
  };
  if (form.get("source_file_id")) body.source_file_id = form.get("source_file_id");
  try {
    const started = await api("/v1/slides", { method: "POST", body });
    deck = { id: started.deck_id, job_id: started.job_id, events_url: started.events_url };
    event.target.hidden = true;
    progress(words.drafting);
    await until("awaiting_outline", "failed", "expired");
    if (deck.status !== "awaiting_outline") return progress(words.failed);
    progress("");
    slides = deck.outline.slides.map((s) => ({ ...s }));
    el("outline-deck-title").value = deck.outline.title;
    renderOutline();
    el("outline").hidden = false;
  } catch (error) {
    showError("brief-error", error);
  }
}

function follow() {
  const source = new EventSource(`/v1/jobs/${deck.job_id}/events`);
  source.addEventListener("step", (event) => {
    const data = JSON.parse(event.data);
    if (data.step === "content") progress(say(words.writing, { done: data.done ?? 0, total: data.total ?? slides.length }));
    if (data.step === "images") progress(words.pictures);
    if (data.step === "render") progress(words.rendering);
  });
  source.addEventListener("done", () => source.close());
  source.addEventListener("error", (event) => {
    if (event.data) { source.close(); progress(words.failed); }
  });
}

async function approve() {
  el("outline-error").hidden = true;
  const outline = { title: el("outline-deck-title").value, slides };
  try {
    await api(`/v1/slides/${deck.id}/outline`, { method: "POST", body: outline });
    el("outline").hidden = true;
    progress(say(words.writing, { done: 0, total: slides.length }));
    follow(); // progress per slide from the job's events
    await showDeck(); // the deck's own state decides when the files are there
  } catch (error) {
    showError("outline-error", error);
  }
}

async function showDeck() {
  await until("ready", "failed", "cancelled");
  if (deck.status !== "ready") return progress(words.failed);
  progress("");
  el("download-pptx").href = `/v1/slides/${deck.id}/download/pptx`;
  el("download-pdf").href = `/v1/slides/${deck.id}/download/pdf`;
  const list = el("thumbnails");
  list.replaceChildren();
  deck.files.filter((f) => f.name.startsWith("slide-")).forEach((file, i) => {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.src = file.url;
    image.alt = say(words.slide, { n: i + 1 });
    image.loading = "lazy";
    item.append(image);
    list.append(item);
  });
  el("viewer").hidden = false;
}

// the person's scanned, ready documents a deck can be made from
const SOURCE_TYPES = new Set([
  "application/pdf",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "text/plain",
  "text/markdown",
]);

async function loadSources() {
  const select = el("brief-source");
  if (!select) return;
  try {
    const files = await api("/v1/files");
    for (const file of files) {
      if (file.status !== "ready" || !SOURCE_TYPES.has(file.content_type)) continue;
      const option = new Option(file.name, file.id);
      option.dir = "auto";
      select.add(option);
    }
  } catch {
    // no list: a deck from the topic alone still works
  }
}

loadSources();
el("brief-form")?.addEventListener("submit", submitBrief);
el("outline-add")?.addEventListener("click", () => {
  if (slides.length >= 30) return;
  slides.splice(slides.length - 1, 0, { heading: words.new_slide, key_message: "", layout: "bullets" });
  renderOutline();
});
el("outline-approve")?.addEventListener("click", approve);
