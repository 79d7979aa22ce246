// The inbox page: the list of conversations (views, rows, keyboard), beside the open
// conversation (conversation.js) and its visitor (visitor.js). Live events patch what is on
// screen; nothing the person is typing or pointing at is redrawn.
import { api } from "./api.js";
import { el, link, avatar, awayTag, initials, when, waited, typing, swap } from "./dom.js";
import { state, STATUS_LABEL } from "./state.js";
import { page, announce, currentPage } from "./layout.js";
import { go } from "./router.js";
import { convo, openConversation, closeConversation, conversationEvent, conversationResync, claimShortcut, focusReply } from "./conversation.js";

const VIEWS = [["mine", "Mine", "Assigned to me"], ["unassigned", "Unassigned", "Waiting for a person, nobody assigned"],
  ["ai", "AI", "The AI is answering"], ["all", "All", "Everyone's"]];
const list = { view: "mine", status: "open", rows: [], counts: {}, total: null };
let refreshTimer = null;
let ticking = null;

export async function renderInbox(conversationId) {
  if (!document.getElementById("inbox")) {
    page("inbox",
      el("h1", { class: "sr-only" }, "Inbox"),
      el("div", { class: "inbox", id: "inbox" },
        el("section", { class: "panel list-panel", id: "list", "aria-labelledby": "list-title" },
          el("div", { class: "list-head" }, el("h2", { id: "list-title" }, "Conversations"), statusToggle()),
          el("div", { id: "filters" }), el("div", { id: "rows-box" }, el("p", { class: "loading" }, "Loading…"))),
        el("div", { id: "conversation-box", class: "conversation-box" }),
        el("div", { id: "visitor-box", class: "visitor-box" })));
    if (!ticking) {
      document.addEventListener("keydown", shortcuts);
      ticking = setInterval(tick, 15000);
    }
    await refreshList();
  }
  document.getElementById("inbox").classList.toggle("has-open", Boolean(conversationId));
  markCurrentRow(conversationId);
  if (conversationId) await openConversation(conversationId);
  else closeConversation(emptyPane());
}

function statusToggle() {
  return el("div", { class: "segmented small", role: "group", "aria-label": "Status" },
    [["open", "Open"], ["closed", "Closed"]].map(([value, text]) => el("button", {
      "aria-pressed": String(list.status === value), "data-filter": value, "data-focus-key": `status-${value}`,
      onclick: (e) => { list.status = value; e.currentTarget.parentNode.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.filter === value))); refreshList(); },
    }, text)));
}

function filters() {
  return el("div", { class: "views", id: "filters", role: "group", "aria-label": "Views" },
    VIEWS.map(([value, text, title]) => el("button", {
      "aria-pressed": String(list.view === value), "data-filter": value, "data-focus-key": `view-${value}`, title,
      onclick: () => { list.view = value; refreshList(); },
    }, text, el("span", { class: "count", "data-count": value }, list.counts[value] ?? ""))));
}

async function loadRows() {
  const status = list.status;
  const [rows, counts] = await Promise.all([
    api("GET", `/conversations?view=${list.view}&status=${status}&limit=100`),
    api("GET", `/conversations/counts?status=${status}`),
  ]);
  list.rows = rows.items;
  list.counts = counts;
  if (list.total === null || list.total === 0) list.total = (await api("GET", "/conversations/counts")).all;
}

/** Reads the list again and redraws it, keeping focus on the row or button that had it. */
export async function refreshList() {
  try {
    await loadRows();
  } catch (e) {
    if (e.offline) return;
    throw e;
  }
  const box = document.getElementById("rows-box");
  if (!box) return;
  swap(document.getElementById("filters"), filters());
  const fresh = el("div", { id: "rows-box" }, list.rows.length
    ? el("ul", { class: "rows", id: "rows" }, list.rows.map(row))
    : el("p", { class: "empty", id: "rows" }, emptyText()));
  swap(box, fresh);
  markCurrentRow(convo.id);
  if (!convo.id) document.getElementById("first-run")?.replaceWith(emptyPane());
}

function emptyText() {
  return { mine: "Nothing assigned to you.", unassigned: "Nobody is waiting for a person.", ai: "The AI is not answering anyone.", all: "No conversations here." }[list.view];
}

function widgetName(id) {
  return state.widgets.size > 1 ? state.widgets.get(id)?.name || "Widget" : null;
}

function row(c) {
  const waiting = c.status === "handed_off" && c.waiting_since;
  const when_ = waiting
    ? el("span", { class: "row-wait", "data-waiting-since": c.waiting_since, title: "Waiting for a person since " + new Date(c.waiting_since).toLocaleString() },
      el("span", { class: "sr-only" }, "waiting "), waited(c.waiting_since))
    : el("time", { class: "row-time", datetime: c.last_message_at }, when(c.last_message_at));
  const widget = widgetName(c.widget_id);
  const assignee = c.assignee;
  return el("li", { "data-conversation": c.id, class: c.unread ? "unread" : "" },
    link(`/inbox/conversations/${c.id}`, [
      el("span", { class: "row-avatar", "aria-hidden": "true" }, initials(c.visitor.display_name),
        el("span", { class: "unread-dot" })),
      el("span", { class: "row-body" },
      el("span", { class: "row-top" },
        el("span", { class: "row-title" }, el("span", { class: "visitor-name", "data-visitor": c.visitor.id }, c.visitor.display_name),
          c.visitor.verified ? el("span", { class: "verified-mark", "aria-label": "verified" }, " ✓") : null),
        c.unread ? el("span", { class: "sr-only" }, ", unread") : null,
        when_),
      el("span", { class: "row-preview" }, c.last_message_preview || "No messages yet"),
      el("span", { class: "row-meta" },
        el("span", { class: `status ${c.status}` }, STATUS_LABEL[c.status]),
        widget ? el("span", { class: "row-widget" }, widget) : null,
        el("span", { class: "row-assignee", "data-assignee": assignee ? assignee.id : "", title: assignee ? `Assigned to ${assignee.name}${assignee.availability === "away" ? " (Away)" : ""}` : "Unassigned" },
          !assignee && c.status === "active" ? el("span", { class: "avatar ai", "aria-hidden": "true" }, "AI") : avatar(assignee),
          el("span", { class: "row-assignee-name" }, assignee ? assignee.name : c.status === "active" ? "AI answering" : "Unassigned"), awayTag(assignee)))),
    ], { "data-focus-key": `row-${c.id}`, "data-row": c.id }));
}

