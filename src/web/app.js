// Switchboard's web inbox. Pages are drawn from the JSON API and kept current by the live
// event stream. Every piece of user text (visitor messages, names) is put in the page with
// text nodes, never parsed as HTML.

const root = document.getElementById("app");

// ---------- small helpers ----------

/** Creates an element; string children become text nodes, attributes are set as given. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, options);
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && data.error && data.error.message) || response.statusText);
    error.status = response.status;
    error.body = data;
    throw error;
  }
  return data;
}

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
}

function avatar(operator) {
  return operator
    ? el("span", { class: "avatar", "aria-hidden": "true" }, initials(operator.name))
    : el("span", { class: "avatar none", "aria-hidden": "true" }, "–");
}

function when(iso) {
  const t = new Date(iso);
  const today = new Date();
  return t.toDateString() === today.toDateString()
    ? t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : t.toLocaleDateString();
}

function go(path) {
  history.pushState({}, "", path);
  route();
}

function link(path, text, attrs = {}) {
  return el("a", { href: path, onclick: (e) => { e.preventDefault(); go(path); }, ...attrs }, text);
}

// ---------- state ----------

const state = {
  me: null,
  operators: new Map(),
  widgets: new Map(),
  view: "mine",
  status: "open",
  rows: [],
  counts: { mine: 0, unassigned: 0, all: 0 },
  conversation: null,
  lastEventId: null,
  notice: null,
};

const STATUS_LABEL = { active: "AI", handed_off: "Open", closed: "Closed" };
const MODES = [
  ["manual", "Manual", "Chats wait in the Unassigned queue until a teammate claims them."],
  ["round_robin", "Round-robin", "Chats go to available teammates in turn, in the order they joined."],
  ["lightest_load", "Lightest load", "Each chat goes to the available teammate with the fewest open chats."],
];

async function loadTeam() {
  const [operators, widgets] = await Promise.all([api("GET", "/operators"), api("GET", "/widgets")]);
  state.operators = new Map(operators.items.map((o) => [o.id, o]));
  state.widgets = new Map(widgets.items.map((w) => [w.id, w]));
  const me = state.operators.get(state.me.id);
  if (me) state.me = { ...state.me, availability: me.availability };
}

function operatorName(id) {
  const o = state.operators.get(id);
  return o ? o.name : "a former teammate";
}

// ---------- layout ----------

function header(active) {
  const mine = state.me;
  const toggle = (availability) =>
    el("button", {
      class: availability,
      "aria-pressed": String(mine.availability === availability),
      "data-availability": availability,
      onclick: async () => {
        try {
          state.me = { ...state.me, ...(await api("PUT", "/me/availability", { availability })) };
          renderHeaderOnly(active);
        } catch (e) {
          flash(e.message, true);
        }
      },
    }, availability === "available" ? "Available" : "Away");
  const nav = [
    ["/inbox", "Inbox", "inbox"],
    ["/widgets", "Widgets", "widgets"],
    ["/teammates", "Teammates", "teammates"],
    ["/settings/profile", "Settings", "settings"],
  ].map(([path, text, key]) => link(path, text, { "aria-current": key === active ? "page" : null }));
  return el("header", { class: "top", id: "top" },
    el("span", { class: "brand" }, "Switchboard"),
    el("nav", { "aria-label": "Main" }, nav),
    el("div", { class: "presence", role: "group", "aria-label": "Your availability" },
      el("span", { id: "me-name" }, mine.name),
      toggle("available"), toggle("away"),
      el("button", { onclick: signOut }, "Sign out")));
}

function renderHeaderOnly(active) {
  const old = document.getElementById("top");
  if (old) old.replaceWith(header(active));
}

function page(active, ...content) {
  root.replaceChildren(header(active), el("main", {}, state.notice ? noticeBox() : null, ...content));
}

function noticeBox() {
  const { text, error } = state.notice;
  return el("div", { class: "notice" + (error ? " error" : ""), role: "status" }, text);
}

function flash(text, error = false) {
  state.notice = { text, error };
  const box = document.querySelector("main > .notice");
  const fresh = noticeBox();
  if (box) box.replaceWith(fresh);
  else document.querySelector("main")?.prepend(fresh);
  setTimeout(() => {
    if (state.notice && state.notice.text === text) {
      state.notice = null;
      fresh.remove();
    }
  }, 6000);
}

async function signOut() {
  // This browser's push subscription is this person's: drop it, so whoever signs in here next
  // can subscribe it for themselves.
  const registration = await navigator.serviceWorker?.getRegistration().catch(() => null);
  const subscription = await registration?.pushManager?.getSubscription().catch(() => null);
  if (subscription) {
    await api("DELETE", "/me/push-subscriptions", { endpoint: subscription.endpoint }).catch(() => {});
    await subscription.unsubscribe().catch(() => {});
  }
  await api("DELETE", "/session").catch(() => {});
  location.href = "/login";
}

// ---------- sign in / first run ----------

function authForm(title, fields, submitText, onSubmit, footer) {
  const error = el("p", { class: "notice error", hidden: true, role: "alert" });
  const form = el("form", { class: "stack panel card" },
    el("h1", {}, title),
    fields.map(([name, label, type]) =>
      el("label", {}, label, el("input", { name, type, required: true, autocomplete: name === "password" ? "current-password" : name }))),
    error,
    el("button", { class: "primary", type: "submit" }, submitText),
    footer || null);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(form).entries());
    try {
      await onSubmit(data);
      location.href = afterSignIn();
    } catch (err) {
      error.hidden = false;
      error.textContent = err.message;
    }
  });
  root.replaceChildren(el("main", { class: "auth" }, el("p", { class: "auth-brand" }, "Switchboard"), form));
}

async function renderLogin() {
  const signup = await api("GET", "/signup").catch(() => ({ allowed: false }));
  authForm("Sign in", [["email", "Email", "email"], ["password", "Password", "password"]], "Sign in",
    async (data) => {
      const body = { ...data, workspace_id: data.workspace_id ? Number(data.workspace_id) : undefined };
      try {
        return await api("POST", "/session", body);
      } catch (err) {
        const workspaces = err.body?.error?.workspaces;
        if (err.body?.error?.code === "workspace_required" && workspaces) {
          chooseWorkspace(workspaces);
          err.message = "This email and password open several workspaces: choose one, then sign in.";
        }
        throw err;
      }
    },
    [el("p", {}, link("/forgot", "Forgot your password?", { id: "forgot-link" })),
      signup.allowed ? el("p", {}, link("/signup", "Create a workspace")) : null]);
}

/** Adds (once) a workspace picker to the sign-in form, for an email in several workspaces. */
function chooseWorkspace(workspaces) {
  const form = document.querySelector("main.auth form");
  if (!form || form.querySelector("select[name=workspace_id]")) return;
  const select = el("select", { name: "workspace_id", required: true },
    workspaces.map((w) => el("option", { value: w.id }, w.name)));
  form.querySelector("button[type=submit]").before(el("label", {}, "Workspace", select));
}

