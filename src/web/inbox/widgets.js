// Widgets: the list, and one widget's routing, embed snippet, greeting, allowed sites,
// identity verification and knowledge base.
import { api } from "./api.js";
import { el, link } from "./dom.js";
import { submitWith } from "./forms.js";
import { state, MODES, isManager as managing } from "./state.js";
import { page, flash } from "./layout.js";
import { go } from "./router.js";
import { nextChatText } from "./decision.js";

function embedSnippet(widget) {
  return `<script src="${location.origin}/widget.js" data-key="${widget.key}" async></script>`;
}

export function renderWidgets() {
  const isManager = managing();
  const rows = [...state.widgets.values()].map((w) =>
    el("tr", {}, el("td", {}, link(`/widgets/${w.id}`, w.name)), el("td", {}, MODES.find((m) => m[0] === w.routing.mode)[1])));
  const form = submitWith(el("form", { class: "stack", id: "widget-form" },
    el("label", {}, "New widget name", el("input", { name: "name", required: true, maxlength: 100 })),
    el("button", { class: "primary", type: "submit" }, "Create widget")),
  async ({ name }) => {
    const w = await api("POST", "/widgets", { name });
    // The new widget's page reads the list of widgets: it must be in it.
    state.widgets.set(w.id, w);
    go(`/widgets/${w.id}`);
  });
  page("widgets", el("section", { class: "panel card" }, el("h1", {}, "Widgets"),
    rows.length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Widget"), el("th", {}, "Routing"))), el("tbody", {}, rows))
      : el("p", { class: "empty" }, "No widgets yet."),
    isManager ? form : null));
}