/**
 * Marks the open conversation's row. The list is one stop for Tab (the open row, else the
 * first): the arrow keys move within it, so the conversation is a few Tabs away, not one per row.
 */
function markCurrentRow(id) {
  const rows = [...document.querySelectorAll("#rows a[data-row]")];
  const stop = rows.find((a) => Number(a.dataset.row) === id) || rows[0];
  for (const a of rows) {
    if (Number(a.dataset.row) === id) a.setAttribute("aria-current", "true");
    else a.removeAttribute("aria-current");
    a.tabIndex = a === stop ? 0 : -1;
  }
}

/** The open conversation was read: its row loses the unread mark at once. */
export function markRowRead(id) {
  const item = document.querySelector(`#rows li[data-conversation="${id}"]`);
  item?.classList.remove("unread");
  item?.querySelector(".row-top > .sr-only")?.remove();
  const row = list.rows.find((r) => r.id === id);
  if (row) row.unread = false;
}

/** Live waiting times. */
function tick() {
  for (const node of document.querySelectorAll("[data-waiting-since]")) {
    node.lastChild.textContent = waited(node.dataset.waitingSince);
  }
}

/** What the conversation pane shows with nothing open: the first steps, in an empty workspace. */
function emptyPane() {
  if (list.total !== 0) return el("section", { class: "panel conversation-empty", id: "first-run" },
    el("p", {}, "Pick a conversation."), el("p", { class: "muted shortcuts" }, "j / k: next and previous · c: claim · r: reply"));
  const widgets = state.widgets.size > 0;
  const team = state.operators.size > 1;
  const first = [...state.widgets.values()][0];
  const step = (done, title, body, action) => el("li", { class: done ? "done" : "" },
    el("span", { class: "step-mark", "aria-hidden": "true" }, done ? "✓" : ""),
    el("div", {}, el("strong", {}, title, done ? el("span", { class: "sr-only" }, " (done)") : null), el("p", { class: "muted" }, body), action));
  return el("section", { class: "panel first-run", id: "first-run", "aria-labelledby": "first-run-title" },
    el("h2", { id: "first-run-title" }, "Get your inbox going"),
    el("p", {}, "Three steps and your visitors can talk to you."),
    el("ol", { class: "steps" },
      step(widgets, "Create a widget", "A widget is the chat bubble on your site.", link("/widgets", widgets ? "Your widgets" : "Create a widget")),
      step(false, "Paste the snippet on your site", "One line before </body>; chats then show up here.", widgets ? link(`/widgets/${first.id}`, "Get the snippet") : null),
      step(team, "Invite the team", "Chats are routed to teammates who are Available.", link("/teammates", "Invite teammates"))));
}

/** Single keys, when not typing: j/k (or ↓/↑ in the list) move, c claims, r replies. */
function shortcuts(e) {
  if (currentPage() !== "inbox" || !document.getElementById("inbox")) return;
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || document.querySelector("dialog[open]")) return;
  const inList = e.target.closest?.("#rows");
  const rows = [...document.querySelectorAll("#rows a[data-row]")];
  const at = rows.findIndex((a) => (inList ? a === e.target.closest("a") : Number(a.dataset.row) === convo.id));
  const move = (step) => {
    const next = rows[Math.max(0, Math.min(rows.length - 1, at < 0 ? 0 : at + step))];
    if (!next) return;
    e.preventDefault();
    for (const a of rows) a.tabIndex = a === next ? 0 : -1;
    next.focus();
    if (!inList || e.key === "j" || e.key === "k") go(next.getAttribute("href"));
  };
  if (e.key === "j" || (inList && e.key === "ArrowDown")) move(1);
  else if (e.key === "k" || (inList && e.key === "ArrowUp")) move(-1);
  else if (e.key === "c" && convo.id) { e.preventDefault(); claimShortcut(); }
  else if (e.key === "r" && convo.id) { e.preventDefault(); focusReply(); }
}

/** "Ann Lee's chat on Website was assigned to you." */
export async function describeAssigned(event) {
  const widget = state.widgets.get(event.widget_id)?.name;
  const where = widget ? ` on ${widget}` : "";
  const c = await api("GET", `/conversations/${event.conversation_id}`).catch(() => null);
  return c ? `${c.visitor.display_name}'s chat${where} was assigned to you.` : `A chat${where} was assigned to you.`;
}

export function inboxEvent(event) {
  if (!document.getElementById("inbox")) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refreshList().catch(() => {}), 80);
  conversationEvent(event);
  if (event.type === "conversation.created") announce("A new conversation came in.");
}

export function inboxResync() {
  if (!document.getElementById("inbox")) return;
  refreshList().catch(() => {});
  conversationResync();
}
