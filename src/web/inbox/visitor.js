// The open conversation's visitor: who they are, where they are, their other chats. Beside
// the conversation on a desktop; a sheet over it ("Details") on narrower screens.
import { api } from "./api.js";
import { el, link, initials, ago, when } from "./dom.js";
import { STATUS_LABEL } from "./state.js";

// The record of the open conversation's visitor (`GET /visitors/{id}`), and whether the
// details sheet is open on narrow screens.
const details = { record: null, open: false };

export function clearVisitor() {
  details.record = null;
}

/** A link only for web addresses (the server accepts nothing else; this is a second check). */
function webLink(url, text, title) {
  return /^https?:\/\//i.test(url)
    ? el("a", { class: "url", href: url, target: "_blank", rel: "noopener noreferrer", title }, text)
    : el("span", { class: "url", title }, text);
}

/** "shop.example/cart" for a page address: the part people recognise. */
function shortUrl(url) {
  try {
    const u = new URL(url);
    const path = u.pathname === "/" && !u.search ? "" : u.pathname;
    return `${u.host}${path}${u.search}`;
  } catch (_) {
    return url;
  }
}

export function detailsToggle() {
  return el("button", { class: "details-toggle", id: "details-toggle", "aria-controls": "visitor-panel",
    "aria-expanded": String(details.open), onclick: () => setDetailsOpen(!details.open) }, "Details");
}

function setDetailsOpen(open) {
  details.open = open;
  document.getElementById("visitor-panel")?.classList.toggle("open", open);
  document.getElementById("details-toggle")?.setAttribute("aria-expanded", String(open));
  if (open) document.querySelector("#visitor-panel .close-details")?.focus();
  else document.getElementById("details-toggle")?.focus();
}

export function visitorPanel(c) {
  const v = details.record && details.record.id === c.visitor_id ? details.record : null;
  const fact = (label, value) => value ? [el("dt", {}, label), el("dd", {}, value)] : [];
  const body = v
    ? [
      el("dl", { class: "facts" },
        fact("Email", v.email ? el("a", { href: `mailto:${v.email}` }, v.email) : null),
        fact("User ID", v.external_id),
        fact("Current page", v.current_url ? webLink(v.current_url, shortUrl(v.current_url), v.current_url) : null),
        fact("Came from", v.referrer ? el("span", { class: "url", title: v.referrer }, shortUrl(v.referrer)) : null),
        fact("Browser", v.browser || v.user_agent ? el("span", { title: v.user_agent || "" }, v.browser || "Unknown browser") : null),
        fact("First seen", el("time", { datetime: v.first_seen_at, title: new Date(v.first_seen_at).toLocaleString() }, ago(v.first_seen_at))),
        fact("Last seen", el("time", { datetime: v.last_seen_at, title: new Date(v.last_seen_at).toLocaleString() }, ago(v.last_seen_at)))),
      el("h4", {}, "Conversations", el("span", { class: "count" }, v.conversations.length)),
      el("ul", { class: "visitor-chats" }, v.conversations.map((chat) => el("li", { "data-chat": chat.id },
        chat.id === c.id
          ? el("span", { class: "this-chat" }, el("strong", {}, "This chat"), " ", el("span", { class: `status ${chat.status}` }, STATUS_LABEL[chat.status]))
          : link(`/inbox/conversations/${chat.id}`, [el("span", { class: `status ${chat.status}` }, STATUS_LABEL[chat.status]), " ", when(chat.last_message_at)]),
        el("span", { class: "chat-preview" }, chat.last_message_preview || "")))),
    ]
    : [el("p", { class: "loading" }, "Loading…")];
  return el("aside", { class: "panel visitor-panel" + (details.open ? " open" : ""), id: "visitor-panel", "aria-labelledby": "visitor-name",
    onkeydown: (e) => { if (e.key === "Escape" && details.open) setDetailsOpen(false); } },
    el("div", { class: "visitor-head" },
      el("span", { class: "avatar visitor-avatar", "aria-hidden": "true" }, initials(c.visitor.display_name)),
      el("div", {},
        el("h2", { id: "visitor-name" }, c.visitor.display_name),
        c.visitor.verified
          ? el("span", { class: "badge verified", id: "visitor-verified" }, "Verified")
          : el("span", { class: "badge", id: "visitor-verified" }, "Not verified")),
      el("button", { class: "close-details", "aria-label": "Close details", onclick: () => setDetailsOpen(false) }, "✕")),
    body);
}

/** Reads the visitor record again and redraws their panel (it holds nothing one types in). */
export async function refreshVisitor(c) {
  if (!c) return;
  try {
    details.record = await api("GET", `/visitors/${c.visitor_id}`);
  } catch (_) {
    return;
  }
  const current = document.getElementById("visitor-panel");
  if (current && document.querySelector(`#conversation[data-conversation="${c.id}"]`)) current.replaceWith(visitorPanel(c));
}
