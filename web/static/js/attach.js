// Attachments on the chat page: an attach button and drag-and-drop onto the conversation, one
// row per file with a thumbnail, an upload progress bar and the scan status, errors in the
// page's language. The chat module asks for the ready file ids when it sends a turn.
//
// Upload = POST /v1/files (checks type, size, storage) → POST the presigned form straight to
// storage (S3, or our API with the local backend) → POST /v1/files/{id}/complete → the scan
// job's events until the file is ready or rejected.

import { api, ApiError } from "./api.js";
import { formatNumber, t } from "./i18n.js";

const ACCEPT = "image/png,image/jpeg,image/webp,image/gif,application/pdf,.docx,text/plain,.md,.csv";
const TYPE_BY_EXTENSION = {
  md: "text/markdown",
  csv: "text/csv",
  txt: "text/plain",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};
const items = new Map(); // local id → {file, row, status, fileId, error}
let tray;
let sequence = 0;

function stylesheet() {
  if (document.querySelector('link[href="/static/css/attach.css"]')) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/css/attach.css";
  document.head.append(link);
}

function contentType(file) {
  if (file.type) return file.type;
  const extension = file.name.split(".").pop().toLowerCase();
  return TYPE_BY_EXTENSION[extension] || "application/octet-stream";
}

function sizeLabel(bytes) {
  if (bytes >= 1024 * 1024) return t("{size} MB", { size: formatNumber(Math.round((bytes / 1048576) * 10) / 10) });
  return t("{size} KB", { size: formatNumber(Math.max(1, Math.round(bytes / 1024))) });
}

function renderRow(item) {
  const row = document.createElement("li");
  row.className = "attachment";
  row.dataset.testid = "attachment";
  const thumb = document.createElement(item.file.type.startsWith("image/") ? "img" : "span");
  thumb.className = "attachment-thumb";
  if (thumb.tagName === "IMG") {
    thumb.src = URL.createObjectURL(item.file);
    thumb.alt = "";
  } else {
    thumb.textContent = (item.file.name.split(".").pop() || "?").slice(0, 4).toUpperCase();
  }
  const name = document.createElement("span");
  name.className = "attachment-name";
  name.dir = "auto";
  name.textContent = item.file.name;
  const meta = document.createElement("span");
  meta.className = "attachment-status";
  meta.setAttribute("aria-live", "polite");
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.className = "attachment-progress";
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "button button-small button-secondary attachment-remove";
  remove.textContent = t("Remove");
  remove.setAttribute("aria-label", `${t("Remove")} ${item.file.name}`);
  remove.addEventListener("click", () => {
    items.delete(item.id);
    row.remove();
    changed();
  });
  row.append(thumb, name, meta, bar, remove);
  item.row = row;
  item.meta = meta;
  item.bar = bar;
  return row;
}

function setStatus(item, status, text) {
  item.status = status;
  item.row.dataset.status = status;
  item.meta.textContent = text;
  item.bar.hidden = !["uploading", "scanning"].includes(status);
  if (status === "scanning") item.bar.removeAttribute("value");
  changed();
}

function changed() {
  document.dispatchEvent(new CustomEvent("pulse:attachments-changed", { detail: { busy: busy() } }));
}

export function postForm(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", upload.url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(new Error(t("The upload failed. Please try again.")));
    });
    request.addEventListener("error", () => reject(new Error(t("The upload failed. Please try again."))));
    request.send(form);
  });
}

async function waitForScan(item, fileId) {
  for (let delay = 300; ; delay = Math.min(delay * 1.5, 2000)) {
    const current = await api(`/v1/files/${fileId}`);
    if (current.status === "ready") return setStatus(item, "ready", t("Ready"));
    if (current.status === "rejected") {
      item.error = current.reason?.message || t("This file was refused.");
      return setStatus(item, "rejected", item.error);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function uploadOne(item) {
  setStatus(item, "uploading", t("Uploading…"));
  try {
    const created = await api("/v1/files", {
      method: "POST",
      body: { name: item.file.name, content_type: contentType(item.file), size: item.file.size, purpose: "chat" },
    });
    item.fileId = created.file_id;
    await postForm(created.upload, item.file, (percent) => {
      item.bar.value = percent;
      item.meta.textContent = t("Uploading… {percent}%", { percent: formatNumber(percent) });
    });
    setStatus(item, "scanning", t("Checking for viruses…"));
    await api(`/v1/files/${created.file_id}/complete`, { method: "POST" });
    await waitForScan(item, created.file_id);
  } catch (error) {
    item.error = error instanceof ApiError || error instanceof Error ? error.message : String(error);
    setStatus(item, "rejected", item.error);
  }
}

export function addFiles(fileList) {
  for (const file of fileList) {
    const item = { id: ++sequence, file, status: "new" };
    items.set(item.id, item);
    tray.append(renderRow(item));
    tray.hidden = false;
    uploadOne(item);
  }
}

/** Uploads or scans still running (the chat waits before sending). */
export function busy() {
  return [...items.values()].some((item) => ["new", "uploading", "scanning"].includes(item.status));
}

/** Ready files to send with the next turn; they leave the tray once sent. */
export function takeReady() {
  const ready = [...items.values()].filter((item) => item.status === "ready");
  for (const item of ready) {
    items.delete(item.id);
    item.row.remove();
  }
  tray.hidden = items.size === 0;
  return ready.map((item) => ({ id: item.fileId, name: item.file.name, content_type: contentType(item.file) }));
}

/** Put the attach button and tray into the composer; make ``dropZone`` accept dropped files. */
export function wireAttachments(composer, dropZone) {
  stylesheet();
  tray = document.createElement("ul");
  tray.className = "attachment-tray";
  tray.id = "attachment-tray";
  tray.hidden = true;
  tray.setAttribute("aria-label", t("Attachments"));
  const input = document.createElement("input");
  input.type = "file";
  input.multiple = true;
  input.accept = ACCEPT;
  input.hidden = true;
  input.id = "composer-files";
  const button = document.createElement("button");
  button.type = "button";
  button.id = "composer-attach";
  button.className = "button button-secondary";
  button.textContent = t("Attach");
  button.setAttribute("aria-label", t("Attach files"));
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = "";
  });
  composer.prepend(tray);
  const actions = composer.querySelector(".composer-actions") || composer;
  actions.prepend(button, input);
  dropZone.addEventListener("dragover", (event) => {
    if (![...event.dataTransfer.types].includes("Files")) return;
    event.preventDefault();
    dropZone.classList.add("drop-target");
  });
  dropZone.addEventListener("dragleave", (event) => {
    if (!dropZone.contains(event.relatedTarget)) dropZone.classList.remove("drop-target");
  });
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("drop-target");
    if (event.dataTransfer.files.length) addFiles(event.dataTransfer.files);
  });
}