function renderSignup() {
  authForm("Create your workspace",
    [["workspace_name", "Workspace name", "text"], ["name", "Your name", "text"], ["email", "Email", "email"], ["password", "Password (8 characters or more)", "password"]],
    "Create workspace", (data) => api("POST", "/signup", data),
    el("p", {}, link("/login", "I already have an account")));
}

// ---------- one-time links: invitations and password resets ----------

const ROLE_WITH_ARTICLE = { owner: "an owner", admin: "an admin", operator: "an operator" };

/** A signed-out page: one card. */
function authPage(...content) {
  root.replaceChildren(el("main", { class: "auth" }, el("p", { class: "auth-brand" }, "Switchboard"),
    el("section", { class: "panel card auth-card" }, ...content)));
}

function newPasswordField(label) {
  return el("label", {}, label,
    el("input", { name: "password", type: "password", required: true, minlength: 8, maxlength: 1024, autocomplete: "new-password" }),
    el("span", { class: "hint" }, "8 characters or more."));
}

/** Sends the form with `send(data)` on submit; shows what went wrong under its fields. */
function submitWith(form, send) {
  const error = el("p", { class: "notice error", role: "alert", hidden: true });
  form.querySelector("button[type=submit]").before(error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await send(Object.fromEntries(new FormData(form).entries()));
    } catch (err) {
      error.hidden = false;
      error.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function deadLink(title, err, next) {
  authPage(el("h1", {}, title),
    el("p", {}, err.status === 404 ? err.message : `Something went wrong: ${err.message}`),
    el("p", {}, next));
}

async function renderInvite(token) {
  let invitation;
  try {
    invitation = await api("GET", `/invitations/${encodeURIComponent(token)}`);
  } catch (err) {
    return deadLink("This invitation link no longer works", err, link("/login", "Go to sign in"));
  }
  const form = submitWith(el("form", { class: "stack", id: "accept-form" },
    el("label", {}, "Email", el("input", { name: "email", type: "email", value: invitation.email, readonly: true, autocomplete: "username" })),
    el("label", {}, "Your name", el("input", { name: "name", required: true, maxlength: 100, autocomplete: "name", value: invitation.name })),
    newPasswordField("Choose a password"),
    el("button", { class: "primary", type: "submit" }, `Join ${invitation.workspace_name}`)),
  async ({ name, password }) => {
    await api("POST", `/invitations/${encodeURIComponent(token)}/accept`, { name, password });
    location.href = "/inbox";
  });
  authPage(
    el("p", { class: "eyebrow" }, "You're invited"),
    el("h1", {}, `Join ${invitation.workspace_name} on Switchboard`),
    el("p", {}, `You'll answer the team's live chats as ${ROLE_WITH_ARTICLE[invitation.role]}. Choose a password to sign in with.`),
    form,
    el("p", { class: "muted" }, `This invitation expires ${timeUntil(invitation.expires_at)}.`));
}

function renderForgot() {
  const form = submitWith(el("form", { class: "stack", id: "forgot-form" },
    el("label", {}, "Email", el("input", { name: "email", type: "email", required: true, autocomplete: "username" })),
    el("button", { class: "primary", type: "submit" }, "Send me a reset link")),
  async ({ email }) => {
    await api("POST", "/password-reset", { email });
    authPage(el("h1", {}, "Check your email"),
      el("p", { id: "reset-sent" }, "If an account signs in with ", el("strong", {}, email.trim()),
        ", we've sent it a link to choose a new password. The link works once, for one hour."),
      el("p", { class: "muted" }, "Nothing arrived? Check your spam folder, or ask an admin of your workspace."),
      el("p", {}, link("/login", "Back to sign in")));
  });
  authPage(el("h1", {}, "Reset your password"),
    el("p", {}, "Enter the email you sign in with, and we'll send you a link to choose a new password."),
    form, el("p", {}, link("/login", "Back to sign in")));
}

function renderReset(token) {
  const form = submitWith(el("form", { class: "stack", id: "reset-form" },
    newPasswordField("New password"),
    el("button", { class: "primary", type: "submit" }, "Set password and sign in")),
  async ({ password }) => {
    try {
      await api("POST", `/password-reset/${encodeURIComponent(token)}`, { password });
    } catch (err) {
      if (err.status === 404) return deadLink("This reset link no longer works", err, link("/forgot", "Ask for a new link"));
      throw err;
    }
    location.href = "/inbox";
  });
  authPage(el("h1", {}, "Choose a new password"),
    el("p", {}, "You'll be signed out everywhere else, and signed in here."), form);
}

// ---------- inbox ----------

async function loadRows() {
  const status = state.status === "open" ? "open" : "closed";
  const [list, counts] = await Promise.all([
    api("GET", `/conversations?view=${state.view}&status=${status}&limit=100`),
    api("GET", `/conversations/counts?status=${status}`),
  ]);
  state.rows = list.items;
  state.counts = counts;
}

function filters() {
  const views = [["mine", "Assigned to me"], ["unassigned", "Unassigned"], ["all", "Everyone"]];
  const statuses = [["open", "Open"], ["closed", "Closed"]];
  const button = (group, value, text, count) =>
    el("button", {
      "aria-pressed": String(state[group] === value),
      "data-filter": value,
      onclick: async () => {
        state[group] = value;
        await refreshList();
      },
    }, text, count === undefined ? null : el("span", { class: "count", "data-count": value }, count));
  return el("div", { class: "filters", role: "toolbar", "aria-label": "Filters" },
    views.map(([v, t]) => button("view", v, t, state.counts[v])),
    el("span", { class: "spacer" }),
    statuses.map(([v, t]) => button("status", v, t)));
}

function row(c) {
  const widget = state.widgets.get(c.widget_id);
  const current = state.conversation && state.conversation.id === c.id;
  return el("li", { "data-conversation": c.id },
    link(`/inbox/conversations/${c.id}`, [
      el("span", { class: "row-assignee", "data-assignee": c.assignee ? c.assignee.id : "" },
        avatar(c.assignee), c.assignee ? c.assignee.name : "Unassigned"),
      el("span", { class: "row-title" }, visitorName(c.visitor), widgetLabel(widget)),
      el("span", { class: "row-time" }, when(c.last_message_at), " ", el("span", { class: `status ${c.status}` }, STATUS_LABEL[c.status])),
      el("span", { class: "row-preview" }, c.last_message_preview || ""),
    ], { "aria-current": current ? "true" : null }));
}

function listPanel() {
  const rows = state.rows.length
    ? el("ul", { class: "rows", id: "rows" }, state.rows.map(row))
    : el("p", { class: "empty", id: "rows" }, "No conversations here.");
  return el("section", { class: "panel", id: "list", "aria-label": "Conversations" }, filters(), rows);
}

async function refreshList() {
  await loadRows();
  const list = document.getElementById("list");
  if (list) list.replaceWith(listPanel());
}

function timelineItems(c) {
  const items = c.messages.map((m) => ({ at: m.created_at, order: 0, m }));
  for (const e of c.assignment_events) items.push({ at: e.at, order: 1, e });
  items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order));
  return items.map(({ m, e }) => {
    if (m) {
      const who = { visitor: c.visitor.display_name, ai: "AI assistant", system: "", operator: operatorName(m.operator_id) }[m.author];
      return el("li", { class: m.author, "data-message": m.id }, who ? el("span", { class: "who" }, who) : null, m.body);
    }
    return el("li", { class: "assignment" }, assignmentText(e));
  });
}

