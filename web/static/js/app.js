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

if (modules[page]) {
  import(modules[page]).then((module) => module.start?.({ signedIn, usageApi }));
}
