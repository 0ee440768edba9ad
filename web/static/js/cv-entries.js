// The CV page's editors: one list per section (add, remove, move up/down every entry) and the
// section order/visibility list. They edit the CV document in place; a field nobody touches
// keeps its stored value (a "2021" date stays "2021").

const DATE = "^\\d{4}(-\\d{2}(-\\d{2})?)?$";

// [key, label msgid, kind]; kinds: text (default), url, date, textarea, lines, commas, level, fluency
export const FIELDS = {
  work: [["position", "Position"], ["name", "Company"], ["location", "Location"], ["startDate", "From", "date"],
    ["endDate", "To (empty: present)", "date"], ["highlights", "Achievements (one per line)", "lines"]],
  projects: [["name", "Name"], ["description", "Description", "textarea"], ["startDate", "From", "date"],
    ["endDate", "To (empty: present)", "date"], ["url", "Link", "url"],
    ["highlights", "Achievements (one per line)", "lines"]],
  volunteer: [["position", "Position"], ["organization", "Organization"], ["startDate", "From", "date"],
    ["endDate", "To (empty: present)", "date"], ["highlights", "Achievements (one per line)", "lines"]],
  education: [["institution", "Institution"], ["studyType", "Degree"], ["area", "Field of study"],
    ["startDate", "From", "date"], ["endDate", "To (empty: present)", "date"], ["score", "Grade"],
    ["courses", "Courses (one per line)", "lines"]],
  certificates: [["name", "Name"], ["issuer", "Issuer"], ["date", "Date", "date"], ["url", "Link", "url"]],
  awards: [["title", "Title"], ["awarder", "Awarded by"], ["date", "Date", "date"],
    ["summary", "Description", "textarea"]],
  skills: [["name", "Skill"], ["level", "Level", "level"], ["keywords", "Keywords (separated by commas)", "commas"]],
  languages: [["language", "Language"], ["fluency", "Fluency", "fluency"]],
  references: [["name", "Name"], ["reference", "What they can say about you", "textarea"]],
};

function node(tag, props = {}, ...children) {
  const element = Object.assign(document.createElement(tag), props);
  element.append(...children);
  return element;
}

function button(text, onClick, extra = {}) {
  const b = node("button", { type: "button", className: "button button-small button-secondary", ...extra }, text);
  b.addEventListener("click", onClick);
  return b;
}

function move(list, from, to) {
  if (to < 0 || to >= list.length) return;
  const [item] = list.splice(from, 1);
  list.splice(to, 0, item);
}

function options(select, pairs, current) {
  for (const [value, text] of pairs) select.append(node("option", { value, textContent: text }));
  select.value = current == null ? "" : String(current);
}

// A control for one field, and how to read it back into the entry.
function control(kind, value, ui) {
  if (kind === "level") {
    const select = node("select");
    // the words the PDF prints after the skill (core/cv/text.py SKILL_LEVELS)
    const words = ["Beginner", "Elementary", "Intermediate", "Advanced", "Expert"];
    options(select, [["", "—"], ...words.map((word, i) => [String(i + 1), `${i + 1} · ${ui.t(word)}`])], value);
    return [select, () => (select.value ? Number(select.value) : null)];
  }
  if (kind === "fluency") {
    const select = node("select");
    options(select, [["", "—"], ...Object.entries(ui.fluency)], value);
    return [select, () => select.value || null];
  }
  if (kind === "lines" || kind === "textarea") {
    const area = node("textarea", { rows: kind === "lines" ? 4 : 3, dir: "auto" });
    area.value = kind === "lines" ? (value || []).join("\n") : value || "";
    const read = kind === "lines" ? () => area.value.split("\n").map((s) => s.trim()).filter(Boolean) : () => area.value;
    return [area, read];
  }
  const input = node("input", { dir: kind === "date" || kind === "url" ? "ltr" : "auto" });
  if (kind === "date") Object.assign(input, { pattern: DATE, inputMode: "numeric" });
  if (kind === "url") input.type = "url";
  input.value = kind === "commas" ? (value || []).join(", ") : value || "";
  const read = kind === "commas" ? () => input.value.split(/[,،]/).map((s) => s.trim()).filter(Boolean) : () => input.value;
  return [input, read];
}

function entryEditor(section, entries, index, ui, redraw) {
  const entry = entries[index];
  const box = node("fieldset", { className: "cv-entry" });
  box.dataset.index = String(index);
  const name = `${ui.headings[section]} · ${ui.t("Entry {n}", { n: index + 1 })}`;
  const named = (text) => ({ ariaLabel: `${text} · ${name}` });
  box.append(node("legend", {}, name));
  for (const [key, label, kind] of FIELDS[section]) {
    const [input, read] = control(kind, entry[key], ui);
    input.dataset.key = key; // not ``name``: the form's own fields (name, summary…) keep theirs
    input.addEventListener("input", () => { entry[key] = read(); });
    input.addEventListener("change", () => { entry[key] = read(); });
    box.append(node("label", {}, ui.t(label), input));
  }
  const tools = node("div", { className: "cv-entry-tools" });
  tools.append(
    button(ui.t("Move up"), () => { move(entries, index, index - 1); redraw(); },
      { disabled: index === 0, ...named(ui.t("Move up")) }),
    button(ui.t("Move down"), () => { move(entries, index, index + 1); redraw(); },
      { disabled: index === entries.length - 1, ...named(ui.t("Move down")) }),
    button(ui.t("Remove"), () => { entries.splice(index, 1); redraw(); }, named(ui.t("Remove"))),
  );
  ui.entryTools?.(section, index, tools, named);
  box.append(tools);
  return box;
}

/** Draw every list section of ``doc`` into its ``.cv-list[data-section]`` container. */
export function renderLists(doc, ui) {
  for (const container of document.querySelectorAll(".cv-list[data-section]")) {
    const section = container.dataset.section;
    doc[section] ||= [];
    const redraw = () => renderLists(doc, ui);
    const entries = doc[section];
    const add = button(`${ui.t("Add")}: ${ui.headings[section]}`, () => { entries.push({}); redraw(); },
      { className: "button button-small cv-add" });
    container.replaceChildren(
      node("h3", {}, ui.headings[section]),
      ...entries.map((_, index) => entryEditor(section, entries, index, ui, redraw)),
      add,
    );
  }
}

/** The section order and "show in the PDF" list of ``doc.layout``. */
export function renderSections(doc, ui, list) {
  const layout = doc.layout;
  const redraw = () => renderSections(doc, ui, list);
  list.replaceChildren(...layout.order.map((name, index) => {
    const shown = node("input", { type: "checkbox", checked: !layout.hidden.includes(name),
      ariaLabel: `${ui.t("Show in the PDF")} · ${ui.headings[name]}` });
    shown.addEventListener("change", () => {
      layout.hidden = shown.checked ? layout.hidden.filter((h) => h !== name) : [...layout.hidden, name];
    });
    const named = (text) => ({ ariaLabel: `${text} · ${ui.headings[name]}` });
    const row = node("li", { className: "cv-section-row" });
    row.dataset.section = name;
    row.append(
      node("span", { className: "cv-section-name" }, ui.headings[name]),
      node("label", { className: "check" }, shown, ui.t("Show in the PDF")),
      button("↑", () => { move(layout.order, index, index - 1); redraw(); },
        { disabled: index === 0, title: ui.t("Move up"), ...named(ui.t("Move up")) }),
      button("↓", () => { move(layout.order, index, index + 1); redraw(); },
        { disabled: index === layout.order.length - 1, title: ui.t("Move down"), ...named(ui.t("Move down")) }),
    );
    return row;
  }));
}
