// The CV page: guided steps, save (POST then PUT /v1/cv), render through the job API with a
// page-1 preview and the PDF download, and "Draft with AI" bullets shown for accept/reject.

import { api } from "./api.js";
import { locale } from "./i18n.js";

const el = (id) => document.getElementById(id);
const form = el("cv-form");
const strings = JSON.parse(el("cv-strings").textContent);
const steps = [...form.querySelectorAll("fieldset[data-step]")];
let step = 0;
let cvId = null;
let version = null;

function show(index) {
  step = Math.max(0, Math.min(steps.length - 1, index));
  steps.forEach((fieldset, i) => { fieldset.hidden = i !== step; });
  document.querySelectorAll("[data-step-tab]").forEach((tab) => {
    if (Number(tab.dataset.stepTab) === step) tab.setAttribute("aria-current", "step");
    else tab.removeAttribute("aria-current");
  });
  el("cv-prev").hidden = step === 0;
  el("cv-next").hidden = step === steps.length - 1;
}

const value = (name) => form.elements[name].value.trim();
const list = (text, sep) => text.split(sep).map((s) => s.trim()).filter(Boolean);

function content() {
  const work = value("position") || value("company") ? [{
    position: value("position"), name: value("company"), startDate: value("start"),
    endDate: value("end"), highlights: list(value("highlights"), "\n"),
  }] : [];
  const education = value("institution") ? [{
    institution: value("institution"), studyType: value("degree"), area: value("area"),
    startDate: value("edu_start"), endDate: value("edu_end"),
  }] : [];
  return {
    locale,
    basics: {
      name: value("name"), label: value("label"), email: value("email"), phone: value("phone"),
      summary: value("summary"), location: { city: value("city") },
    },
    work, education,
    skills: list(value("skills"), /[,،]/).map((name) => ({ name })),
    languages: list(value("languages"), /[,،]/).map((language) => ({ language })),
    layout: {
      template: value("template"), paper: value("paper"), digits: value("digits"),
      bilingual_headings: form.elements.bilingual.checked,
    },
  };
}

function status(text) { el("cv-status").textContent = text || ""; }
function fail(error) {
  el("cv-error").textContent = error?.message || strings.failed;
  el("cv-error").hidden = false;
  status("");
}

async function save() {
  status(strings.saving);
  const body = content();
  const saved = cvId
    ? await api(`/v1/cv/${cvId}`, { method: "PUT", body })
    : await api("/v1/cv", { method: "POST", body });
  cvId = saved.id;
  version = saved.version;
  return saved;
}

async function finished(jobId) {
  for (;;) {
    const job = await api(`/v1/jobs/${jobId}`);
    if (!["pending", "running"].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 600));
  }
}

async function render(event) {
  event.preventDefault();
  el("cv-error").hidden = true;
  try {
    await save();
    status(strings.rendering);
    const started = await api(`/v1/cv/${cvId}/render`, { method: "POST", body: {} });
    const job = await finished(started.job_id);
    if (job.status !== "succeeded") throw new Error(job.error?.message || strings.failed);
    const output = (name) => job.outputs.find((o) => o.name === name);
    el("cv-thumb").src = output("page-1.png").url;
    el("cv-download").href = output("cv.pdf").url;
    el("cv-preview").hidden = false;
    status(strings.ready);
  } catch (error) {
    fail(error);
  }
}

let suggested = [];
async function draftBullets() {
  el("cv-error").hidden = true;
  try {
    await save();
    status(strings.drafting);
    const started = await api(`/v1/cv/${cvId}/assist`, {
      method: "POST", body: { action: "draft_bullets", work_index: 0, notes: value("highlights") },
    });
    const job = await finished(started.job_id);
    if (job.status !== "succeeded") throw new Error(job.error?.message || strings.failed);
    const file = job.outputs.find((o) => o.name === "suggestion.json");
    const suggestion = await (await fetch(file.url, { credentials: "same-origin" })).json();
    suggested = suggestion.bullets;
    const ul = el("cv-suggestion-list");
    ul.replaceChildren(...suggested.map((text) => {
      const li = document.createElement("li");
      li.dir = "auto";
      li.textContent = text;
      return li;
    }));
    el("cv-suggestion").hidden = false;
    status("");
  } catch (error) {
    fail(error);
  }
}

el("cv-next").addEventListener("click", () => show(step + 1));
el("cv-prev").addEventListener("click", () => show(step - 1));
el("cv-draft-bullets").addEventListener("click", draftBullets);
el("cv-accept").addEventListener("click", () => {
  form.elements.highlights.value = suggested.join("\n");
  el("cv-suggestion").hidden = true;
});
el("cv-reject").addEventListener("click", () => { el("cv-suggestion").hidden = true; });
form.addEventListener("submit", render);
show(0);
