// The open conversation. It is drawn once when opened; afterwards live events patch it:
// new timeline items are appended, the header's actions are redrawn only while no menu is
// open (and give focus back to what had it), and the reply box is never redrawn, so a
// half-typed reply survives every event and a reconnect. Drafts are kept per conversation in
// this browser until sent.
import { api } from "./api.js";
import { el, avatar, awayTag, swap, waited } from "./dom.js";
import { decisionDetails } from "./decision.js";
import { state, operatorName, loadText, STATUS_LABEL } from "./state.js";
import { flash, announce } from "./layout.js";
import { go } from "./router.js";
import { askFirst } from "./dialog.js";
import { markRowRead } from "./inbox.js";
import { countUnseen } from "./attention.js";
import { visitorPanel, refreshVisitor, detailsToggle, clearVisitor } from "./visitor.js";

/** The server's limit on a message, in characters. */
const MAX_BODY = 10000;
/** The counter shows from here on. */
const COUNT_FROM = 9000;

export const convo = { id: null, c: null, menuOpen: false, stale: false };
let refreshTimer = null;
let readTimer = null;

const draftKey = (id) => `switchboard.draft.${state.me.id}.${id}`;
const loadDraft = (id) => localStorage.getItem(draftKey(id)) || "";
function saveDraft(id, text) {
  if (text) localStorage.setItem(draftKey(id), text);
  else localStorage.removeItem(draftKey(id));
}

export async function openConversation(id) {
  if (convo.id === id && document.getElementById("conversation")) {
    await refreshOpen();
    return;
  }
  convo.id = id;
  convo.c = null;
  convo.menuOpen = false;
  clearVisitor();
  const box = document.getElementById("conversation-box");
  box.replaceChildren(el("section", { class: "panel conversation", id: "conversation", "aria-busy": "true" }, el("p", { class: "loading" }, "Loading…")));
  let c;
  try {
    c = await api("GET", `/conversations/${id}`);
  } catch (e) {
    if (convo.id !== id) return;
    convo.id = null;
    box.replaceChildren(el("section", { class: "panel conversation-empty", id: "conversation" },
      el("h2", {}, e.status === 404 ? "That conversation does not exist." : "The conversation could not be loaded."),
      el("p", { class: "muted" }, e.status === 404 ? "It may belong to another workspace, or the link is wrong." : e.message)));
    return;
  }
  if (convo.id !== id) return;
  convo.c = c;
  box.replaceChildren(panel(c));
  scrollToEnd();
  document.getElementById("visitor-box").replaceChildren(visitorPanel(c));
  markRead();
  refreshVisitor(c);
}

export function closeConversation(empty) {
  convo.id = null;
  convo.c = null;
  clearVisitor();
  document.getElementById("conversation-box")?.replaceChildren(empty);
  document.getElementById("visitor-box")?.replaceChildren();
}

/** Reads the open conversation again and patches it. A failure keeps what is on screen. */
export async function refreshOpen() {
  const id = convo.id;
  if (!id) return;
  let c;
  try {
    c = await api("GET", `/conversations/${id}`);
  } catch (e) {
    if (e.status === 404 && convo.id === id) flash("This conversation is no longer available.", true);
    return;
  }
  if (convo.id !== id || !document.getElementById("conversation")) return;
  const before = convo.c;
  convo.c = c;
  patch(before, c);
}

export function conversationEvent(event) {
  if (!convo.id) return;
  const mine = event.conversation_id === convo.id;
  const visitor = event.type === "visitor.updated" && convo.c && [event.visitor_id, event.merged_visitor_id].includes(convo.c.visitor_id);
  const people = event.type === "operator.availability_changed" || event.type === "operator.updated" || event.type === "conversation.assigned";
  if (!mine && !visitor && !people) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshOpen, 50);
  if (visitor) refreshVisitor(convo.c);
  if (mine && event.type === "message.created") markRead();
}

export function conversationResync() {
  if (convo.id) refreshOpen();
}

/** What is on screen counts as read, while this tab is being looked at. */
function markRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    const id = convo.id;
    if (id && document.visibilityState === "visible") {
      api("POST", `/conversations/${id}/read`).then(() => { markRowRead(id); countUnseen(); }).catch(() => {});
    }
  }, 300);
}
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible" && convo.id) markRead(); });

