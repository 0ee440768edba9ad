// Our own validation messages in the page's language instead of the browser's (which speaks the
// browser's language, e.g. English "Please fill out this field." on Arabic pages). Every form
// with constrained fields gets novalidate; a submit with an invalid field is stopped and the
// field says why, right under it.

import { t } from "./i18n.js";

function messageFor(field) {
  const validity = field.validity;
  if (validity.valueMissing) return t("Fill in this field.");
  if (validity.typeMismatch && field.type === "email") return t("Enter a valid email address.");
  if (validity.tooLong) return t("This is too long.");
  return t("Check this field.");
}

function clear(field) {
  field.removeAttribute("aria-invalid");
  document.getElementById(`${field.id}-invalid`)?.remove();
}

function flag(field) {
  clear(field);
  const note = document.createElement("p");
  note.className = "field-error";
  note.id = `${field.id}-invalid`;
  note.setAttribute("role", "alert");
  note.textContent = messageFor(field);
  field.setAttribute("aria-invalid", "true");
  field.setAttribute("aria-describedby", note.id);
  field.closest("form").append(note);
}

export function ownValidation(root = document) {
  for (const form of root.querySelectorAll("form:not([novalidate])")) {
    if (!form.querySelector("[required], [type=email], [maxlength], [pattern]")) continue;
    form.noValidate = true;
    form.addEventListener(
      "submit",
      (event) => {
        const fields = [...form.elements].filter((field) => field.willValidate);
        for (const field of fields) {
          if (field.value.trim() === "" && field.required) field.value = "";
          clear(field);
        }
        const invalid = fields.find((field) => !field.checkValidity());
        if (!invalid) return;
        event.preventDefault();
        event.stopImmediatePropagation();
        flag(invalid);
        invalid.focus();
      },
      true,
    );
    form.addEventListener("input", (event) => clear(event.target));
  }
}