function assignmentText(e) {
  const to = e.to_operator_id ? operatorName(e.to_operator_id) : null;
  switch (e.reason) {
    case "round_robin": return `Routed to ${to} by round-robin`;
    case "lightest_load": return `Routed to ${to} by lightest load`;
    case "claim": return `Claimed by ${to}`;
    case "reply": return `${to} took it by replying`;
    case "manual": return `Assigned to ${to} by ${operatorName(e.actor_id)}`;
    case "unassign": return `Unassigned by ${operatorName(e.actor_id)}`;
    case "assignee_away": return `Unassigned: ${operatorName(e.from_operator_id)} is away`;
    case "assignee_removed": return to
      ? `Moved from ${operatorName(e.from_operator_id)} to ${to}: ${operatorName(e.from_operator_id)} was deactivated`
      : `Unassigned: ${operatorName(e.from_operator_id)} was deactivated`;
    default: return `Assignee changed (${e.reason})`;
  }
}

function waitingText(c) {
  if (c.assignee || c.status !== "handed_off") return null;
  if (c.waiting_reason === "no_available_operator") return "Waiting: no eligible teammate is available.";
  if (c.waiting_reason === "manual_mode") return "Waiting in the Unassigned queue (manual routing).";
  return "Waiting in the Unassigned queue.";
}

function assigneeChip(c) {
  const menu = el("div", { class: "menu", role: "menu", hidden: true, id: "assignee-menu" });
  const change = async (action) => {
    menu.hidden = true;
    try {
      state.conversation = { ...state.conversation, ...(await action()) };
      await refreshConversation();
    } catch (e) {
      if (e.status === 409 && e.body && e.body.error) {
        flash(e.body.error.message, true);
        await refreshConversation();
      } else flash(e.message, true);
    }
  };
  const current = c.assignee_id;
  const items = [];
  if (current !== state.me.id) {
    items.push(el("button", { role: "menuitem", "data-action": "claim",
      onclick: () => change(() => api("POST", `/conversations/${c.id}/claim`, { if_assignee_id: current })) },
      "Claim this chat"));
  }
  for (const o of state.operators.values()) {
    if (o.id === current || !o.active) continue;
    items.push(el("button", { role: "menuitem", "data-pick": o.id,
      onclick: () => change(() => api("PUT", `/conversations/${c.id}/assignee`, { operator_id: o.id, if_assignee_id: current })) },
      el("span", {}, avatar(o), " ", o.name),
      el("span", {}, o.availability === "away" ? el("span", { class: "away-tag" }, "Away ") : null,
        el("span", { class: "load" }, `${o.load} open`))));
  }
  if (current !== null) {
    items.push(el("button", { role: "menuitem", "data-action": "unassign",
      onclick: () => change(() => api("PUT", `/conversations/${c.id}/assignee`, { operator_id: null, if_assignee_id: current })) },
      "Unassign"));
  }
  menu.append(...items);
  const button = el("button", { "aria-haspopup": "menu", "aria-expanded": "false", id: "assignee-chip",
    onclick: () => {
      menu.hidden = !menu.hidden;
      button.setAttribute("aria-expanded", String(!menu.hidden));
      if (!menu.hidden) menu.querySelector("button")?.focus();
    } },
    avatar(c.assignee), el("span", { id: "assignee-name" }, c.assignee ? c.assignee.name : "Unassigned"), " ▾");
  menu.addEventListener("keydown", (e) => { if (e.key === "Escape") { menu.hidden = true; button.focus(); } });
  const claimNow = current === state.me.id ? null : el("button", { id: "claim-now", class: "primary",
    onclick: () => change(() => api("POST", `/conversations/${c.id}/claim`, { if_assignee_id: current })) },
    "Claim this chat");
  return el("div", { class: "chip" }, button, claimNow, menu);
}

function conversationPanel() {
  const c = state.conversation;
  if (!c) return el("section", { class: "panel empty", id: "conversation" }, "Pick a conversation.");
  const widget = state.widgets.get(c.widget_id);
  const actions = [];
  if (c.status === "active") {
    actions.push(el("button", { id: "takeover", onclick: () => act(() => api("POST", `/conversations/${c.id}/takeover`)) }, "Take over"));
  }
  actions.push(c.status === "closed"
    ? el("button", { id: "reopen", onclick: () => act(() => api("POST", `/conversations/${c.id}/reopen`)) }, "Reopen")
    : el("button", { id: "close", onclick: () => act(() => api("POST", `/conversations/${c.id}/close`)) }, "Close"));
  const text = el("textarea", { name: "body", required: true, "aria-label": "Reply", placeholder: c.assignee_id === null ? "Reply (you will become the assignee)" : "Reply" });
  const form = el("form", { class: "reply" }, text, el("button", { class: "primary", type: "submit" }, "Send"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!text.value.trim()) return;
    await act(() => api("POST", `/conversations/${c.id}/messages`, { body: text.value }));
    text.value = "";
  });
  const waiting = waitingText(c);
  return el("section", { class: "panel conversation", id: "conversation", "data-conversation": c.id, "aria-label": "Conversation" },
    el("header", {},
      el("h2", {}, visitorName(c.visitor), widgetLabel(widget), " ",
        el("span", { class: `status ${c.status}`, id: "conversation-status" }, STATUS_LABEL[c.status])),
      assigneeChip(c), actions, detailsToggle()),
    waiting ? el("p", { class: "notice", id: "waiting" }, waiting) : null,
    el("ol", { class: "timeline", id: "timeline" }, timelineItems(c)),
    form);
}

