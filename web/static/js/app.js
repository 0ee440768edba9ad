// Entry module: the upgrade banner on every page for signed-in people, then the page's module.

import { watchUsage } from "./quota.js";

const page = document.body.dataset.page;
const signedIn = document.body.dataset.signedIn === "1";
const usageApi = document.body.dataset.usageApi === "1";

const modules = {
  signin: "./signin.js",
  usage: "./usage.js",
  account: "./account.js",
  chat: "./chat.js",
};

// The usage and chat pages run their own watcher (it also shows the banner).
if (signedIn && usageApi && page !== "usage" && page !== "chat") watchUsage();

if (modules[page]) {
  import(modules[page]).then((module) => module.start?.({ signedIn, usageApi }));
}
