// The CV page: open one of the person's CVs (or a new one), the guided steps, save (POST then
// PUT /v1/cv), version history with restore, duplicate as English/Arabic (an AI translation
// saved as a new CV), the photo (uploaded and scanned through /v1/files), AI suggestions shown
// for accept/reject, and the render through the job API with a page-1 preview and the download.

import { api } from "./api.js";
import { postForm } from "./attach.js";
import { renderLists, renderSections } from "./cv-entries.js";
import { formatWhen, locale as pageLocale } from "./i18n.js";

const el = (id) => document.getElementById(id);
const form = el("cv-form");
const data = JSON.parse(el("cv-strings").textContent);
const t = (msgid, params = {}) =>
  (data.t[msgid] ?? msgid).replace(/\{(\w+)\}/g, (_, k) => (k in params ? String(params[k]) : `{${k}}`));
const steps = [...form.querySelectorAll("fieldset[data-step]")];
const BASICS = ["name", "label", "email", "phone", "summary"];
const LISTS = ["work", "volunteer", "education", "awards", "certificates", "skills", "languages", "projects", "references"];
let step = 0;
let cvId = null;
let version = null;
let doc;

function blank(cvLocale) {
  const empty = Object.fromEntries(LISTS.map((name) => [name, []]));
  return {
    locale: cvLocale, title: "", photo_file_id: "", basics: { location: {}, profiles: [] }, ...empty,
    layout: { template: "ats", paper: "A4", digits: "latin", bilingual_headings: false, tagged: false, order: [...data.sections], hidden: [] },
  };
}

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

function status(text) { el("cv-status").textContent = text || ""; }
function fail(error) {
  el("cv-error").textContent = error?.message || t("We could not make the PDF. Please try again.");
  el("cv-error").hidden = false;
  status("");
}
function guarded(work) {
  return async (event) => {
    event?.preventDefault();
    el("cv-error").hidden = true;
    try { await work(event); } catch (error) { fail(error); }
  };
}

const ui = { t, headings: data.headings, fluency: data.fluency, entryTools };

function fill() {
  for (const name of BASICS) form.elements[name].value = doc.basics[name] || "";
  form.elements.city.value = doc.basics.location?.city || "";
  form.elements.template.value = doc.layout.template;
  form.elements.paper.value = doc.layout.paper;
  form.elements.digits.value = doc.layout.digits;
  form.elements.bilingual.checked = doc.layout.bilingual_headings;
  form.elements.tagged.checked = Boolean(doc.layout.tagged);
  const other = doc.locale === "ar" ? "Duplicate as English" : "Duplicate as Arabic";
  el("cv-duplicate").textContent = t(other);
  el("cv-duplicate").hidden = !cvId;
  showPhoto();
  el("cv-preview").hidden = true; // a preview of another CV or version would mislead
  renderLists(doc, ui);
  renderSections(doc, ui, el("cv-sections"));
}

function collect() {
  for (const name of BASICS) doc.basics[name] = form.elements[name].value.trim();
  doc.basics.location = { ...doc.basics.location, city: form.elements.city.value.trim() };
  Object.assign(doc.layout, {
    template: form.elements.template.value, paper: form.elements.paper.value,
    digits: form.elements.digits.value, bilingual_headings: form.elements.bilingual.checked,
    tagged: form.elements.tagged.checked,
  });
  return doc;
}

async function save() {
  status(t("Saving…"));
  const saved = cvId
    ? await api(`/v1/cv/${cvId}`, { method: "PUT", body: collect() })
    : await api("/v1/cv", { method: "POST", body: collect() });
  const first = !cvId;
  cvId = saved.id;
  version = saved.version;
  el("cv-duplicate").hidden = false;
  await Promise.all([first ? refreshPicker() : null, refreshVersions()]);
  return saved;
}

async function open(id) {
  const record = await api(`/v1/cv/${id}`);
  cvId = record.id;
  version = record.version;
  doc = record.content;
  fill();
  await Promise.all([refreshPicker(), refreshVersions()]);
}

async function refreshPicker() {
  const cvs = await api("/v1/cv");
  const picker = el("cv-picker");
  picker.replaceChildren(
    ...cvs.map((cv) => new Option(`${cv.title || t("Untitled CV")} · ${cv.locale === "ar" ? "ع" : "EN"}`, cv.id)),
    new Option(t("New CV"), ""),
  );
  picker.value = cvId || "";
  return cvs;
}