async function act(action) {
  try {
    await action();
    await refreshConversation();
  } catch (e) {
    flash(e.message, true);
  }
}

async function refreshConversation() {
  if (!state.conversation) return;
  try {
    state.conversation = await api("GET", `/conversations/${state.conversation.id}`);
  } catch (e) {
    state.conversation = null;
    flash(e.status === 404 ? "That conversation does not exist." : e.message, true);
  }
  const panel = document.getElementById("conversation");
  if (panel) panel.replaceWith(conversationPanel());
  const timeline = document.getElementById("timeline");
  if (timeline) timeline.scrollTop = timeline.scrollHeight;
  await refreshVisitor();
}

async function renderInbox(conversationId) {
  state.conversation = null;
  details.record = null;
  const loads = [loadRows()];
  if (conversationId) {
    loads.push(api("GET", `/conversations/${conversationId}`).then((c) => { state.conversation = c; })
      .catch(() => flash("That conversation does not exist.", true)));
  }
  await Promise.all(loads);
  const layout = el("div", { class: "inbox", id: "inbox" }, listPanel(), conversationPanel(), visitorPanel());
  layout.classList.toggle("with-details", Boolean(state.conversation));
  page("inbox", layout);
  const timeline = document.getElementById("timeline");
  if (timeline) timeline.scrollTop = timeline.scrollHeight;
  await refreshVisitor();
}

// ---------- visitor details ----------

// The record of the open conversation's visitor (`GET /visitors/{id}`), and whether the
// details sheet is open on narrow screens (on wide ones the panel is always beside the chat).
const details = { record: null, open: false };

/** A visitor's name as rows and headers show it, with a mark when the site vouched for them. */
function visitorName(v) {
  return el("span", { class: "visitor-name", "data-visitor": v.id }, v.display_name,
    v.verified ? el("span", { class: "verified-mark", title: "Verified by your site", "aria-label": "verified" }, " ✓") : null);
}

/** Which widget a chat came in on, when there is more than one to tell apart. */
function widgetLabel(widget) {
  return state.widgets.size > 1 ? el("span", { class: "row-widget" }, ` · ${widget ? widget.name : "Widget"}`) : null;
}

/** A link only for web addresses (the server accepts nothing else; this is a second check). */
function webLink(url, text, title) {
  return /^https?:\/\//i.test(url)
    ? el("a", { class: "url", href: url, target: "_blank", rel: "noopener noreferrer", title }, text)
    : el("span", { class: "url", title }, text);
}

