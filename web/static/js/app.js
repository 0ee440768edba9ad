// Entry module: the upgrade banner on every page for signed-in people, then the page's module.

import { ownValidation } from "./forms.js";
import { watchUsage } from "./quota.js";

const page = document.body.dataset.page;
const signedIn = document.body.dataset.signedIn === "1";
const usageApi = document.body.dataset.usageApi === "1";

const modules = {
  signin: "./signin.js",
  usage: "./usage.js",
  account: "./account.js",
  chat: "./chat.js",
  billing: "./billing.js",
  support: "./support.js",
  files: "./files.js",
  images: "./images.js",
  video: "./video.js",
};

ownValidation();

// The usage and chat pages run their own watcher (it also shows the banner).
if (signedIn && usageApi && page !== "usage" && page !== "chat") watchUsage();

// Pages may change their URL (a new conversation); switch language on the current one.
const langSwitch = document.querySelector(".lang-switch");
langSwitch?.addEventListener("click", () => {
  const url = new URL(window.location.href);
  url.searchParams.set("lang", langSwitch.hreflang);
  langSwitch.href = url.pathname + url.search;
});

// The header's studio menu closes on a click elsewhere or Esc (a <details> does not by itself).
const navMenu = document.querySelector(".nav-menu");
document.addEventListener("click", (event) => {
  if (navMenu?.open && !navMenu.contains(event.target)) navMenu.open = false;
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && navMenu?.open) navMenu.open = false;
});

if (modules[page]) {
  import(modules[page]).then((module) => module.start?.({ signedIn, usageApi }));
}