async function refreshVersions() {
  const history = el("cv-history");
  history.hidden = !cvId;
  if (!cvId) return;
  const rows = await api(`/v1/cv/${cvId}/versions`);
  el("cv-versions").replaceChildren(...rows.map((row) => {
    const li = document.createElement("li");
    li.dataset.version = String(row.version);
    li.append(`${t("Version {version}", { version: row.version })} · ${formatWhen(row.created_at)}`);
    if (row.version === version) li.append(` (${t("current")})`);
    else {
      const restore = document.createElement("button");
      Object.assign(restore, { type: "button", className: "button button-small button-secondary", textContent: t("Restore") });
      restore.ariaLabel = `${t("Restore")} · ${t("Version {version}", { version: row.version })}`;
      restore.addEventListener("click", guarded(() => restoreVersion(row.version)));
      li.append(" ", restore);
    }
    return li;
  }));
}

async function restoreVersion(number) {
  const old = await api(`/v1/cv/${cvId}?version=${number}`);
  doc = old.content;
  const saved = await api(`/v1/cv/${cvId}`, { method: "PUT", body: doc });
  version = saved.version;
  fill();
  await refreshVersions();
  status(t("Restored version {version} as a new version.", { version: number }));
}

async function finished(jobId) {
  for (;;) {
    const job = await api(`/v1/jobs/${jobId}`);
    if (!["pending", "running"].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 600));
  }
}

async function runJob(path, body) {
  const started = await api(path, { method: "POST", body });
  const job = await finished(started.job_id);
  if (job.status !== "succeeded") throw new Error(job.error?.message || t("We could not make the PDF. Please try again."));
  return job;
}

const outputUrl = (job, name) => job.outputs.find((o) => o.name === name).url;

async function assist(body) {
  await save();
  status(t("Writing suggestions…"));
  const job = await runJob(`/v1/cv/${cvId}/assist`, body);
  const suggestion = await (await fetch(outputUrl(job, "suggestion.json"), { credentials: "same-origin" })).json();
  status("");
  return suggestion;
}

/** Show ``lines`` under ``anchor`` with "Use these" / "Keep mine"; ``accept`` applies them. */
function offer(anchor, lines, accept) {
  el("cv-suggestion")?.remove();
  const box = document.createElement("div");
  Object.assign(box, { id: "cv-suggestion", className: "cv-suggestion" });
  box.setAttribute("aria-live", "polite");
  const list = document.createElement("ul");
  list.append(...lines.map((text) => Object.assign(document.createElement("li"), { dir: "auto", textContent: text })));
  const use = Object.assign(document.createElement("button"), { type: "button", className: "button", textContent: t("Use these") });
  const keep = Object.assign(document.createElement("button"), {
    type: "button", className: "button button-secondary", textContent: t("Keep mine"),
  });
  use.addEventListener("click", () => { accept(); box.remove(); });
  keep.addEventListener("click", () => box.remove());
  box.append(list, use, " ", keep);
  anchor.after(box);
}

function entryTools(section, index, tools, named) {
  if (section !== "work") return;
  const draft = Object.assign(document.createElement("button"), {
    type: "button", className: "button button-small", textContent: t("Draft with AI"), ...named(t("Draft with AI")),
  });
  draft.addEventListener("click", guarded(async () => {
    const role = doc.work[index];
    const suggestion = await assist({ action: "draft_bullets", work_index: index, notes: (role.highlights || []).join("\n") });
    offer(tools, suggestion.bullets, () => { role.highlights = suggestion.bullets; renderLists(doc, ui); });
  }));
  tools.append(draft);
}

async function summaryAssist(action, anchor) {
  const suggestion = await assist({ action, notes: form.elements.summary.value });
  offer(anchor, [suggestion.text], () => { form.elements.summary.value = suggestion.text; });
}