export function renderWidget(id) {
  const w = state.widgets.get(id);
  if (!w) return page("widgets", el("p", { class: "empty" }, "That widget does not exist."));
  const isManager = managing();
  const form = submitWith(el("form", { class: "stack", id: "routing-form" },
    el("fieldset", {}, el("legend", {}, "Routing mode"),
      MODES.map(([value, label, hint]) => el("label", {},
        el("input", { type: "radio", name: "mode", value, checked: w.routing.mode === value, disabled: !isManager }), " ", label,
        el("span", { class: "hint" }, hint)))),
    el("fieldset", {}, el("legend", {}, "Eligible teammates (none checked = everyone)"),
      [...state.operators.values()].map((o) => el("label", {},
        el("input", { type: "checkbox", name: "eligible", value: o.id, checked: w.routing.eligible_operator_ids.includes(o.id), disabled: !isManager }),
        " ", o.name, !o.active ? el("span", { class: "away-tag" }, " (deactivated)")
          : o.availability === "away" ? el("span", { class: "away-tag" }, " (Away)") : null))),
    timerField("reassign", "Move unanswered chats on",
      "When the teammate routing gave a chat to has not replied within this time, route it to someone who has not had it.",
      w.routing.reassign_after_secs, isManager, "minutes"),
    timerField("auto_close", "Close silent chats",
      "Close a chat when nobody has written anything for this long; its place goes to the next chat in line.",
      w.routing.auto_close_after_secs, isManager, "hours"),
    isManager ? el("button", { class: "primary", type: "submit" }, "Save routing") : el("p", {}, "Only owners and admins can change routing.")),
  async (_, data) => {
    const saved = await api("PUT", `/widgets/${id}/routing`, {
      mode: data.get("mode"),
      eligible_operator_ids: data.getAll("eligible").map(Number),
      reassign_after_secs: timerSeconds(data, "reassign"),
      auto_close_after_secs: timerSeconds(data, "auto_close"),
    });
    state.widgets.set(id, saved);
    flash("Routing saved.");
    refreshPreview();
  });
  page("widgets", el("section", { class: "panel card" },
    el("p", {}, link("/widgets", "← Widgets")),
    el("h1", {}, w.name), el("h2", {}, "Routing"),
    el("p", { class: "preview-line", id: "routing-preview", role: "status" }, "Working out who gets the next chat…"),
    form,
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
  refreshPreview();
}

const UNITS = [["seconds", 1], ["minutes", 60], ["hours", 3600], ["days", 86400]];

/** The largest unit that says `secs` in whole numbers, so a saved 1800 shows as 30 minutes. */
function inUnits(secs, fallback) {
  if (!secs) return [null, fallback];
  const [unit, size] = [...UNITS].reverse().find(([, size]) => secs % size === 0);
  return [secs / size, unit];
}

/** A widget timer: a switch (off = null) and, when on, an amount with its unit. */
function timerField(name, label, hint, secs, isManager, fallbackUnit) {
  const [amount, unit] = inUnits(secs, fallbackUnit);
  const on = el("input", { type: "checkbox", name: `${name}_on`, id: `${name}-on`, checked: secs !== null && secs !== undefined, disabled: !isManager });
  const number = el("input", { type: "number", name: `${name}_amount`, id: `${name}-amount`, min: 1, step: 1, value: amount ?? "",
    required: true, disabled: !isManager, "aria-label": `${label}: after how long` });
  const units = el("select", { name: `${name}_unit`, id: `${name}-unit`, disabled: !isManager, "aria-label": `${label}: unit` },
    UNITS.map(([u]) => el("option", { value: u, selected: u === unit }, u)));
  const after = el("span", { class: "timer-after" }, "after ", number, " ", units);
  const off = el("span", { class: "timer-off muted" }, "Off");
  const shown = () => {
    after.hidden = !on.checked;
    off.hidden = on.checked;
    number.disabled = !isManager || !on.checked;
    units.disabled = !isManager || !on.checked;
  };
  on.addEventListener("change", () => { shown(); if (on.checked && !number.value) number.focus(); });
  shown();
  return el("fieldset", { class: "timer", id: `${name}-timer` },
    el("legend", {}, label),
    el("div", { class: "timer-row" }, el("label", { class: "switch" }, on, " On"), after, off),
    el("span", { class: "hint" }, hint));
}

/** A timer's seconds from the form, or null when it is off (the server checks the range). */
function timerSeconds(data, name) {
  if (!data.get(`${name}_on`)) return null;
  const size = UNITS.find(([u]) => u === data.get(`${name}_unit`))[1];
  return Math.round(Number(data.get(`${name}_amount`)) * size);
}

let previewTimer = null;

/** Who gets the next chat of the widget on screen, in words; kept live by `widgetsEvent`. */
async function refreshPreview() {
  const line = document.getElementById("routing-preview");
  const id = Number(location.pathname.match(/^\/widgets\/(\d+)$/)?.[1]);
  if (!line || !id) return;
  try {
    const decision = await api("GET", `/widgets/${id}/routing/preview`);
    const current = document.getElementById("routing-preview");
    if (current) {
      current.textContent = nextChatText(decision);
      current.dataset.chosen = decision.chosen_operator_id ?? "";
      current.classList.toggle("nobody", decision.chosen_operator_id === null);
    }
  } catch (e) {
    line.textContent = e.message;
  }
}

/** Presence, loads and assignments change who is next: the preview line follows them. */
export function widgetsEvent(event) {
  if (!["operator.availability_changed", "operator.updated", "conversation.assigned", "conversation.status_changed"].includes(event.type)) return;
  clearTimeout(previewTimer);
  previewTimer = setTimeout(refreshPreview, 100);
}

function greetingForm(w, isManager) {
  const field = el("textarea", { name: "greeting", rows: 2, cols: 50, maxlength: 500, disabled: !isManager, "aria-label": "Greeting" });
  field.value = w.greeting;
  const form = el("form", { class: "stack", id: "greeting-form" },
    el("h2", {}, "Greeting"),
    el("p", {}, "The first thing the widget says when a visitor opens it."),
    field, isManager ? el("div", { class: "buttons" },
      el("button", { type: "submit" }, "Save greeting"),
      el("button", { type: "button", onclick: () => save(null).catch((err) => flash(err.message, true)) }, "Use the default")) : null);
  const save = async (greeting) => {
    const saved = await api("PATCH", `/widgets/${w.id}`, { greeting });
    state.widgets.set(w.id, saved);
    field.value = saved.greeting;
    flash("Greeting saved.");
  };
  return submitWith(form, ({ greeting }) => save(greeting));
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
  return submitWith(form, async () => {
    const origins = field.value.split("\n").map((o) => o.trim()).filter(Boolean);
    const saved = await api("PUT", `/widgets/${w.id}/allowed-origins`, { allowed_origins: origins });
    state.widgets.set(w.id, saved);
    field.value = saved.allowed_origins.join("\n");
    flash("Allowed sites saved.");
  });
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
  submitWith(form, async (data) => {
    await api("POST", `/widgets/${w.id}/articles`, data);
    await loadArticles(w, isManager);
  });
  box.replaceChildren(
    items.length
      ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Question"), el("th", {}, "Answer"), el("th", {}))), el("tbody", {}, rows))
      : el("p", { class: "empty" }, "No articles yet."),
    isManager ? form : null);
}