/** Up to two letters for a visitor's avatar, from the words of their name that have any. */
function visitorInitials(name) {
  const letters = name.split(/\s+/).map((w) => w.match(/[\p{L}\p{N}]/u)?.[0]).filter(Boolean);
  return letters.slice(0, 2).join("").toUpperCase() || "?";
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

function ago(iso) {
  const minutes = Math.round((Date.now() - new Date(iso).getTime()) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 24 * 60) return `${Math.round(minutes / 60)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function detailsToggle() {
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

function visitorPanel() {
  const c = state.conversation;
  if (!c) return null;
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
  return el("aside", { class: "panel visitor-panel" + (details.open ? " open" : ""), id: "visitor-panel", "aria-label": "Visitor details",
    onkeydown: (e) => { if (e.key === "Escape" && details.open) setDetailsOpen(false); } },
    el("div", { class: "visitor-head" },
      el("span", { class: "avatar visitor-avatar", "aria-hidden": "true" }, visitorInitials(c.visitor.display_name)),
      el("div", {},
        el("h3", { id: "visitor-name" }, c.visitor.display_name),
        c.visitor.verified
          ? el("span", { class: "badge verified", id: "visitor-verified" }, "Verified")
          : el("span", { class: "badge", id: "visitor-verified" }, "Not verified")),
      el("button", { class: "close-details", "aria-label": "Close details", onclick: () => setDetailsOpen(false) }, "✕")),
    body);
}

/** Reads the open conversation's visitor record again and redraws their panel. */
async function refreshVisitor() {
  const c = state.conversation;
  const panel = document.getElementById("visitor-panel");
  if (!c) panel?.remove();
  if (!c || !panel) return;
  try {
    details.record = await api("GET", `/visitors/${c.visitor_id}`);
  } catch (_) {
    details.record = null;
  }
  if (state.conversation && state.conversation.id === c.id) document.getElementById("visitor-panel")?.replaceWith(visitorPanel());
}

// ---------- widgets ----------

function embedSnippet(widget) {
  return `<script src="${location.origin}/widget.js" data-key="${widget.key}" async></script>`;
}

function renderWidgets() {
  const isManager = state.me.role !== "operator";
  const rows = [...state.widgets.values()].map((w) =>
    el("tr", {}, el("td", {}, link(`/widgets/${w.id}`, w.name)), el("td", {}, MODES.find((m) => m[0] === w.routing.mode)[1])));
  const form = el("form", { class: "stack" },
    el("label", {}, "New widget name", el("input", { name: "name", required: true })),
    el("button", { class: "primary", type: "submit" }, "Create widget"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const w = await api("POST", "/widgets", { name: new FormData(form).get("name") });
      go(`/widgets/${w.id}`);
    } catch (err) {
      flash(err.message, true);
    }
  });
  page("widgets", el("section", { class: "panel card" }, el("h1", {}, "Widgets"),
    rows.length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Widget"), el("th", {}, "Routing"))), el("tbody", {}, rows))
      : el("p", { class: "empty" }, "No widgets yet."),
    isManager ? form : null));
}

function renderWidget(id) {
  const w = state.widgets.get(id);
  if (!w) return page("widgets", el("p", { class: "empty" }, "That widget does not exist."));
  const isManager = state.me.role !== "operator";
  const form = el("form", { class: "stack", id: "routing-form" },
    el("fieldset", {}, el("legend", {}, "Routing mode"),
      MODES.map(([value, label, hint]) => el("label", {},
        el("input", { type: "radio", name: "mode", value, checked: w.routing.mode === value, disabled: !isManager }), " ", label,
        el("span", { class: "hint" }, hint)))),
    el("fieldset", {}, el("legend", {}, "Eligible teammates (none checked = everyone)"),
      [...state.operators.values()].map((o) => el("label", {},
        el("input", { type: "checkbox", name: "eligible", value: o.id, checked: w.routing.eligible_operator_ids.includes(o.id), disabled: !isManager }),
        " ", o.name, !o.active ? el("span", { class: "away-tag" }, " (deactivated)")
          : o.availability === "away" ? el("span", { class: "away-tag" }, " (Away)") : null))),
    isManager ? el("button", { class: "primary", type: "submit" }, "Save routing") : el("p", {}, "Only owners and admins can change routing."));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    try {
      const saved = await api("PUT", `/widgets/${id}/routing`, {
        mode: data.get("mode"),
        eligible_operator_ids: data.getAll("eligible").map(Number),
      });
      state.widgets.set(id, saved);
      flash("Routing saved.");
    } catch (err) {
      flash(err.message, true);
    }
  });
  page("widgets", el("section", { class: "panel card" },
    el("p", {}, link("/widgets", "← Widgets")),
    el("h1", {}, w.name), el("h2", {}, "Routing"), form,
    el("h2", {}, "Embed"), el("p", {}, "Paste this before </body> on your site:"),
    el("pre", { class: "snippet", id: "snippet" }, embedSnippet(w)),
    el("button", { onclick: () => navigator.clipboard?.writeText(embedSnippet(w)).then(() => flash("Copied.")) }, "Copy snippet"),
    greetingForm(w, isManager),
    originsForm(w, isManager),
    identitySection(w, isManager),
    el("h2", {}, "Knowledge base"),
    el("p", {}, "The AI assistant answers visitors from these questions and answers, and hands over when it cannot."),
    el("div", { id: "articles" }, el("p", { class: "loading" }, "Loading…"))));
  loadArticles(w, isManager);
}

function greetingForm(w, isManager) {
  const field = el("textarea", { name: "greeting", rows: 2, cols: 50, maxlength: 500, disabled: !isManager, "aria-label": "Greeting" });
  field.value = w.greeting;
  const form = el("form", { class: "stack", id: "greeting-form" },
    el("h2", {}, "Greeting"),
    el("p", {}, "The first thing the widget says when a visitor opens it."),
    field, isManager ? el("div", { class: "buttons" },
      el("button", { type: "submit" }, "Save greeting"),
      el("button", { type: "button", onclick: () => save(null) }, "Use the default")) : null);
  const save = async (greeting) => {
    try {
      const saved = await api("PATCH", `/widgets/${w.id}`, { greeting });
      state.widgets.set(w.id, saved);
      field.value = saved.greeting;
      flash("Greeting saved.");
    } catch (err) {
      flash(err.message, true);
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); save(field.value); });
  return form;
}

/** How the site tells the widget who its signed-in user is; the secret for owners and admins. */
function identitySection(w, isManager) {
  const snippet = `<script src="${location.origin}/widget.js" data-key="${w.key}"\n  data-user-id="USER_ID" data-user-hash="USER_HASH"\n  data-name="NAME" data-email="EMAIL" async></script>`;
  const secret = el("div", { id: "identity-secret" },
    isManager ? el("p", { class: "loading" }, "Loading…") : el("p", {}, "Only owners and admins can see the identity secret."));
  if (isManager) {
    api("GET", `/widgets/${w.id}`).then((full) => {
      const value = el("code", { class: "secret", id: "identity-secret-value" }, "•".repeat(24));
      const show = el("button", { type: "button", onclick: () => {
        const hidden = value.textContent !== full.identity_secret;
        value.textContent = hidden ? full.identity_secret : "•".repeat(24);
        show.textContent = hidden ? "Hide" : "Show";
      } }, "Show");
      secret.replaceChildren(el("p", {}, "Identity secret: ", value, " ", show),
        el("p", { class: "hint" }, "Keep it on your server. Never put it in a page."));
    }).catch((err) => secret.replaceChildren(el("p", { class: "notice error" }, err.message)));
  }
  return el("section", { id: "identity" },
    el("h2", {}, "Identity verification"),
    el("p", {}, "Tell the widget who your signed-in customers are, and their chats from every device come together under one visitor, marked verified. Your server computes USER_HASH as the hex HMAC-SHA256 of the user id, keyed with this widget's identity secret:"),
    el("pre", { class: "snippet" }, 'hmac.new(SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()   # Python\ncrypto.createHmac("sha256", SECRET).update(userId).digest("hex")           // Node.js'),
    el("p", {}, "Then add the user to the snippet, or call Switchboard(\"identify\", {user_id, user_hash, name, email}) once they sign in, and Switchboard(\"reset\") when they sign out:"),
    el("pre", { class: "snippet" }, snippet),
    secret);
}

function originsForm(w, isManager) {
  const field = el("textarea", { name: "origins", rows: 3, cols: 50, disabled: !isManager, "aria-label": "Allowed sites" });
  field.value = w.allowed_origins.join("\n");
  const form = el("form", { class: "stack", id: "origins-form" },
    el("h2", {}, "Allowed sites"),
    el("p", {}, "One origin per line, like https://shop.example. Empty: any site may embed the widget."),
    field, isManager ? el("button", { type: "submit" }, "Save sites") : null);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const origins = field.value.split("\n").map((o) => o.trim()).filter(Boolean);
      const saved = await api("PUT", `/widgets/${w.id}/allowed-origins`, { allowed_origins: origins });
      state.widgets.set(w.id, saved);
      field.value = saved.allowed_origins.join("\n");
      flash("Allowed sites saved.");
    } catch (err) {
      flash(err.message, true);
    }
  });
  return form;
}

async function loadArticles(w, isManager) {
  const box = document.getElementById("articles");
  if (!box) return;
  const { items } = await api("GET", `/widgets/${w.id}/articles`);
  const rows = items.map((a) => el("tr", { "data-article": a.id },
    el("td", {}, a.question), el("td", {}, a.answer),
    el("td", {}, isManager ? el("button", { onclick: async () => {
      await api("DELETE", `/widgets/${w.id}/articles/${a.id}`).catch((err) => flash(err.message, true));
      loadArticles(w, isManager);
    } }, "Delete") : null)));
  const form = el("form", { class: "stack", id: "article-form" },
    el("label", {}, "Question", el("input", { name: "question", required: true, maxlength: 500 })),
    el("label", {}, "Answer", el("textarea", { name: "answer", required: true, rows: 3, cols: 50, maxlength: 5000 })),
    el("button", { type: "submit" }, "Add article"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("POST", `/widgets/${w.id}/articles`, Object.fromEntries(new FormData(form).entries()));
      loadArticles(w, isManager);
    } catch (err) {
      flash(err.message, true);
    }
  });
  box.replaceChildren(
    items.length
      ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Question"), el("th", {}, "Answer"), el("th", {}))), el("tbody", {}, rows))
      : el("p", { class: "empty" }, "No articles yet."),
    isManager ? form : null);
}

// ---------- teammates ----------

const ROLE_LABEL = { owner: "Owner", admin: "Admin", operator: "Operator" };

/** "in 6 days", "in 5 hours": how long until an ISO time. */
function timeUntil(iso) {
  const hours = Math.max(0, (new Date(iso) - Date.now()) / 3600e3);
  if (hours >= 48) return `in ${Math.round(hours / 24)} days`;
  if (hours >= 1) return `in ${Math.round(hours)} hours`;
  return "within the hour";
}

/** A modal dialog; resolves to true when `confirmText` is pressed. `content` is a node list. */
function askFirst(title, content, confirmText, danger = false) {
  return new Promise((resolve) => {
    const dialog = el("dialog", { id: "confirm", "aria-labelledby": "confirm-title" });
    const close = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    dialog.append(el("form", { method: "dialog", class: "dialog-body" },
      el("h2", { id: "confirm-title" }, title), content,
      el("div", { class: "dialog-actions" },
        el("button", { type: "button", "data-answer": "cancel", onclick: () => close(false) }, "Cancel"),
        el("button", { type: "button", class: danger ? "danger" : "primary", "data-answer": "confirm", onclick: () => close(true) }, confirmText))));
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); close(false); });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("[data-answer=confirm]").focus();
  });
}

function teammateEditor(o) {
  const canOwners = state.me.role === "owner";
  const roles = Object.entries(ROLE_LABEL).filter(([value]) => canOwners || (value !== "owner" && o.role !== "owner"));
  const name = el("input", { name: "name", required: true, maxlength: 100, value: o.name });
  const role = el("select", { name: "role", disabled: !canOwners && o.role === "owner" },
    (roles.length ? roles : [[o.role, ROLE_LABEL[o.role]]]).map(([value, label]) => el("option", { value, selected: value === o.role }, label)));
  const capacity = el("input", { name: "capacity", type: "number", min: 1, max: 1000, step: 1, placeholder: "No limit",
    value: o.capacity ?? "", "aria-describedby": `capacity-hint-${o.id}` });
  const error = el("p", { class: "notice error", role: "alert", hidden: true });
  const form = el("form", { class: "editor", "data-editor": o.id },
    el("label", {}, "Name", name),
    el("label", {}, "Role", role),
    el("label", {}, "Capacity", capacity,
      el("span", { class: "hint", id: `capacity-hint-${o.id}` }, "Most open chats routing gives them, 1–1000. Empty: no limit.")),
    error,
    el("div", { class: "editor-actions" },
      el("button", { type: "button", onclick: () => redrawTeam(null) }, "Cancel"),
      el("button", { type: "submit", class: "primary" }, "Save")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const change = { name: name.value, capacity: capacity.value === "" ? null : Number(capacity.value) };
    if (!role.disabled && role.value !== o.role) change.role = role.value;
    try {
      await api("PATCH", `/operators/${o.id}`, change);
      await loadTeam();
      redrawTeam(null);
      flash(`${change.name.trim()} saved.`);
    } catch (err) {
      error.hidden = false;
      error.textContent = err.message;
    }
  });
  return form;
}

function availabilityBadge(o) {
  if (!o.active) return el("span", { class: "badge off", "data-state": "deactivated" }, "Deactivated");
  return o.availability === "away"
    ? el("span", { class: "badge away", "data-state": "away" }, "Away")
    : el("span", { class: "badge on", "data-state": "available" }, "Available");
}

async function changeActive(o, active) {
  const open = o.load ? `${o.load} open chat${o.load === 1 ? "" : "s"}` : "no open chats";
  const confirmed = active
    ? await askFirst(`Reactivate ${o.name}?`,
      [el("p", {}, `${o.name} can sign in again with their password. They start as Away, so no chats are routed to them until they turn Available.`)],
      "Reactivate")
    : await askFirst(`Deactivate ${o.name}?`,
      [el("p", {}, `${o.name} is signed out everywhere at once and can no longer sign in.`),
        el("p", {}, `They have ${open}; ${o.load ? "those go back to routing, by each widget's mode" : "nothing needs to move"}. Their name stays on past conversations, and you can reactivate them later.`)],
      "Deactivate", true);
  if (!confirmed) return;
  try {
    await api("POST", `/operators/${o.id}/${active ? "reactivate" : "deactivate"}`);
    await loadTeam();
    redrawTeam(null);
    flash(active ? `${o.name} is back on the team.` : `${o.name} was deactivated.`);
  } catch (err) {
    flash(err.message, true);
  }
}

function teammateRow(o, isManager, editing) {
  const you = o.id === state.me.id;
  const mayDeactivate = isManager && !you && (state.me.role === "owner" || o.role !== "owner");
  const actions = isManager ? el("div", { class: "team-actions" },
    el("button", { "data-edit": o.id, onclick: () => redrawTeam(o.id) }, "Edit"),
    mayDeactivate
      ? (o.active
        ? el("button", { class: "danger-text", "data-deactivate": o.id, onclick: () => changeActive(o, false) }, "Deactivate")
        : el("button", { "data-reactivate": o.id, onclick: () => changeActive(o, true) }, "Reactivate"))
      : null) : null;
  return el("li", { class: o.active ? "" : "inactive", "data-operator": o.id },
    el("div", { class: "team-who" }, avatar(o),
      el("span", { class: "team-name" },
        el("span", {}, el("strong", {}, o.name), you ? el("span", { class: "you" }, " (you)") : null),
        el("span", { class: "team-email" }, o.email))),
    el("span", { class: "team-role", "data-role": o.role }, ROLE_LABEL[o.role]),
    el("span", { class: "team-state" }, availabilityBadge(o)),
    el("span", { class: "team-load", title: "Open chats / capacity" },
      el("span", { "data-load": o.id }, String(o.load ?? 0)), " open",
      el("span", { class: "capacity", "data-capacity": o.id }, o.capacity ? ` · cap ${o.capacity}` : " · no cap")),
    actions,
    editing ? teammateEditor(o) : null);
}

function inviteForm() {
  const email = el("input", { name: "email", type: "email", required: true, autocomplete: "off", placeholder: "name@company.com" });
  const name = el("input", { name: "name", required: true, maxlength: 100, autocomplete: "off", placeholder: "Their name" });
  const role = el("select", { name: "role" },
    el("option", { value: "operator" }, "Operator"), el("option", { value: "admin" }, "Admin"),
    state.me.role === "owner" ? el("option", { value: "owner" }, "Owner") : null);
  const result = el("div", { id: "invite-result" });
  const form = el("form", { class: "invite", id: "invite-form" },
    el("label", {}, "Email", email), el("label", {}, "Name", name), el("label", {}, "Role", role),
    el("button", { class: "primary", type: "submit" }, "Send invitation"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const invitation = await api("POST", "/invitations", { email: email.value, name: name.value, role: role.value });
      await renderInvitations();
      form.reset();
      result.replaceChildren(invitation.emailed
        ? el("p", { class: "notice", role: "status" }, `Invitation sent to ${invitation.email}. The link works for 7 days.`)
        : el("div", { class: "notice", role: "status" },
          el("p", {}, `This server sends no email (no --smtp-url), so send ${invitation.name} this link yourself. It works once, for 7 days, and is not shown again:`),
          el("div", { class: "link-box" },
            el("input", { id: "invite-link", readonly: true, value: invitation.link, "aria-label": "Invitation link", onfocus: (ev) => ev.target.select() }),
            el("button", { type: "button", onclick: () => navigator.clipboard?.writeText(invitation.link).then(() => flash("Link copied.")) }, "Copy link"))));
    } catch (err) {
      result.replaceChildren(el("p", { class: "notice error", role: "alert" }, err.message));
    }
  });
  return el("section", { class: "panel card" },
    el("h2", {}, "Invite a teammate"),
    el("p", { class: "muted" }, "They get an email with a link to choose their password and join."),
    form, result);
}

async function renderInvitations() {
  const box = document.getElementById("invitations");
  if (!box) return;
  let items;
  try {
    ({ items } = await api("GET", "/invitations"));
  } catch (err) {
    box.replaceChildren(el("p", { class: "notice error" }, err.message));
    return;
  }
  box.replaceChildren(items.length
    ? el("ul", { class: "invitations" }, items.map((i) => el("li", { "data-invitation": i.id },
      el("div", {}, el("strong", {}, i.name), " ", el("span", { class: "muted" }, i.email)),
      el("span", { class: "team-role" }, ROLE_LABEL[i.role]),
      el("span", { class: "muted" }, `Invited by ${i.invited_by_id ? operatorName(i.invited_by_id) : "a former teammate"} · expires ${timeUntil(i.expires_at)}`),
      el("button", { "data-revoke": i.id, onclick: async () => {
        try {
          await api("DELETE", `/invitations/${i.id}`);
          flash(`The invitation to ${i.email} was revoked.`);
        } catch (err) {
          flash(err.message, true);
        }
        renderInvitations();
      } }, "Revoke"))))
    : el("p", { class: "empty" }, "No pending invitations."));
}

// The teammate whose editor is open on the Teammates page, if any: live updates leave the
// list alone meanwhile.
let teamEditing = null;

function teamCard() {
  const isManager = state.me.role !== "operator";
  const team = [...state.operators.values()];
  const active = team.filter((o) => o.active).length;
  return el("section", { class: "panel card", id: "team-card" },
    el("div", { class: "card-head" }, el("h1", {}, "Teammates"),
      el("span", { class: "muted" }, `${active} active${team.length > active ? `, ${team.length - active} deactivated` : ""}`)),
    el("div", { class: "team-columns", "aria-hidden": "true" },
      ["Teammate", "Role", "Status", "Open chats"].map((h) => el("span", {}, h))),
    el("ul", { class: "team", id: "team" }, team.map((o) => teammateRow(o, isManager, o.id === teamEditing))));
}

/** Redraws the team list only (the invite form keeps what is typed in it). */
function redrawTeam(editing) {
  teamEditing = editing;
  document.getElementById("team-card")?.replaceWith(teamCard());
  document.querySelector("[data-editor] input[name=name]")?.focus();
}

/** After a live change: the list is redrawn unless an editor or a dialog is open. */
function teamChanged() {
  if (location.pathname === "/teammates" && teamEditing === null && !document.querySelector("dialog[open]")) redrawTeam(null);
}

function renderTeammates() {
  const isManager = state.me.role !== "operator";
  teamEditing = null;
  page("teammates", teamCard(),
    isManager ? inviteForm() : null,
    isManager ? el("section", { class: "panel card" }, el("h2", {}, "Pending invitations"),
      el("div", { id: "invitations" }, el("p", { class: "loading" }, "Loading…"))) : null);
  if (isManager) renderInvitations();
}

// ---------- settings ----------

function settingsHeader(active) {
  const tabs = [["/settings/profile", "Profile", "profile"], ["/settings/notifications", "Notifications", "notifications"]];
  return el("div", { class: "page-head" }, el("h1", {}, "Settings"),
    el("nav", { class: "tabs", "aria-label": "Settings" },
      tabs.map(([path, text, key]) => link(path, text, { "aria-current": key === active ? "page" : null }))));
}

function renderProfile() {
  const me = state.me;
  const nameForm = submitWith(el("form", { class: "stack", id: "profile-form" },
    el("label", {}, "Name", el("input", { name: "name", required: true, maxlength: 100, autocomplete: "name", value: me.name })),
    el("p", { class: "muted" }, `You sign in as ${me.email}, as ${ROLE_WITH_ARTICLE[me.role]}.`),
    el("button", { class: "primary", type: "submit" }, "Save name")),
  async ({ name }) => {
    state.me = { ...state.me, ...(await api("PATCH", "/me", { name })) };
    await loadTeam();
    renderProfile();
    flash("Name saved.");
  });
  const passwordForm = submitWith(el("form", { class: "stack", id: "password-form" },
    el("input", { type: "email", name: "username", value: me.email, autocomplete: "username", hidden: true }),
    el("label", {}, "Current password", el("input", { name: "current_password", type: "password", required: true, autocomplete: "current-password" })),
    el("label", {}, "New password", el("input", { name: "new_password", type: "password", required: true, minlength: 8, maxlength: 1024, autocomplete: "new-password" }),
      el("span", { class: "hint" }, "8 characters or more.")),
    el("label", {}, "New password again", el("input", { name: "repeat", type: "password", required: true, autocomplete: "new-password" })),
    el("button", { class: "primary", type: "submit" }, "Change password")),
  async ({ current_password, new_password, repeat }) => {
    if (new_password !== repeat) throw new Error("The two new passwords differ.");
    await api("PUT", "/me/password", { current_password, new_password });
    passwordForm.reset();
    flash("Password changed. You were signed out on your other devices.");
  });
  page("settings", el("div", { class: "narrow" }, settingsHeader("profile"),
    el("section", { class: "panel card" }, el("h2", {}, "Profile"), nameForm),
    el("section", { class: "panel card" }, el("h2", {}, "Password"),
      el("p", { class: "muted" }, "Changing it signs you out on your other devices."), passwordForm)));
}

// ---------- settings: notifications ----------

function base64UrlToBytes(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function setPush(on) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("This browser cannot receive web push.");
  const registration = await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (on) {
    if (!subscription) {
      const { public_key } = await api("GET", "/push/vapid-public-key");
      subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(public_key) });
    }
    await api("POST", "/me/push-subscriptions", subscription.toJSON());
  } else if (subscription) {
    await api("DELETE", "/me/push-subscriptions", { endpoint: subscription.endpoint }).catch(() => {});
    await subscription.unsubscribe();
  }
}

async function renderSettings() {
  const channels = await api("GET", "/me/notifications");
  const box = (name, label, hint) => el("label", {},
    el("input", { type: "checkbox", name, checked: channels[name],
      onchange: async (e) => {
        const on = e.target.checked;
        try {
          if (name === "push") await setPush(on);
          await api("PUT", "/me/notifications", { [name]: on });
          flash(`${label} ${on ? "on" : "off"}.`);
        } catch (err) {
          e.target.checked = !on;
          flash(err.message, true);
        }
      } }), " ", label, el("span", { class: "hint" }, hint));
  page("settings", el("div", { class: "narrow" }, settingsHeader("notifications"), el("section", { class: "panel card" },
    el("h2", {}, "Notifications"),
    el("p", {}, "When someone or something else assigns you a conversation:"),
    el("form", { class: "stack", id: "notification-settings", onsubmit: (e) => e.preventDefault() },
      box("push", "Web push", "A notification in this browser (it asks for permission)."),
      box("email", "Email", `An email to ${state.me.email} with a link to the chat.`)))));
}

// ---------- live updates ----------

let socket = null;
let retry = 0;
let refreshTimer = null;

function scheduleRefresh(conversationChanged) {
  if (conversationChanged) refreshConversation();
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { if (document.getElementById("list")) refreshList(); }, 50);
}

function connectEvents() {
  const since = state.lastEventId === null ? "" : `?since=${state.lastEventId}`;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/api/v1/events${since}`);
  socket.addEventListener("open", () => { retry = 0; });
  socket.addEventListener("message", (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch (_) { return; }
    if (typeof event.id === "number") state.lastEventId = event.id;
    onEvent(event);
  });
  socket.addEventListener("close", (closed) => {
    // 4003: this session ended (deactivated, or the password was changed or reset elsewhere).
    if (closed.code === 4003) {
      location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
      return;
    }
    retry = Math.min(retry + 1, 6);
    setTimeout(() => { connectEvents(); resync(); }, 250 * 2 ** retry);
  });
}