async function tailor(event) {
  const suggestion = await assist({ action: "tailor", job_description: form.elements.job_description.value });
  const lines = [`${t("Summary:")} ${suggestion.summary}`,
    ...suggestion.roles.flatMap((role) => role.bullets.map((b) => `${doc.work[role.index]?.position || ""}: ${b}`)),
    `${t("Skills:")} ${suggestion.skills.join("، ")}`];
  offer(event.target, lines, () => {
    doc.basics.summary = suggestion.summary;
    form.elements.summary.value = suggestion.summary;
    for (const role of suggestion.roles) if (doc.work[role.index]) doc.work[role.index].highlights = role.bullets;
    const known = new Map(doc.skills.map((skill) => [skill.name, skill]));
    doc.skills = suggestion.skills.map((name) => known.get(name) || { name });
    renderLists(doc, ui);
  });
}

async function duplicate() {
  await save();
  const target = doc.locale === "ar" ? "en" : "ar";
  status(t("Translating a copy…"));
  const job = await runJob(`/v1/cv/${cvId}/assist`, { action: "translate", target_locale: target });
  const suggestion = await (await fetch(outputUrl(job, "suggestion.json"), { credentials: "same-origin" })).json();
  const created = await api("/v1/cv", { method: "POST", body: suggestion.content });
  await open(created.id);
  const done = target === "en" ? "Your English copy is open. The original is unchanged."
    : "Your Arabic copy is open. The original is unchanged.";
  const parts = [...new Set((suggestion.review || []).map((path) => {
    const [section, position] = path.split(".");
    return data.headings[section] ? `${data.headings[section]} ${Number(position) + 1 || ""}`.trim() : data.headings.summary;
  }))];
  status(parts.length ? `${t(done)} ${t("Please check these parts of the translation: {parts}", { parts: parts.join("، ") })}` : t(done));
}

function showPhoto() {
  const preview = el("cv-photo-preview");
  const id = doc.photo_file_id;
  preview.hidden = !id;
  el("cv-photo-remove").hidden = !id;
  if (id) preview.src = `/v1/files/${id}/content?inline=true`;
  else preview.removeAttribute("src");
}

async function uploadPhoto() {
  const file = el("cv-photo").files[0];
  if (!file) return;
  const note = el("cv-photo-status");
  note.textContent = t("Uploading the photo…");
  const created = await api("/v1/files", {
    method: "POST", body: { name: file.name, content_type: file.type, size: file.size, purpose: "cv_photo" },
  });
  await postForm(created.upload, file, () => {});
  note.textContent = t("Checking the photo…");
  await api(`/v1/files/${created.file_id}/complete`, { method: "POST" });
  for (let delay = 300; ; delay = Math.min(delay * 1.5, 2000)) {
    const current = await api(`/v1/files/${created.file_id}`);
    if (current.status === "rejected") throw new Error(current.reason?.message);
    if (current.status === "ready") break;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  doc.photo_file_id = created.file_id;
  el("cv-photo").value = "";
  showPhoto();
  note.textContent = t("The photo is ready.");
}

async function render() {
  await save();
  status(t("Making your PDF…"));
  const job = await runJob(`/v1/cv/${cvId}/render`, {});
  el("cv-thumb").src = outputUrl(job, "page-1.png");
  el("cv-download").href = outputUrl(job, "cv.pdf");
  el("cv-preview").hidden = false;
  status(t("Your PDF is ready."));
}

el("cv-next").addEventListener("click", () => show(step + 1));
el("cv-prev").addEventListener("click", () => show(step - 1));
el("cv-save").addEventListener("click", guarded(async () => { await save(); status(t("Saved.")); }));
el("cv-draft-summary").addEventListener("click", guarded((e) => summaryAssist("draft_summary", e.target.parentElement)));
el("cv-polish-summary").addEventListener("click", guarded((e) => summaryAssist("polish_summary", e.target.parentElement)));
el("cv-tailor").addEventListener("click", guarded(tailor));
el("cv-duplicate").addEventListener("click", guarded(duplicate));
el("cv-photo").addEventListener("change", guarded(uploadPhoto));
el("cv-photo-remove").addEventListener("click", () => { doc.photo_file_id = ""; showPhoto(); });
el("cv-picker").addEventListener("change", guarded(async () => {
  const id = el("cv-picker").value;
  if (id) return open(id);
  cvId = null;
  version = null;
  doc = blank(pageLocale);
  fill();
  await refreshVersions();
}));
form.addEventListener("submit", guarded(render));

doc = blank(pageLocale);
fill();
show(0);
guarded(async () => {
  const cvs = await refreshPicker();
  if (cvs.length) await open(cvs[0].id);
})();
