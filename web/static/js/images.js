// The image studio: create a job (POST /v1/images), follow it live (SSE from /v1/jobs/{id}/events),
// the gallery (GET /v1/images, paged), full view, download, delete and "edit this image" with a
// mask drawn on a canvas (transparent where painted, as gpt-image-1 expects).

import { api, ApiError } from "./api.js";
import { fetchUsage } from "./quota.js";
import { formatNumber } from "./i18n.js";

const I18N = JSON.parse(document.getElementById("images-i18n")?.textContent || "{}");
const tr = (msgid, params = {}) =>
  (I18N.strings?.[msgid] ?? msgid).replace(/\{(\w+)\}/g, (_, k) => (k in params ? String(params[k]) : `{${k}}`));

const $ = (id) => document.getElementById(id);
const form = $("image-form");
const model = $("image-model");
const size = $("image-size");
const count = $("image-count");
const submit = $("image-submit");
const cancel = $("image-cancel");
const progress = $("image-progress");
const progressText = $("image-progress-text");
const errorBox = $("image-error");
const gallery = $("gallery");
const more = $("gallery-more");
const viewer = $("viewer");

const state = { job: null, events: null, before: null, viewing: null, editing: null, painted: false };

// --- options that follow the chosen model ---

function selected() {
  return model.options[model.selectedIndex];
}

function syncOptions() {
  const option = selected();
  const previous = size.value;
  size.replaceChildren(
    ...option.dataset.sizes.split(",").map((value) => new Option(value.replace("x", " × "), value)),
  );
  if ([...size.options].some((o) => o.value === previous)) size.value = previous;
  count.max = option.dataset.max;
  if (Number(count.value) > Number(count.max)) count.value = count.max;
  const editing = Boolean(state.editing);
  for (const item of model.options) {
    item.disabled = editing ? item.dataset.edits !== "1" : item.dataset.generates !== "1";
  }
}

function chooseUsableModel() {
  if (!selected().disabled) return;
  const wanted = state.editing ? "edits" : "generates";
  const usable = [...model.options].find((o) => o.dataset[wanted] === "1");
  if (usable) model.value = usable.value;
}

// --- quota ---

async function showQuota() {
  try {
    const images = (await fetchUsage()).find((entry) => entry.unit === "images");
    if (images) $("studio-quota").textContent = tr("Images left: {remaining}", { remaining: formatNumber(images.remaining) });
  } catch {
    /* the banner covers errors; the count is a convenience */
  }
}

// --- the gallery ---

function galleryItem(image) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "gallery-item";
  button.dataset.imageId = image.id;
  const img = document.createElement("img");
  img.src = image.thumb_url;
  img.alt = image.prompt;
  img.loading = "lazy";
  img.width = image.width;
  img.height = image.height;
  button.append(img);
  button.addEventListener("click", () => openViewer(image));
  item.append(button);
  return item;
}

async function loadGallery({ reset = false } = {}) {
  if (reset) state.before = null;
  const params = new URLSearchParams({ limit: "24" });
  if (state.before) params.set("before", state.before);
  const page = await api(`/v1/images?${params}`);
  if (reset) gallery.replaceChildren();
  gallery.append(...page.images.map(galleryItem));
  state.before = page.next_before;
  more.hidden = !page.next_before;
  more.textContent = tr("Load more");
  const empty = $("gallery-empty");
  empty.hidden = gallery.children.length > 0;
  empty.textContent = tr("Your gallery is empty. Describe an image above to make your first one.");
}

function openViewer(image) {
  state.viewing = image;
  $("viewer-image").src = image.url;
  $("viewer-image").alt = image.prompt;
  $("viewer-prompt").textContent = image.prompt;
  $("viewer-download").href = image.download_url;
  viewer.showModal();
}

// --- editing with a mask ---

const stage = $("mask-stage");
const canvas = $("mask-canvas");
const brush = $("mask-brush");

function startEditing(source) {
  state.editing = source; // {imageId} or {dataUrl}
  state.painted = false;
  $("image-source").value = source.imageId || "";
  const img = $("mask-image");
  img.onload = () => {
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  };
  img.src = source.url;
  $("studio-editing").hidden = false;
  submit.textContent = tr("Edit this image");
  syncOptions();
  chooseUsableModel();
  syncOptions();
  $("image-prompt").focus();
}

function stopEditing() {
  state.editing = null;
  $("image-source").value = "";
  $("studio-editing").hidden = true;
  submit.textContent = submit.dataset.label;
  syncOptions();
  chooseUsableModel();
  syncOptions();
}

function paint(event) {
  const box = canvas.getBoundingClientRect();
  const x = ((event.clientX - box.left) / box.width) * canvas.width;
  const y = ((event.clientY - box.top) / box.height) * canvas.height;
  const context = canvas.getContext("2d");
  context.fillStyle = "rgba(220, 40, 90, 0.55)";
  context.beginPath();
  context.arc(x, y, (Number(brush.value) * canvas.width) / Math.max(box.width, 1) / 2, 0, Math.PI * 2);
  context.fill();
  state.painted = true;
}