async function resync() {
  await loadTeam().catch(() => {});
  scheduleRefresh(true);
}

function onEvent(event) {
  const open = state.conversation && state.conversation.id === event.conversation_id;
  switch (event.type) {
    case "resync":
      resync();
      break;
    case "operator.availability_changed": {
      const o = state.operators.get(event.operator_id);
      if (o) o.availability = event.availability;
      if (event.operator_id === state.me.id) {
        state.me = { ...state.me, availability: event.availability };
        renderHeaderOnly(document.querySelector("nav a[aria-current=page]")?.textContent.toLowerCase());
      }
      teamChanged();
      // The chip's menu shows who is Away: redraw it unless it is open under the pointer.
      const panel = document.getElementById("conversation");
      if (panel && state.conversation && document.getElementById("assignee-menu")?.hidden !== false) {
        panel.replaceWith(conversationPanel());
      }
      break;
    }
    case "conversation.assigned":
      loadTeam().then(teamChanged).catch(() => {});
      scheduleRefresh(open);
      break;
    case "operator.updated":
      loadTeam().then(() => {
        const me = state.operators.get(state.me.id);
        if (me) state.me = { ...state.me, name: me.name, role: me.role, capacity: me.capacity };
        renderHeaderOnly(document.querySelector("nav a[aria-current=page]")?.textContent.toLowerCase());
        teamChanged();
      }).catch(() => {});
      break;
    case "widget.conversation_assigned":
      flash("A conversation was assigned to you.");
      break;
    case "conversation.created":
    case "conversation.status_changed":
    case "message.created":
      scheduleRefresh(open);
      break;
    case "visitor.updated": {
      const shown = state.conversation && [event.visitor_id, event.merged_visitor_id].includes(state.conversation.visitor_id);
      scheduleRefresh(shown);
      break;
    }
  }
}

