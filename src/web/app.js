// Switchboard's web inbox: ES modules under /static/inbox/, no build step. Pages are drawn
// from the JSON API and kept current by the live event stream (inbox/live.js).
import { route } from "./inbox/router.js";
import { el } from "./inbox/dom.js";

window.addEventListener("popstate", () => route());
route().catch((e) => document.getElementById("app").replaceChildren(
  el("p", { class: "notice error", role: "alert" }, `Something went wrong: ${e.message}`)));
