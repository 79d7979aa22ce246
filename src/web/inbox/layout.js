// The frame around every signed-in page: the header (pages, one's availability), the banners
// (Away, reconnecting), short notices, and the one place screen readers hear what changed.
import { api } from "./api.js";
import { el, link } from "./dom.js";
import { state, awayReason, isManager } from "./state.js";
import { attentionNotices } from "./attention.js";
import { askFirst } from "./dialog.js";

const root = () => document.getElementById("app");
let activePage = null;

function header() {
  const mine = state.me;
  const toggle = (availability) =>
    el("button", {
      class: availability,
      "aria-pressed": String(mine.availability === availability),
      "data-availability": availability,
      onclick: () => (availability === "away" ? goAway() : setAvailability(availability)),
    }, availability === "available" ? "Available" : "Away");
  const nav = [
    ["/inbox", "Inbox", "inbox"],
    ["/widgets", "Widgets", "widgets"],
    ["/teammates", "Teammates", "teammates"],
    isManager() ? ["/reports", "Reports", "reports"] : null,
    ["/settings/profile", "Settings", "settings"],
  ].filter(Boolean).map(([path, text, key]) => link(path, text, { "aria-current": key === activePage ? "page" : null }));
  return el("header", { class: "top", id: "top" },
    el("span", { class: "brand" }, el("span", { class: "brand-mark", "aria-hidden": "true" }), el("span", { class: "brand-name" }, "Switchboard")),
    el("nav", { "aria-label": "Main" }, nav),
    el("div", { class: "presence", role: "group", "aria-label": "Your availability" },
      el("span", { id: "me-name" }, mine.name),
      el("span", { class: "segmented" }, toggle("available"), toggle("away")),
      mine.availability === "away"
        ? el("span", { class: "away-why", id: "away-why" }, awayReason(mine) === "no inbox open" ? "no open tab" : "by hand")
        : null,
      el("button", { class: "quiet", onclick: signOut }, "Sign out")));
}

export async function setAvailability(availability, handBack = false) {
  try {
    const body = handBack ? { availability, hand_back: true } : { availability };
    state.me = { ...state.me, ...(await api("PUT", "/me/availability", body)) };
    refreshHeader();
    return true;
  } catch (e) {
    flash(e.message, true);
    return false;
  }
}

/**
 * Away, asking first whether one's open chats should go back to the team (routed again) or
 * wait for one's return; with none open it just goes Away.
 */
async function goAway() {
  const open = state.me.load ?? 0;
  if (state.me.availability === "away" || open === 0) return setAvailability("away");
  const chats = open === 1 ? "1 open chat" : `${open} open chats`;
  const handBack = el("input", { type: "checkbox", id: "hand-back", checked: true });
  const yes = await askFirst("Go Away?", [
    el("p", {}, "Nothing new will be routed to you until you turn Available again."),
    el("label", { class: "check" }, handBack, ` Hand my ${chats} back to the team`),
    el("p", { class: "hint" }, "They are routed again to whoever is available now. Unchecked, they stay yours."),
  ], "Go Away");
  if (!yes) return;
  const back = handBack.checked;
  if (await setAvailability("away", back) && back) flash(`You are Away. Your ${chats} went back to the team.`);
}

function awayBanner() {
  if (state.me.availability !== "away") return el("div", { id: "away-banner", hidden: true });
  const why = awayReason(state.me) === "no inbox open" ? " You were set Away because no inbox tab was open." : "";
  return el("div", { id: "away-banner", class: "banner away", role: "status" },
    el("strong", {}, "You are away — nothing will be routed to you."), why, " ",
    el("button", { "data-availability": "available", class: "banner-action", onclick: () => setAvailability("available") }, "Turn Available"));
}

/** Redraws the header and the Away banner only, keeping focus on the toggle pressed. */
export function refreshHeader() {
  const old = document.getElementById("top");
  if (!old) return;
  const focused = document.activeElement?.dataset?.availability;
  old.replaceWith(header());
  document.getElementById("away-banner")?.replaceWith(awayBanner());
  if (focused) document.querySelector(`#top [data-availability=${focused}]`)?.focus();
}

/** Draws a signed-in page: `active` is the header's current page. */
export function page(active, ...content) {
  activePage = active;
  const existing = document.getElementById("connection");
  root().replaceChildren(
    header(),
    awayBanner(),
    existing || el("div", { id: "connection", class: "banner connection", role: "status", hidden: true }),
    attentionNotices(),
    el("div", { id: "flash", role: "status" }),
    el("main", { id: "main", class: active === "inbox" ? "inbox-main" : "" }, ...content),
    el("div", { id: "announcer", class: "sr-only", role: "status", "aria-live": "polite" }));
}

/** Says what changed, once, to screen readers (the page itself is not a live region). */
export function announce(text) {
  const box = document.getElementById("announcer");
  if (box) box.textContent = text;
}

/** A short notice at the top; errors stay until the next one, others go after 6 s. */
export function flash(text, error = false) {
  const box = document.getElementById("flash");
  if (!box) return;
  const notice = el("div", { class: "notice" + (error ? " error" : "") , role: error ? "alert" : null }, text);
  box.replaceChildren(notice);
  if (!error) setTimeout(() => notice.remove(), 6000);
}

/** Shows or hides "Reconnecting…" without touching the page under it. */
export function connectionState(connected) {
  const box = document.getElementById("connection");
  if (!box) return;
  box.hidden = connected;
  box.textContent = connected ? "" : "Reconnecting… what you see may be out of date; nothing you typed is lost.";
}

export async function signOut() {
  // This browser's push subscription is this person's: drop it, so whoever signs in here next
  // can subscribe it for themselves.
  const registration = await navigator.serviceWorker?.getRegistration().catch(() => null);
  const subscription = await registration?.pushManager?.getSubscription().catch(() => null);
  if (subscription) {
    await api("DELETE", "/me/push-subscriptions", { endpoint: subscription.endpoint }).catch(() => {});
    await subscription.unsubscribe().catch(() => {});
  }
  await api("DELETE", "/session", undefined, { signedOut: "throw" }).catch(() => {});
  location.href = "/login";
}

export function currentPage() {
  return activePage;
}
