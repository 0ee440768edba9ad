// The video studio: create a render (POST /v1/videos), list the person's videos (GET /v1/videos)
// and follow every one still rendering over SSE (/v1/jobs/{id}/events). Nothing lives only in
// the tab: after a reload the list comes back from the API and each running render re-attaches.

import { api, ApiError } from "./api.js";
import { fetchUsage } from "./quota.js";
import { formatNumber } from "./i18n.js";

const I18N = JSON.parse(document.getElementById("video-i18n")?.textContent || "{}");
const tr = (msgid, params = {}) =>
  (I18N.strings?.[msgid] ?? msgid).replace(/\{(\w+)\}/g, (_, k) => (k in params ? String(params[k]) : `{${k}}`));

const $ = (id) => document.getElementById(id);
const form = $("video-form");
const model = $("video-model");
const duration = $("video-duration");
const ratio = $("video-ratio");
const list = $("videos");
const errorBox = $("video-error");
const following = new Map(); // job id → EventSource
const PHASE_SHARE = { started: 2, queued: 5, running: 10, storing: 92 }; // % of the bar per step

function syncOptions() {
  const option = model.options[model.selectedIndex];
  const durations = option.dataset.durations.split(",");
  duration.replaceChildren(...durations.map((s) => new Option(tr("{seconds} s", { seconds: formatNumber(Number(s)) }), s)));
  duration.value = option.dataset.defaultDuration;
  const previous = ratio.value;
  ratio.replaceChildren(...option.dataset.ratios.split(",").map((r) => new Option(r, r)));
  if ([...ratio.options].some((o) => o.value === previous)) ratio.value = previous;
}

async function showQuota() {
  try {
    const videos = (await fetchUsage()).find((entry) => entry.unit === "videos");
    if (videos) $("studio-quota").textContent = tr("Videos left: {remaining}", { remaining: formatNumber(videos.remaining) });
  } catch {
    /* the banner covers errors */
  }
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function card(video) {
  const item = document.createElement("li");
  item.className = "card video-card";
  item.dataset.videoId = video.id;
  item.dataset.status = video.status;
  const prompt = document.createElement("p");
  prompt.className = "video-prompt";
  prompt.dir = "auto";
  prompt.textContent = video.prompt;
  item.append(prompt);
  if (video.status === "succeeded") {
    const player = document.createElement("video");
    player.controls = true;
    player.preload = "metadata";
    player.poster = video.poster_url;
    player.src = video.url;
    player.dataset.testid = "player";
    const row = document.createElement("div");
    row.className = "studio-row";
    const download = document.createElement("a");
    download.className = "button button-small";
    download.href = video.download_url;
    download.textContent = tr("Download");
    download.setAttribute("download", "");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button button-small button-secondary";
    remove.textContent = tr("Delete");
    remove.addEventListener("click", async () => {
      if (!window.confirm(tr("Delete this video?"))) return;
      await api(`/v1/videos/${video.id}`, { method: "DELETE" });
      item.remove();
    });
    row.append(download, remove);
    item.prepend(player);
    item.append(row);
  } else if (video.status === "failed" || video.status === "cancelled") {
    const error = document.createElement("p");
    error.className = "field-error";
    error.textContent = video.error?.message || tr("Something went wrong on our side. Please try again.");
    item.append(error);
  } else {
    const bar = document.createElement("progress");
    bar.className = "video-progress";
    bar.max = 100;
    bar.value = 1;
    bar.dataset.testid = "video-progress";
    const label = document.createElement("p");
    label.className = "muted";
    label.setAttribute("role", "status");
    label.textContent = tr("Starting…");
    const stop = document.createElement("button");
    stop.type = "button";
    stop.className = "button button-small button-secondary";
    stop.textContent = tr("Cancel");
    stop.addEventListener("click", () => api(`/v1/jobs/${video.id}/cancel`, { method: "POST" }).catch(() => {}));
    item.append(bar, label, stop);
    follow(video, bar, label);
  }
  return item;
}

async function refresh(videoId) {
  following.get(videoId)?.close();
  following.delete(videoId);
  const video = await api(`/v1/videos/${videoId}`);
  list.querySelector(`[data-video-id="${videoId}"]`)?.replaceWith(card(video));
  showQuota();
}

function follow(video, bar, label) {
  if (following.has(video.id)) return;
  const events = new EventSource(video.events_url);
  following.set(video.id, events);
  events.addEventListener("step", (event) => {
    const data = JSON.parse(event.data);
    label.textContent = I18N.steps?.[data.step] || label.textContent;
    bar.value = Math.max(bar.value, PHASE_SHARE[data.step] ?? bar.value);
  });
  events.addEventListener("progress", (event) => {
    const data = JSON.parse(event.data);
    if (data.step === "running" && data.total) bar.value = Math.max(bar.value, 10 + (80 * data.done) / data.total);
  });
  events.addEventListener("done", () => refresh(video.id));
  events.addEventListener("error", (event) => {
    if (!event.data) return; // a dropped connection: EventSource reconnects with Last-Event-ID
    refresh(video.id);
  });
}

async function loadVideos() {
  const page = await api("/v1/videos");
  list.replaceChildren(...page.videos.map(card));
  $("videos-empty").textContent = tr("No videos yet. Describe a scene above to make your first one.");
  $("videos-empty").hidden = page.videos.length > 0;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const prompt = $("video-prompt").value.trim();
  if (!prompt) {
    $("video-prompt").focus();
    return;
  }
  $("video-submit").disabled = true;
  try {
    const body = { prompt, model: model.value, duration: Number(duration.value), aspect_ratio: ratio.value };
    const created = await api("/v1/videos", { method: "POST", body });
    const video = await api(`/v1/videos/${created.job_id}`);
    list.prepend(card(video));
    $("videos-empty").hidden = true;
    showQuota();
  } catch (error) {
    showError(error instanceof ApiError && error.body?.message ? error.body.message : tr("Something went wrong on our side. Please try again."));
  } finally {
    $("video-submit").disabled = false;
  }
});

export function start() {
  model.addEventListener("change", syncOptions);
  syncOptions();
  showQuota();
  loadVideos().catch(() => showError(tr("Something went wrong on our side. Please try again.")));
}
