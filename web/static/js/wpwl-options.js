// COPYandPAY reads window.wpwlOptions when its widget script loads (so this classic script runs
// first; the CSP allows no inline script): the card form speaks the page's language.
window.wpwlOptions = Object.assign(window.wpwlOptions || {}, { locale: document.documentElement.lang || "ar" });
