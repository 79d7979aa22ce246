// Switchboard chat widget. Embed with one line:
//   <script src="https://YOUR-SWITCHBOARD/widget.js" data-key="WIDGET_KEY" async></script>
// For a signed-in customer add data-user-id, data-user-hash (hex HMAC-SHA256 of the user id
// under the widget's identity secret, computed on your server), data-name and data-email, or
// call Switchboard("identify", {user_id, user_hash, name, email}) once they sign in and
// Switchboard("reset") when they sign out. Switchboard("open") and ("close") show and hide it.
//
// It draws a launcher and a chat panel inside a Shadow DOM (no CSS leaks either way), defines
// no global but `Switchboard`, keeps the visitor's token in localStorage so a returning visitor
// sees their chat, tells the server which page the visitor is on, and shows replies live over
// the visitor's WebSocket. Text from people is always inserted as text, and every message the
// visitor reads is written for them, never for whoever runs the site.
(() => {
  const script = document.currentScript;
  if (!script || !script.dataset.key) return;
  const key = script.dataset.key;
  const server = new URL(script.src).origin;
  const base = `${server}/api/v1/widget/${encodeURIComponent(key)}`;
  const storageKey = `switchboard:${key}`;
  const MAX_CHARS = 10000;
  const WARN_AT = 9000;
  const MAX_URL = 2048;

  const saved = (() => {
    try { return JSON.parse(localStorage.getItem(storageKey) || "{}"); } catch (_) { return {}; }
  })();
  const state = {
    token: saved.token || null,
    conversationId: saved.conversationId || null,
    // Who the site last identified on this browser ("user_id|name|email"), so a page load does
    // not identify again for nothing.
    identified: saved.identified || null,
    identity: null,
    lastEventId: null,
    status: null,
    answering: null,
    available: true,
    wantsPerson: false,
    // Why a chat the team has waits for someone (`manual_mode`, `no_available_operator`), its
    // place in line, and the email the visitor left for replies they miss.
    waitingReason: null,
    queue: null,
    email: null,
    reportedUrl: null,
  };
  const save = () => {
    try {
      localStorage.setItem(storageKey, JSON.stringify({ token: state.token, conversationId: state.conversationId, identified: state.identified }));
    } catch (_) { /* private mode: the chat lasts as long as the page */ }
  };

  // ---------- what visitors read ----------

  const TEXT = {
    unavailable: "Chat isn't available on this page right now.",
    offline: "We couldn't reach the chat. Check your connection and try again.",
    tooFast: "You're sending messages a little too quickly. Please wait a moment and try again.",
    tooLong: `That message is too long. Please keep it under ${MAX_CHARS.toLocaleString()} characters.`,
    empty: "Please write a message first.",
    failed: "Something went wrong on our side. Please try again in a moment.",
    person: "Tell us what you need, and a person from our team will answer.",
    closed: "This chat was closed.",
    manual: "A person will reply here soon.",
    nobody: "Everyone on our team is away right now. A person will reply here as soon as they're back.",
    offer: "Not staying? Leave your email and we'll send you the reply.",
    badEmail: "Please enter an email address like name@example.com.",
  };

  /** "You're number 2 in line — about 3 minutes": the place, and the wait when it is known. */
  function queueText(queue) {
    if (!queue || !queue.position) return "";
    const place = queue.position === 1 ? "You're next in line" : `You're number ${queue.position} in line`;
    const secs = queue.estimated_wait_secs;
    if (secs === null || secs === undefined) return `${place}.`;
    const minutes = Math.max(1, Math.round(secs / 60));
    return `${place} — about ${minutes} minute${minutes === 1 ? "" : "s"}.`;
  }

  function emailSavedText(email) {
    return `We'll email the reply to ${email} if you're not here.`;
  }

  /** What to tell the visitor about a failed request: never the server's words, which are
   * written for whoever runs the site (they go to the console instead). */
  function visitorText(error) {
    if (error.status === undefined) return TEXT.offline;
    if (error.code === "origin_not_allowed" || error.status === 403 || error.status === 404) return TEXT.unavailable;
    if (error.status === 429) return TEXT.tooFast;
    if (error.status === 413) return TEXT.tooLong;
    // The widget counts as the server does, so a refused body is one with nothing visible.
    if (error.code === "invalid_body") return TEXT.empty;
    return TEXT.failed;
  }

  // ---------- the page ----------

  const host = document.createElement("div");
  host.id = "switchboard-widget";
  const shadow = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = `
    :host { all: initial; }
    * { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    [hidden] { display: none !important; }
    .launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;
      display: grid; place-items: center; background: #2f5bea; color: #fff; cursor: pointer;
      box-shadow: 0 6px 18px rgba(20, 30, 60, .28); z-index: 2147483646; transition: transform .15s ease; }
    .launcher:hover { transform: scale(1.05); }
    .launcher svg { width: 28px; height: 28px; }
    button:focus-visible, textarea:focus-visible { outline: 2px solid #2f5bea; outline-offset: 2px; }
    .panel { position: fixed; right: 20px; bottom: 88px; width: 370px; max-width: calc(100vw - 40px);
      height: 560px; max-height: calc(100vh - 120px); display: flex; flex-direction: column; background: #fff;
      color: #1d2330; border-radius: 16px; overflow: hidden; box-shadow: 0 16px 48px rgba(20, 30, 60, .28);
      z-index: 2147483647; font-size: 14px; line-height: 1.4; }
    header { display: flex; align-items: center; gap: 10px; padding: 14px 12px 14px 16px; background: #2f5bea; color: #fff; }
    header .titles { flex: 1; min-width: 0; }
    header strong { display: block; font-size: 16px; }
    header .answering, header .subtitle { display: block; font-size: 12px; opacity: .9; }
    header .answering:empty { display: none; }
    .icon-button { width: 36px; height: 36px; border: 0; border-radius: 50%; background: transparent; color: inherit;
      display: grid; place-items: center; cursor: pointer; padding: 0; }
    .icon-button:hover { background: rgba(255, 255, 255, .16); }
    .icon-button svg { width: 20px; height: 20px; }
    ol { list-style: none; margin: 0; padding: 14px; flex: 1; overflow-y: auto; display: flex; flex-direction: column; gap: 8px; background: #f7f8fb; }
    li { max-width: 85%; padding: 9px 12px; border-radius: 14px; background: #fff; border: 1px solid #e6e9ef;
      white-space: pre-wrap; overflow-wrap: anywhere; align-self: flex-start; }
    li.visitor { align-self: flex-end; background: #2f5bea; border-color: #2f5bea; color: #fff; }
    li.system { align-self: center; background: none; border: 0; color: #677085; font-size: 12px; text-align: center; }
    li small { display: block; font-size: 11px; color: #677085; margin-bottom: 2px; }
    .closed { padding: 14px 16px; border-top: 1px solid #e6e9ef; text-align: center; }
    .closed p { margin: 0 0 2px; font-weight: 600; }
    .closed .hint { display: block; margin-bottom: 12px; color: #677085; font-size: 13px; }
    form { display: flex; align-items: flex-end; gap: 8px; padding: 10px 12px 4px; border-top: 1px solid #e6e9ef; }
    textarea { flex: 1; resize: none; min-height: 40px; max-height: 120px; padding: 9px 10px; border: 1px solid #d5dae3;
      border-radius: 10px; font-size: 14px; line-height: 1.4; color: inherit; background: #fff; }
    .primary { padding: 9px 14px; border-radius: 10px; border: 1px solid #2f5bea; background: #2f5bea; color: #fff; cursor: pointer; font-size: 14px; font-weight: 600; }
    .primary:disabled { opacity: .5; cursor: not-allowed; }
    .secondary { padding: 7px 12px; border-radius: 999px; border: 1px solid #2f5bea; background: #fff; color: #2f5bea; cursor: pointer; font-size: 13px; font-weight: 600; }
    .secondary[aria-pressed="true"] { background: #e9eefe; }
    .below { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 4px 12px 12px; min-height: 40px; }
    .counter { font-size: 12px; color: #677085; margin-left: auto; }
    .counter.over { color: #c53030; font-weight: 600; }
    .error { padding: 9px 14px; background: #fde8e8; color: #9b2c2c; font-size: 13px; }
    .waiting { padding: 12px 14px; border-top: 1px solid #e6e9ef; background: #fff; font-size: 13px; color: #3b4356; }
    .waiting p { margin: 0; }
    .waiting .place { font-weight: 600; color: #1d2330; margin-bottom: 2px; }
    .waiting .email-offer { margin-top: 10px; }
    .waiting label { display: block; margin-bottom: 6px; }
    .waiting .row { display: flex; gap: 8px; }
    .waiting input { flex: 1; min-width: 0; padding: 8px 10px; border: 1px solid #d5dae3; border-radius: 10px; font-size: 14px; color: inherit; }
    .waiting input:focus-visible { outline: 2px solid #2f5bea; outline-offset: 2px; }
    .waiting .email-error { color: #9b2c2c; margin-top: 6px; }
    .waiting .email-saved { margin-top: 8px; color: #276749; }
    @media (max-width: 480px) {
      .panel { inset: 0; width: 100%; max-width: none; height: 100%; max-height: none; border-radius: 0; }
      .panel:not([hidden]) ~ .launcher { display: none; }
    }
  `;

  /** A small line icon; the paths are ours, never anyone's text. */
  function icon(paths, filled) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("fill", filled ? "currentColor" : "none");
    svg.setAttribute("stroke", filled ? "none" : "currentColor");
    svg.setAttribute("stroke-width", "2.2");
    svg.setAttribute("stroke-linecap", "round");
    for (const d of paths) {
      const path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      svg.append(path);
    }
    return svg;
  }
  const CHAT_ICON = ["M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4.4 21.5l4.4-2.2c1 .3 2.1.4 3.2.4 5.5 0 10-3.8 10-8.5S17.5 3 12 3z"];
  const CLOSE_ICON = ["M6 6l12 12", "M18 6L6 18"];

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const panel = make("section", "panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "Chat");
  const header = make("header");
  const titles = make("div", "titles");
  const title = make("strong", "", "Chat with us");
  const answering = make("span", "answering");
  const subtitle = make("span", "subtitle", "We're here to help");
  titles.append(title, answering, subtitle);
  const close = make("button", "icon-button close");
  close.type = "button";
  close.setAttribute("aria-label", "Close chat");
  close.append(icon(CLOSE_ICON));
  header.append(titles, close);
  const error = make("div", "error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const list = make("ol");
  list.setAttribute("aria-live", "polite");
  const closedBox = make("div", "closed");
  closedBox.hidden = true;
  const startNew = make("button", "primary start-new", "Start a new chat");
  startNew.type = "button";
  closedBox.append(make("p", "", TEXT.closed), make("span", "hint", "Need anything else? We're still here."), startNew);
  const waiting = make("div", "waiting");
  waiting.setAttribute("role", "status");
  waiting.hidden = true;
  const place = make("p", "place");
  const why = make("p", "why");
  // Not a form: the chat's own form stays the panel's one form.
  const offer = make("div", "email-offer");
  offer.setAttribute("role", "group");
  offer.setAttribute("aria-label", "Get the reply by email");
  const offerLabel = make("label", "", TEXT.offer);
  const emailInput = make("input");
  emailInput.type = "email";
  emailInput.name = "email";
  emailInput.autocomplete = "email";
  emailInput.placeholder = "you@example.com";
  emailInput.id = "switchboard-email";
  offerLabel.htmlFor = emailInput.id;
  const emailSend = make("button", "secondary notify", "Notify me");
  emailSend.type = "button";
  const offerRow = make("div", "row");
  offerRow.append(emailInput, emailSend);
  const emailError = make("p", "email-error");
  emailError.hidden = true;
  offer.append(offerLabel, offerRow, emailError);
  const emailSaved = make("p", "email-saved");
  waiting.append(place, why, offer, emailSaved);
  const form = make("form");
  const input = make("textarea");
  input.name = "message";
  input.rows = 1;
  input.placeholder = "Type your message…";
  input.setAttribute("aria-label", "Message");
  const send = make("button", "primary send", "Send");
  send.type = "submit";
  form.append(input, send);
  const below = make("div", "below");
  const human = make("button", "secondary handover", "Talk to a person");
  human.type = "button";
  human.setAttribute("aria-pressed", "false");
  const counter = make("span", "counter");
  counter.setAttribute("aria-live", "polite");
  below.append(human, counter);
  panel.append(header, error, list, closedBox, waiting, form, below);
  const launcher = make("button", "launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-label", "Chat with us");
  launcher.setAttribute("aria-expanded", "false");
  launcher.append(icon(CHAT_ICON, true));
  shadow.append(style, panel, launcher);
  document.body.append(host);

  // ---------- drawing ----------

  const seen = new Set();
  let greeting = null;

  function showError(text) {
    error.textContent = text || "";
    error.hidden = !text;
  }

  function addItem(className, who, body) {
    const item = make("li", className);
    if (who) item.append(make("small", "", who));
    item.append(document.createTextNode(body));
    list.append(item);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  function addMessage(m) {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    const who = m.author === "ai" ? "AI assistant" : m.author === "operator" ? m.operator_name || "Team" : null;
    addItem(m.author, who, m.body);
  }

  /** An empty chat: the greeting, and the invitation to a person if asked for. */
  function clearChat() {
    list.replaceChildren();
    seen.clear();
    if (greeting) addItem("greeting", null, greeting);
    if (state.wantsPerson) addItem("system hint", null, TEXT.person);
  }

  function draw() {
    const closed = state.status === "closed";
    answering.textContent = closed ? ""
      : state.answering ? `You're chatting with ${state.answering}`
        : state.status === "active" ? "AI assistant"
          : state.status === "handed_off" ? "A teammate will join shortly" : "";
    subtitle.hidden = Boolean(answering.textContent);
    closedBox.hidden = !closed;
    form.hidden = closed;
    human.hidden = closed || state.status === "handed_off";
    human.setAttribute("aria-pressed", String(state.wantsPerson && !state.conversationId));
    input.disabled = !state.available;
    human.disabled = !state.available;
    drawWaiting();
    drawCounter();
  }

  /** While the team has the chat and nobody took it yet: the place in line, why it waits,
   * and the offer to be emailed the reply. */
  function drawWaiting() {
    const unanswered = state.status === "handed_off" && !state.answering;
    const reason = unanswered ? state.waitingReason : null;
    place.textContent = unanswered ? queueText(state.queue) : "";
    place.hidden = !place.textContent;
    why.textContent = reason === "manual_mode" ? TEXT.manual : reason === "no_available_operator" ? TEXT.nobody : "";
    why.hidden = !why.textContent;
    offer.hidden = !reason || Boolean(state.email);
    emailSaved.textContent = reason && state.email ? emailSavedText(state.email) : "";
    emailSaved.hidden = !emailSaved.textContent;
    waiting.hidden = place.hidden && why.hidden;
  }

  /** What the visitor's view says about the chat. */
  function applyView(view) {
    state.status = view.status;
    state.answering = view.assignee_name;
    state.waitingReason = view.waiting_reason || null;
    state.queue = view.queue || null;
    state.email = view.email || null;
    view.messages.forEach(addMessage);
  }

  /** Shown as the limit nears, so nothing is ever cut silently. */
  function drawCounter() {
    const length = [...input.value].length;
    const over = length > MAX_CHARS;
    counter.hidden = length < WARN_AT;
    below.hidden = counter.hidden && human.hidden;
    counter.textContent = `${length.toLocaleString()} / ${MAX_CHARS.toLocaleString()}`;
    counter.classList.toggle("over", over);
    send.disabled = over || !state.available;
    if (over) showError(TEXT.tooLong);
    else if (error.textContent === TEXT.tooLong) showError("");
  }

  // ---------- talking to the server ----------

  async function call(method, path, body) {
    const headers = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (state.token) headers["x-visitor-token"] = state.token;
    let response;
    try {
      response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (_) {
      throw new Error(TEXT.offline);
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const detail = (data && data.error) || {};
      // For whoever builds the site; the visitor reads `visitorText`.
      console.warn(`Switchboard: ${response.status} ${detail.message || ""}`);
      const e = new Error(detail.message || response.statusText);
      e.status = response.status;
      e.code = detail.code;
      throw e;
    }
    return data;
  }

  /** Where the visitor is, as the server accepts it: web pages only, addresses that fit. */
  function page() {
    if (!/^https?:$/.test(location.protocol)) return undefined;
    let url = location.href;
    if (url.length > MAX_URL) url = location.origin + location.pathname;
    if (url.length > MAX_URL) return undefined;
    let referrer = null;
    try {
      const from = new URL(document.referrer);
      if (from.origin !== location.origin && /^https?:$/.test(from.protocol) && document.referrer.length <= MAX_URL) referrer = document.referrer;
    } catch (_) { /* no referrer */ }
    return { url, referrer };
  }

  /** Tells the server the page, when it changed since the last time (a single-page site). */
  function reportPage() {
    const where = page();
    if (!state.token || !where || where.url === state.reportedUrl) return;
    state.reportedUrl = where.url;
    call("PUT", "/visitor", { page: where }).catch(() => { state.reportedUrl = null; });
  }

  async function loadWidget() {
    try {
      const widget = await call("GET", "");
      greeting = widget.greeting;
      if (seen.size === 0) clearChat();
      else list.prepend(make("li", "greeting", greeting));
    } catch (e) {
      if (e.status === 403 || e.status === 404) {
        state.available = false;
        showError(TEXT.unavailable);
      }
    }
    draw();
  }

  async function load() {
    if (!state.conversationId || !state.token) return;
    try {
      applyView(await call("GET", `/conversations/${state.conversationId}`));
      draw();
      connect();
    } catch (e) {
      if (e.status === 404) {
        state.conversationId = null;
        save();
      } else if (e.status !== 403) showError(visitorText(e));
    }
  }

  let socket = null;
  let retry = 0;
  function connect() {
    if (socket || !state.token) return;
    const since = state.lastEventId === null ? "" : `&since=${state.lastEventId}`;
    socket = new WebSocket(`${base.replace(/^http/, "ws")}/events?visitor_token=${encodeURIComponent(state.token)}${since}`);
    socket.addEventListener("open", () => { retry = 0; });
    socket.addEventListener("message", (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      if (typeof event.id === "number") state.lastEventId = event.id;
      if (event.type === "resync") { load(); return; }
      if (event.conversation_id !== state.conversationId) return;
      if (event.type === "message.created") addMessage(event.message);
      if (event.type === "queue.changed") state.queue = event.queue;
      if (event.type === "conversation.assigned") state.answering = event.assignee_name;
      if (event.type === "conversation.status_changed") {
        // Why a chat handed to the team waits is in the view: read it again.
        if (event.status === "handed_off" && state.status !== "handed_off") load();
        state.status = event.status;
      }
      draw();
    });
    socket.addEventListener("close", () => {
      socket = null;
      if (!state.token || leaving) return;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 250 * 2 ** retry);
    });
  }

  // A page the visitor leaves closes its stream, even when the browser keeps the page for going
  // back: while no widget is open, replies are emailed to them (if they left an address).
  let leaving = false;
  window.addEventListener("pagehide", () => {
    leaving = true;
    if (socket) socket.close();
  });
  window.addEventListener("pageshow", (e) => {
    if (!e.persisted) return;
    leaving = false;
    load();
  });

  /** The stream follows the visitor record it was opened for: after identifying, open anew. */
  function reconnect() {
    if (socket) socket.close();
    else connect();
  }

  // ---------- who the visitor is ----------

  function identityOf(fields) {
    if (!fields || !fields.user_id || !fields.user_hash) return null;
    const clean = (v) => (v === undefined || v === null || v === "" ? undefined : String(v));
    return { user_id: String(fields.user_id), user_hash: String(fields.user_hash), name: clean(fields.name), email: clean(fields.email) };
  }
  const signature = (who) => `${who.user_id}|${who.name || ""}|${who.email || ""}`;

  /** Identifies this browser's visitor now if it has a token; otherwise the first chat carries
   * the identity. A refused identity leaves the visitor anonymous (the console says why). One
   * at a time; an identity given meanwhile is sent after. */
  let identifying = null;
  function identify() {
    const who = state.identity;
    identifying = identifying || sendIdentity().finally(() => {
      identifying = null;
      if (state.identity && state.identity !== who) identify();
    });
    return identifying;
  }

  async function sendIdentity() {
    const who = state.identity;
    if (!who || !state.token || signature(who) === state.identified) return;
    try {
      const result = await call("POST", "/identify", { ...who, page: page() });
      state.identified = signature(who);
      const ids = result.conversations.map((c) => c.id);
      if (state.conversationId && !ids.includes(state.conversationId)) {
        state.conversationId = null;
        state.status = null;
        state.answering = null;
        state.waitingReason = null;
        state.queue = null;
        clearChat();
      }
      const open = result.conversations.find((c) => c.status !== "closed");
      if (!state.conversationId && open) {
        state.conversationId = open.id;
        clearChat();
        await load();
      }
      save();
      draw();
      reconnect();
    } catch (e) {
      if (e.status === 403) state.identity = null;
    }
  }

  /** Forgets this browser's visitor (their site signed them out). */
  function reset() {
    const token = state.token;
    Object.assign(state, { token: null, conversationId: null, identified: null, identity: null, status: null, answering: null, wantsPerson: false, reportedUrl: null, lastEventId: null, waitingReason: null, queue: null, email: null });
    try { localStorage.removeItem(storageKey); } catch (_) { /* nothing stored */ }
    if (token && socket) socket.close();
    clearChat();
    draw();
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.replaceChildren(icon(open ? CLOSE_ICON : CHAT_ICON, !open));
    launcher.setAttribute("aria-label", open ? "Close chat" : "Chat with us");
    if (open) {
      reportPage();
      if (!input.disabled) input.focus();
    }
  }

  // ---------- what the visitor does ----------

  async function sendMessage() {
    const body = input.value;
    if (!body.trim()) return;
    if ([...body].length > MAX_CHARS) { drawCounter(); return; }
    input.value = "";
    drawCounter();
    showError("");
    send.disabled = true;
    try {
      if (!state.conversationId) {
        const request = { body, visitor_token: state.token || undefined, page: page(), handover: state.wantsPerson || undefined };
        if (state.identity && (!state.token || signature(state.identity) !== state.identified)) request.visitor = state.identity;
        let started;
        try {
          started = await call("POST", "/conversations", request);
        } catch (e) {
          // A token the server no longer knows: start afresh as a new visitor.
          if (e.status !== 401) throw e;
          state.token = null;
          started = await call("POST", "/conversations", { ...request, visitor_token: undefined });
        }
        if (request.visitor) state.identified = signature(state.identity);
        state.token = started.visitor_token;
        state.conversationId = started.conversation_id;
        state.reportedUrl = request.page ? request.page.url : null;
        state.status = state.wantsPerson ? "handed_off" : "active";
        state.wantsPerson = false;
        // The invitation to write was for before the chat; the team's own note follows.
        for (const hint of list.querySelectorAll("li.hint")) hint.remove();
        save();
        connect();
        await load();
      } else {
        addMessage(await call("POST", `/conversations/${state.conversationId}/messages`, { body }));
        reportPage();
      }
    } catch (err) {
      if (err.status === 403 && err.code === "identity_rejected") state.identity = null;
      input.value = body;
      showError(visitorText(err));
    }
    drawCounter();
    draw();
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    sendMessage();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
    drawCounter();
  });

  human.addEventListener("click", async () => {
    showError("");
    if (!state.conversationId) {
      // Before the first message: the chat will go straight to a person.
      state.wantsPerson = true;
      if (input.value.trim()) {
        await sendMessage();
      } else {
        clearChat();
        draw();
        input.focus();
      }
      return;
    }
    try {
      applyView(await call("POST", `/conversations/${state.conversationId}/handover`));
      draw();
    } catch (err) {
      showError(visitorText(err));
    }
  });

  async function leaveEmail() {
    const email = emailInput.value.trim();
    emailError.hidden = true;
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      emailError.textContent = TEXT.badEmail;
      emailError.hidden = false;
      emailInput.focus();
      return;
    }
    emailSend.disabled = true;
    try {
      await call("PUT", `/conversations/${state.conversationId}/visitor`, { email });
      state.email = email.toLowerCase();
      emailInput.value = "";
      draw();
    } catch (err) {
      emailError.textContent = err.code === "invalid_email" ? TEXT.badEmail : visitorText(err);
      emailError.hidden = false;
    }
    emailSend.disabled = false;
  }
  emailSend.addEventListener("click", leaveEmail);
  emailInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      leaveEmail();
    }
  });

  startNew.addEventListener("click", () => {
    state.conversationId = null;
    state.status = null;
    state.answering = null;
    state.waitingReason = null;
    state.queue = null;
    save();
    clearChat();
    showError("");
    draw();
    input.focus();
  });

  launcher.addEventListener("click", () => setOpen(panel.hidden));
  close.addEventListener("click", () => {
    setOpen(false);
    launcher.focus();
  });
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      setOpen(false);
      launcher.focus();
    }
  });

  // ---------- the page's commands ----------

  const commands = {
    identify: (fields) => {
      const who = identityOf(fields);
      if (!who) {
        console.warn("Switchboard: identify needs user_id and user_hash");
        return;
      }
      state.identity = who;
      identify();
    },
    reset,
    open: () => setOpen(true),
    close: () => setOpen(false),
  };
  const queued = (window.Switchboard && window.Switchboard.q) || [];
  window.Switchboard = (command, ...args) => {
    const run = commands[command];
    if (run) run(...args);
    else console.warn(`Switchboard: unknown command ${command}`);
  };

  state.identity = identityOf({
    user_id: script.dataset.userId,
    user_hash: script.dataset.userHash,
    name: script.dataset.name,
    email: script.dataset.email,
  });
  clearChat();
  draw();
  loadWidget().then(async () => {
    for (const args of queued) window.Switchboard(...args);
    await load();
    await identify();
    reportPage();
  });
})();