// ---------- drawing ----------

function panel(c) {
  return el("section", { class: "panel conversation", id: "conversation", "data-conversation": c.id, "aria-labelledby": "conversation-title" },
    el("header", { class: "conv-head" },
      el("button", { class: "back", id: "back", "aria-label": "Back to the conversations", onclick: () => go("/inbox") }, "←"),
      el("div", { class: "conv-title" }, title(c)),
      actions(c),
      detailsToggle()),
    waitingNotice(c),
    el("ol", { class: "timeline", id: "timeline", role: "log", "aria-label": "Messages",
      onscroll: (e) => { if (e.target.scrollHeight - e.target.scrollTop - e.target.clientHeight < 40) document.getElementById("new-below").hidden = true; } },
    timelineItems(c).map(([, node]) => node)),
    el("button", { id: "new-below", class: "new-below", hidden: true, onclick: (e) => { e.currentTarget.hidden = true; scrollToEnd(); } }, "New messages ↓"),
    composer(c));
}

function title(c) {
  const widget = state.widgets.size > 1 ? state.widgets.get(c.widget_id)?.name : null;
  return el("h2", { id: "conversation-title" },
    el("span", { class: "visitor-name", "data-visitor": c.visitor.id }, c.visitor.display_name),
    c.visitor.verified ? el("span", { class: "verified-mark", title: "Verified by your site", "aria-label": "verified" }, " ✓") : null,
    widget ? el("span", { class: "row-widget" }, ` · ${widget}`) : null, " ",
    el("span", { class: `status ${c.status}`, id: "conversation-status" }, STATUS_LABEL[c.status]));
}

function waitingNotice(c) {
  let text = null;
  if (!c.assignee && c.status === "handed_off") {
    if (c.waiting_reason === "no_available_operator") text = "Waiting: no eligible teammate is available.";
    else if (c.waiting_reason === "manual_mode") text = "Waiting in the Unassigned queue (manual routing).";
    else text = "Waiting in the Unassigned queue.";
  } else if (c.status === "active") {
    text = "The AI is answering this visitor. Hand it to the team to route it, or take it yourself.";
  }
  return el("p", { class: "notice subtle", id: "waiting", hidden: !text }, text || "");
}

function patch(before, c) {
  const head = document.querySelector("#conversation .conv-head");
  head.querySelector(".conv-title").replaceChildren(title(c));
  const oldActions = document.getElementById("conv-actions");
  if (convo.menuOpen) {
    // The menu stays open under the pointer; its button already says who has the chat now.
    convo.stale = true;
    const fresh = actions(c).querySelector("#assignee-chip");
    const button = document.getElementById("assignee-chip");
    button.replaceChildren(...fresh.childNodes);
    button.setAttribute("aria-label", fresh.getAttribute("aria-label"));
  } else swap(oldActions, actions(c));
  document.getElementById("waiting").replaceWith(waitingNotice(c));
  appendNew(c);
  const reply = document.getElementById("reply");
  if (reply) reply.placeholder = placeholder(c);
  if (before && before.assignee_id !== c.assignee_id) announce(c.assignee ? `Assigned to ${c.assignee.name}.` : "Unassigned.");
}

// ---------- timeline ----------

function timelineItems(c) {
  const items = c.messages.map((m) => ({ at: m.created_at, order: 0, key: `m${m.id}`, m }));
  for (const e of c.assignment_events) items.push({ at: e.at, order: 1, key: `e${e.id}`, e });
  items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order));
  const out = [];
  let day = null;
  for (const { at, key, m, e } of items) {
    const d = new Date(at).toDateString();
    if (d !== day) {
      day = d;
      out.push([`d${d}`, el("li", { class: "day", "data-key": `d${d}` }, dayText(at))]);
    }
    out.push([key, m ? messageItem(c, m, key) : assignmentItem(c, e, key)]);
  }
  return out;
}

/** "Today", "Yesterday", else the date: the separator above each day's messages. */
function dayText(iso) {
  const d = new Date(iso);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
  return d.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: d.getFullYear() === today.getFullYear() ? undefined : "numeric" });
}

