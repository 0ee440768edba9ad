// Account page: "Download your data". POST /v1/account/export starts the export job (one job
// pipeline: its state on GET /v1/jobs/{id}); the page polls it, then offers /account/export/{id},
// which hands out a fresh short-lived signed link. The newest export is shown on load.

import { api } from "./api.js";
import { formatWhen } from "./i18n.js";

const POLL_MS = 1500;
const KEEP_MS = 7 * 24 * 3600 * 1000;

function show(section, job) {
  const status = document.getElementById("export-status");
  const link = document.getElementById("export-download");
  const button = document.getElementById("export-start");
  const running = job.status === "pending" || job.status === "running";
  button.disabled = running;
  link.hidden = job.status !== "succeeded";
  status.classList.toggle("field-error", job.status === "failed" || job.status === "cancelled");
  if (running) status.textContent = section.dataset.preparing;
  else if (job.status === "succeeded") {
    link.href = `/account/export/${job.id ?? job.job_id}`;
    status.textContent = section.dataset.ready.replace("{date}", formatWhen(job.updated_at || new Date().toISOString()));
  } else status.textContent = job.error?.message || section.dataset.failed;
  return running;
}

async function follow(section, jobId) {
  for (;;) {
    const job = await api(`/v1/jobs/${jobId}`);
    if (!show(section, job)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function wireExport() {
  const section = document.querySelector("[data-testid=data-export]");
  if (!section) return;
  const status = document.getElementById("export-status");
  const button = document.getElementById("export-start");
  button.addEventListener("click", async (event) => {
    event.target.disabled = true;
    try {
      const started = await api("/v1/account/export", { method: "POST" });
      show(section, started);
      await follow(section, started.job_id);
    } catch (failure) {
      status.textContent = failure.message;
      status.classList.add("field-error");
      event.target.disabled = false;
    }
  });
  button.disabled = false; // disabled in the page until this handler is wired: no dead click
  const [latest] = await api("/v1/jobs?kind=export&limit=1");
  if (!latest) return;
  const kept = latest.status !== "succeeded" || Date.now() - Date.parse(latest.updated_at) < KEEP_MS;
  if (kept && latest.outputs !== undefined && (latest.status !== "succeeded" || latest.outputs.length)) {
    if (show(section, latest)) await follow(section, latest.id);
  }
}