// ---------- router ----------

// Where sign-in leads: back to the page that asked for it (a notification's deep link, say),
// if that is a page of this site.
function afterSignIn() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^\/(?![\/\\])/.test(next) ? next : "/inbox";
}

async function route() {
  const path = location.pathname;
  let match;
  if (path === "/login") return renderLogin();
  if (path === "/signup") return renderSignup();
  if (path === "/forgot") return renderForgot();
  if ((match = path.match(/^\/invite\/([^/]+)$/))) return renderInvite(decodeURIComponent(match[1]));
  if ((match = path.match(/^\/reset\/([^/]+)$/))) return renderReset(decodeURIComponent(match[1]));
  if (!state.me) {
    try {
      state.me = await api("GET", "/me");
    } catch (e) {
      if (e.status === 401) {
        const signup = await api("GET", "/signup").catch(() => ({ first_run: false }));
        location.href = signup.first_run ? "/signup" : `/login?next=${encodeURIComponent(path)}`;
        return;
      }
      throw e;
    }
    await loadTeam();
    connectEvents();
  }
  if ((match = path.match(/^\/inbox\/conversations\/(\d+)$/))) return renderInbox(Number(match[1]));
  if (path === "/" || path === "/inbox") return renderInbox(null);
  if (path === "/widgets") return renderWidgets();
  if ((match = path.match(/^\/widgets\/(\d+)$/))) return renderWidget(Number(match[1]));
  if (path === "/teammates") return renderTeammates();
  if (path === "/settings/profile" || path === "/settings") return renderProfile();
  if (path === "/settings/notifications") return renderSettings();
  page(null, el("p", { class: "empty" }, "Page not found."));
}

window.addEventListener("popstate", route);
route().catch((e) => root.replaceChildren(el("p", { class: "notice error" }, `Something went wrong: ${e.message}`)));