canvas.addEventListener("pointerdown", (event) => {
  canvas.setPointerCapture(event.pointerId);
  paint(event);
});
canvas.addEventListener("pointermove", (event) => {
  if (canvas.hasPointerCapture(event.pointerId)) paint(event);
});
$("mask-clear").addEventListener("click", () => {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  state.painted = false;
});
$("edit-cancel").addEventListener("click", stopEditing);

/** The mask as base64 PNG: opaque everywhere, transparent where painted (the part to change). */
function maskBase64() {
  const mask = document.createElement("canvas");
  mask.width = canvas.width;
  mask.height = canvas.height;
  const context = mask.getContext("2d");
  context.fillStyle = "#000";
  context.fillRect(0, 0, mask.width, mask.height);
  context.globalCompositeOperation = "destination-out";
  context.drawImage(canvas, 0, 0);
  return mask.toDataURL("image/png").split(",", 2)[1];
}

$("image-upload").addEventListener("change", (event) => {
  const file = event.target.files?.[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => startEditing({ dataUrl: reader.result, url: reader.result });
  reader.readAsDataURL(file);
});

// --- a job: create, follow, finish ---

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function busy(on) {
  submit.disabled = on;
  cancel.hidden = !on;
  progress.hidden = !on;
}

function requestBody() {
  const body = { prompt: $("image-prompt").value.trim(), model: model.value, size: size.value, n: Number(count.value) };
  if (state.editing?.imageId) body.source_image_id = state.editing.imageId;
  if (state.editing?.dataUrl) body.image_base64 = state.editing.dataUrl;
  if (state.editing && state.painted && selected().dataset.masks === "1") body.mask_base64 = maskBase64();
  return body;
}

async function finished(jobId, ok, message) {
  state.events?.close();
  state.events = null;
  state.job = null;
  busy(false);
  if (!ok) {
    showError(message || tr("Something went wrong on our side. Please try again."));
  } else {
    progressText.textContent = tr("Done");
    const made = await api(`/v1/images?job_id=${encodeURIComponent(jobId)}`);
    gallery.prepend(...made.images.map(galleryItem));
    $("gallery-empty").hidden = gallery.children.length > 0;
    if (state.editing) stopEditing();
  }
  showQuota();
}

function follow(jobId, eventsUrl) {
  const events = new EventSource(eventsUrl);
  state.events = events;
  events.addEventListener("step", (event) => {
    const data = JSON.parse(event.data);
    progressText.textContent = I18N.steps?.[data.step] || progressText.textContent;
  });
  events.addEventListener("progress", (event) => {
    const data = JSON.parse(event.data);
    progressText.textContent = tr("{done} of {total} saved", { done: formatNumber(data.done), total: formatNumber(data.total) });
  });
  events.addEventListener("done", () => finished(jobId, true));
  events.addEventListener("error", (event) => {
    if (!event.data) return; // a dropped connection: EventSource reconnects with Last-Event-ID
    finished(jobId, false, JSON.parse(event.data).message);
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  if (!$("image-prompt").value.trim()) {
    $("image-prompt").focus();
    return;
  }
  busy(true);
  progressText.textContent = tr("Starting…");
  try {
    const created = await api("/v1/images", { method: "POST", body: requestBody() });
    state.job = created.job_id;
    follow(created.job_id, created.events_url);
  } catch (error) {
    busy(false);
    showError(error instanceof ApiError && error.body?.message ? error.body.message : tr("Something went wrong on our side. Please try again."));
  }
});

cancel.addEventListener("click", async () => {
  if (state.job) await api(`/v1/jobs/${state.job}/cancel`, { method: "POST" }).catch(() => {});
});

// --- the viewer ---

$("viewer-close").addEventListener("click", () => viewer.close());
$("viewer-edit").addEventListener("click", () => {
  const image = state.viewing;
  viewer.close();
  if (image) startEditing({ imageId: image.id, url: image.url });
});
$("viewer-delete").addEventListener("click", async () => {
  const image = state.viewing;
  if (!image || !window.confirm(tr("Delete this image?"))) return;
  await api(`/v1/images/${image.id}`, { method: "DELETE" });
  gallery.querySelector(`[data-image-id="${image.id}"]`)?.parentElement.remove();
  viewer.close();
});
more.addEventListener("click", () => loadGallery());

export function start() {
  submit.dataset.label = submit.textContent;
  model.addEventListener("change", syncOptions);
  syncOptions();
  chooseUsableModel();
  syncOptions();
  showQuota();
  loadGallery({ reset: true }).catch(() => showError(tr("Something went wrong on our side. Please try again.")));
}