function messageItem(c, m, key) {
  const who = { visitor: c.visitor.display_name, ai: "AI assistant", system: "", operator: operatorName(m.operator_id) }[m.author];
  const time = new Date(m.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return el("li", { class: m.author, "data-message": m.id, "data-key": key },
    who ? el("span", { class: "who" }, who, el("time", { datetime: m.created_at }, ` · ${time}`)) : null, m.body);
}

/** Adds the items not on screen yet, in their place; keeps the view at the end if it was. */
function appendNew(c) {
  const timeline = document.getElementById("timeline");
  const atEnd = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40;
  const shown = new Map([...timeline.children].map((node) => [node.dataset.key, node]));
  let previous = null;
  let added = 0;
  for (const [key, node] of timelineItems(c)) {
    const existing = shown.get(key);
    if (existing) { previous = existing; continue; }
    if (previous) previous.after(node); else timeline.prepend(node);
    previous = node;
    added++;
  }
  if (added && atEnd) scrollToEnd();
  // Scrolled up to read: the new messages wait below, and a button says so.
  else if (added) document.getElementById("new-below").hidden = false;
}

function scrollToEnd() {
  const timeline = document.getElementById("timeline");
  if (timeline) timeline.scrollTop = timeline.scrollHeight;
}

/**
 * A line of the timeline saying who got the chat and why; a routed one has "Why?", which
 * opens the decision in place. Items are never redrawn (`appendNew` keys them), so an open
 * "Why?" stays open through live updates.
 */
function assignmentItem(c, e, key) {
  const item = el("li", { class: "assignment", "data-key": key, "data-event": e.id }, el("span", { class: "assignment-text" }, assignmentText(c, e)));
  if (!e.decision) return item;
  const details = el("div", { class: "why", id: `why-${e.id}`, hidden: true }, decisionDetails(e.decision));
  const button = el("button", { type: "button", class: "why-button quiet", "aria-expanded": "false", "aria-controls": `why-${e.id}`,
    "data-focus-key": `why-${e.id}`, onclick: () => {
      details.hidden = !details.hidden;
      button.setAttribute("aria-expanded", String(!details.hidden));
    } }, "Why?");
  item.append(" ", button, details);
  return item;
}

/** How long the chat had been with `e`'s previous assignee: since the event that gave it to them. */
function heldFor(c, e) {
  const given = c.assignment_events.filter((x) => x.at <= e.at && x.id !== e.id && x.to_operator_id === e.from_operator_id).at(-1);
  return given ? waited(given.at, new Date(e.at).getTime()) : null;
}

function assignmentText(c, e) {
  const to = e.to_operator_id ? operatorName(e.to_operator_id) : null;
  const from = e.from_operator_id ? operatorName(e.from_operator_id) : null;
  const routed = (how) => e.from_queue && e.queued_at
    ? `Routed to ${to} from the queue after ${waited(e.queued_at, new Date(e.at).getTime())} (${how})`
    : `Routed to ${to} by ${how}`;
  switch (e.reason) {
    case "round_robin": return routed("round-robin");
    case "lightest_load": return routed("lightest load");
    case "claim": return `Claimed by ${to}`;
    case "reply": return `${to} took it by replying`;
    case "manual": return `Assigned to ${to} by ${operatorName(e.actor_id)}`;
    case "unassign": return `Unassigned by ${operatorName(e.actor_id)}`;
    case "assignee_away": return to ? `Moved to ${to}: ${from} went Away` : `Back to the queue: ${from} went Away`;
    case "assignee_removed": return to ? `Moved to ${to}: ${from} was deactivated` : `Back to the queue: ${from} was deactivated`;
    case "unanswered": {
      const held = heldFor(c, e);
      const noReply = `no reply from ${from}${held ? ` in ${held}` : ""}`;
      return to ? `Moved to ${to}: ${noReply}` : `Still with ${from}: ${noReply}, and nobody else could take it`;
    }
    default: return to ? `Assigned to ${to} (${e.reason})` : `Unassigned (${e.reason})`;
  }
}

// ---------- the actions: claim, the assignee chip, hand to the team, close ----------

function actions(c) {
  const mine = c.assignee_id === state.me.id;
  const buttons = [];
  if (c.status === "active") {
    buttons.push(el("button", { id: "takeover", "data-focus-key": "takeover", title: "Routing picks who gets it, by the widget's mode",
      onclick: () => act(() => api("POST", `/conversations/${c.id}/takeover`)) }, "Hand to the team"));
    buttons.push(el("button", { id: "take-myself", class: "primary", "data-focus-key": "take-myself", onclick: () => claim(c) }, "Take it myself"));
  } else if (c.assignee_id === null) {
    buttons.push(el("button", { id: "claim-now", class: "primary", "data-focus-key": "claim-now", onclick: () => claim(c) }, "Claim"));
  }
  buttons.push(c.status === "closed"
    ? el("button", { id: "reopen", "data-focus-key": "close-or-reopen", onclick: () => act(() => api("POST", `/conversations/${c.id}/reopen`)) }, "Reopen")
    : el("button", { id: "close", "data-focus-key": "close-or-reopen", onclick: () => act(() => api("POST", `/conversations/${c.id}/close`)) }, "Close"));
  return el("div", { class: "conv-actions", id: "conv-actions" }, chip(c, mine), buttons);
}

/** Claims the chat; taking a teammate's asks first, naming them. Focus goes to the reply. */
async function claim(c) {
  if (c.assignee_id !== null && c.assignee_id !== state.me.id) {
    const name = c.assignee ? c.assignee.name : operatorName(c.assignee_id);
    const yes = await askFirst(`Take this chat from ${name}?`,
      [el("p", {}, `${name} is assigned to this conversation. If you take it, it is yours and leaves ${name}'s inbox.`)],
      `Take it from ${name}`);
    if (!yes) return;
  }
  const ok = await act(() => api("POST", `/conversations/${c.id}/claim`, { if_assignee_id: c.assignee_id }));
  if (ok) focusReply();
}

/** The `c` shortcut: claim what is unassigned or the AI's; a teammate's asks first. */
export function claimShortcut() {
  const c = convo.c;
  if (c && c.assignee_id !== state.me.id) claim(c);
}

export function focusReply() {
  document.getElementById("reply")?.focus();
}

async function act(action) {
  try {
    const result = await action();
    await refreshOpen();
    return result ?? true;
  } catch (e) {
    flash(e.message, true);
    if (e.status === 409) await refreshOpen();
    return false;
  }
}

function chip(c, mine) {
  const current = c.assignee_id;
  const menu = el("div", { class: "menu", role: "menu", hidden: true, id: "assignee-menu", "aria-label": "Assign to" });
  const items = [];
  const item = (attrs, ...content) => el("button", { role: "menuitem", tabindex: "-1", ...attrs }, ...content);
  if (current !== state.me.id) {
    const label = current === null ? "Assign to me" : `Take it from ${c.assignee ? c.assignee.name : operatorName(current)}…`;
    items.push(item({ "data-action": "claim", onclick: () => { close(); claim(c); } }, el("span", {}, label)));
  }
  for (const o of state.operators.values()) {
    // Oneself is "Assign to me" above.
    if (o.id === current || o.id === state.me.id || !o.active) continue;
    items.push(item({ "data-pick": o.id, onclick: () => { close(); pick(c, o); } },
      el("span", { class: "menu-who" }, avatar(o), " ", o.name, o.id === state.me.id ? " (you)" : ""),
      el("span", { class: "menu-meta" }, awayTag(o), el("span", { class: "load" }, loadText(o)))));
  }
  if (current !== null) {
    items.push(item({ "data-action": "unassign", onclick: () => { close(); act(() => api("PUT", `/conversations/${c.id}/assignee`, { operator_id: null, if_assignee_id: current })); } }, "Unassign"));
  }
  menu.append(...items);
  const button = el("button", { class: "chip-button", "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": "assignee-menu", id: "assignee-chip", "data-focus-key": "assignee-chip",
    "aria-label": `Assignee: ${c.assignee ? c.assignee.name : "unassigned"}${c.assignee?.availability === "away" ? ", away" : ""}. Change`,
    onclick: () => (menu.hidden ? open(0) : close()),
    onkeydown: (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") { e.preventDefault(); open(e.key === "ArrowDown" ? 0 : -1); }
    } },
  avatar(c.assignee), el("span", { id: "assignee-name" }, c.assignee ? c.assignee.name : "Unassigned"), awayTag(c.assignee), el("span", { class: "caret", "aria-hidden": "true" }, "▾"));
  const buttons = () => [...menu.querySelectorAll("[role=menuitem]")];
  function open(index) {
    menu.hidden = false;
    convo.menuOpen = true;
    button.setAttribute("aria-expanded", "true");
    const all = buttons();
    all.at(index)?.focus();
    setTimeout(() => document.addEventListener("pointerdown", outside), 0);
  }
  function close(refocus = false) {
    if (menu.hidden) return;
    menu.hidden = true;
    convo.menuOpen = false;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", outside);
    if (refocus) button.focus();
    // Changes that arrived while it was open.
    if (convo.stale) { convo.stale = false; setTimeout(refreshOpen, 0); }
  }
  function outside(e) {
    if (!menu.contains(e.target) && !button.contains(e.target)) close();
  }
  menu.addEventListener("keydown", (e) => {
    const all = buttons();
    const at = all.indexOf(document.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 }[e.key];
    if (to !== undefined) { e.preventDefault(); all.at(to % all.length)?.focus(); }
    else if (e.key === "Escape") { e.preventDefault(); close(true); }
    else if (e.key === "Tab") close();
  });
  return el("div", { class: "chip" }, button, menu);
}

async function pick(c, o) {
  if (o.capacity && (o.load ?? 0) >= o.capacity) {
    const yes = await askFirst(`${o.name} is at capacity`,
      [el("p", {}, `${o.name} has ${loadText(o)}. Assign this chat anyway?`)], `Assign to ${o.name}`);
    if (!yes) return;
  }
  const ok = await act(() => api("PUT", `/conversations/${c.id}/assignee`, { operator_id: o.id, if_assignee_id: c.assignee_id }));
  if (ok) document.getElementById("assignee-chip")?.focus();
}

// ---------- the reply box ----------

function placeholder(c) {
  if (c.assignee_id === null) return "Reply — you become the assignee";
  if (c.assignee_id !== state.me.id) return `Reply — ${c.assignee ? c.assignee.name : "a teammate"} stays the assignee`;
  return "Reply";
}

function composer(c) {
  const id = c.id;
  const text = el("textarea", { id: "reply", name: "body", rows: 3, maxlength: MAX_BODY, "aria-label": "Reply",
    "aria-describedby": "reply-hint reply-count reply-error", placeholder: placeholder(c) });
  text.value = loadDraft(id);
  const count = el("span", { id: "reply-count", class: "count-chars", "aria-live": "polite" });
  const error = el("p", { id: "reply-error", class: "reply-error", role: "alert", hidden: true });
  const send = el("button", { class: "primary", type: "submit", id: "send" }, "Send");
  const form = el("form", { class: "reply", id: "reply-form" }, error, text,
    el("div", { class: "reply-foot" },
      el("span", { id: "reply-hint", class: "muted" }, "Enter to send · Shift+Enter for a new line"),
      count, send));
  const counted = () => {
    const n = [...text.value].length;
    count.textContent = n >= COUNT_FROM ? `${n.toLocaleString()} / ${MAX_BODY.toLocaleString()}` : "";
    count.classList.toggle("over", n > MAX_BODY);
  };
  counted();
  text.addEventListener("input", () => { saveDraft(id, text.value); counted(); if (!error.hidden && text.value) error.hidden = true; });
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.altKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = text.value;
    if (!body.trim()) return;
    if ([...body].length > MAX_BODY) {
      error.hidden = false;
      error.textContent = `Not sent: a reply can be at most ${MAX_BODY.toLocaleString()} characters; this one has ${[...body].length.toLocaleString()}.`;
      return;
    }
    send.disabled = true;
    error.hidden = true;
    try {
      await api("POST", `/conversations/${id}/messages`, { body });
      // Only what was sent goes: anything typed meanwhile stays.
      if (text.value === body) text.value = "";
      saveDraft(id, text.value);
      counted();
      refreshOpen();
    } catch (err) {
      error.hidden = false;
      error.textContent = `Not sent: ${err.message} Your text is still here.`;
    } finally {
      send.disabled = false;
    }
  });
  return form;
}

