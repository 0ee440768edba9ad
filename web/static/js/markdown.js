// Replies are Markdown rendered and sanitized on the server (nh3), never in the browser.

import { api } from "./api.js";

export async function renderMarkdown(text) {
  const body = await api("/web/markdown", { method: "POST", body: { text } });
  return body.html;
}
