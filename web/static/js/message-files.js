// The files a chat message carried, under the message: a thumbnail for an image, a chip naming
// any file; both open the file through GET /v1/files/{id}/content, which answers with a fresh
// short-lived signed link (S3 or our own), so a reloaded page's links never go stale.

import { t } from "./i18n.js";

function contentUrl(file) {
  return file.content_url || `/v1/files/${file.id}/content`;
}

function fileLink(file) {
  const link = document.createElement("a");
  link.className = "message-file";
  link.dataset.testid = "message-file";
  link.href = `${contentUrl(file)}?inline=1`;
  link.target = "_blank";
  link.rel = "noopener";
  link.title = file.name;
  const type = file.content_type || file.type || "";
  if (type.startsWith("image/")) {
    const thumb = document.createElement("img");
    thumb.className = "message-file-thumb";
    thumb.src = `${contentUrl(file)}?inline=1`;
    thumb.alt = t("Attached image: {name}", { name: file.name });
    thumb.loading = "lazy";
    link.append(thumb);
  } else {
    const badge = document.createElement("span");
    badge.className = "message-file-type";
    badge.textContent = (file.name.split(".").pop() || "?").slice(0, 4).toUpperCase();
    link.append(badge);
  }
  const name = document.createElement("span");
  name.className = "message-file-name";
  name.dir = "auto";
  name.textContent = file.name;
  link.append(name);
  return link;
}

/** Show ``files`` ({id, name, content_type|type, content_url?}) under ``messageItem``. */
export function showFiles(messageItem, files) {
  if (!messageItem || !files?.length) return;
  const list = document.createElement("div");
  list.className = "message-files";
  list.dataset.testid = "message-files";
  list.setAttribute("aria-label", t("Attachments"));
  for (const file of files) list.append(fileLink(file));
  messageItem.querySelector(".message-body").after(list);
}
