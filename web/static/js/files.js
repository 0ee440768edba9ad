// "My files": the person's uploads with size, scan status (and why a file was refused),
// download links and delete.

import { api } from "./api.js";
import { formatNumber, formatWhen, t } from "./i18n.js";

const el = (id) => document.getElementById(id);
const statuses = JSON.parse(el("file-statuses")?.textContent || "{}");

function megabytes(bytes) {
  return formatNumber(Math.round((bytes / 1048576) * 10) / 10);
}

function size(bytes) {
  if (bytes >= 1024 * 1024) return t("{size} MB", { size: megabytes(bytes) });
  const kilobytes = bytes > 0 ? Math.max(1, Math.round(bytes / 1024)) : 0; // nothing stored reads 0, not 1
  return t("{size} KB", { size: formatNumber(kilobytes) });
}

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

function row(file) {
  const tr = document.createElement("tr");
  tr.dataset.fileId = file.id;
  tr.dataset.testid = "file-row";
  const name = cell(file.name, "file-name");
  name.dir = "auto";
  const status = cell(statuses[file.status] || file.status, "file-status");
  status.dataset.status = file.status;
  if (file.reason) status.textContent = `${status.textContent}: ${file.reason.message}`;
  const actions = document.createElement("td");
  actions.className = "file-actions";
  if (file.content_url) {
    const link = document.createElement("a");
    link.href = file.content_url;
    link.className = "button button-small button-secondary";
    link.textContent = t("Download");
    actions.append(link, " ");
  }
  if (file.status !== "scanning") {
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button button-small button-secondary";
    remove.textContent = t("Delete");
    remove.dataset.action = "delete";
    remove.addEventListener("click", () => removeFile(file));
    actions.append(remove);
  }
  tr.append(name, cell(size(file.size)), status, cell(formatWhen(file.created_at)), actions);
  return tr;
}

async function removeFile(file) {
  if (!window.confirm(t("Delete this file?"))) return;
  try {
    await api(`/v1/files/${file.id}`, { method: "DELETE" });
    await load();
  } catch (error) {
    el("files-error").textContent = error.message;
    el("files-error").hidden = false;
  }
}

async function load() {
  const [files, usage] = await Promise.all([api("/v1/files"), api("/v1/files/usage")]);
  el("storage-meter").textContent = t("{used} of {limit} used", {
    used: size(usage.used_bytes),
    limit: t("{size} MB", { size: megabytes(usage.limit_bytes) }),
  });
  el("files-body").replaceChildren(...files.map(row));
  el("files-table").hidden = files.length === 0;
  el("files-empty").hidden = files.length > 0;
}

export function start({ signedIn }) {
  if (!signedIn) return;
  load().catch((error) => {
    el("files-error").textContent = error.message;
    el("files-error").hidden = false;
  });
}
