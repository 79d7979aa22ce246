// Switchboard chat widget. Embed with one line:
//   <script src="https://YOUR-SWITCHBOARD/widget.js" data-key="WIDGET_KEY" async></script>
// It draws a launcher and a chat panel inside a Shadow DOM (no CSS leaks either way), keeps
// the visitor's token in localStorage so a returning visitor sees their chat, and shows
// replies live over the visitor's WebSocket. Message text is always inserted as text.
(() => {
  const script = document.currentScript;
  if (!script || !script.dataset.key) return;
  const key = script.dataset.key;
  const server = new URL(script.src).origin;
  const base = `${server}/api/v1/widget/${encodeURIComponent(key)}`;
  const storageKey = `switchboard:${key}`;

  const saved = (() => {
    try { return JSON.parse(localStorage.getItem(storageKey) || "{}"); } catch (_) { return {}; }
  })();
  const state = { token: saved.token || null, conversationId: saved.conversationId || null, lastEventId: null, status: null, answering: null };
  const save = () => localStorage.setItem(storageKey, JSON.stringify({ token: state.token, conversationId: state.conversationId }));

  const host = document.createElement("div");
  host.id = "switchboard-widget";
  const shadow = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = `
    :host { all: initial; }
    * { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    .launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;
      background: #2f5bea; color: #fff; font-size: 24px; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483646; }
    .panel { position: fixed; right: 20px; bottom: 88px; width: min(360px, calc(100vw - 40px)); height: min(520px, calc(100vh - 120px));
      display: flex; flex-direction: column; background: #fff; color: #1d2330; border-radius: 12px; overflow: hidden;
      box-shadow: 0 10px 30px rgba(0,0,0,.25); z-index: 2147483647; }
    .panel[hidden] { display: none; }
    header { padding: 12px 14px; background: #2f5bea; color: #fff; }
    header strong { display: block; }
    header span { font-size: 12px; opacity: .9; }
    ol { list-style: none; margin: 0; padding: 12px; flex: 1; overflow-y: auto; display: flex; flex-direction: column; gap: 8px; }
    li { max-width: 85%; padding: 8px 10px; border-radius: 10px; background: #eef1f6; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 14px; }
    li.visitor { align-self: flex-end; background: #2f5bea; color: #fff; }
    li.system { align-self: center; background: none; color: #677085; font-size: 12px; }
    li small { display: block; font-size: 11px; opacity: .75; margin-bottom: 2px; }
    form { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #dde1e6; }
    input { flex: 1; padding: 8px; border: 1px solid #dde1e6; border-radius: 6px; font-size: 14px; }
    button { padding: 8px 10px; border-radius: 6px; border: 1px solid #2f5bea; background: #2f5bea; color: #fff; cursor: pointer; font-size: 14px; }
    button.secondary { background: #fff; color: #2f5bea; }
    .actions { padding: 0 8px 8px; }
    .error { padding: 8px 12px; background: #fde8e8; color: #c53030; font-size: 13px; }
  `;
  const launcher = document.createElement("button");
  launcher.className = "launcher";
  launcher.setAttribute("aria-label", "Chat with us");
  launcher.textContent = "💬";
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.hidden = true;
  panel.setAttribute("aria-label", "Chat");
  const header = document.createElement("header");
  const title = document.createElement("strong");
  title.textContent = "Chat with us";
  const answering = document.createElement("span");
  answering.className = "answering";
  header.append(title, answering);
  const error = document.createElement("div");
  error.className = "error";
  error.hidden = true;
  const list = document.createElement("ol");
  const form = document.createElement("form");
  const input = document.createElement("input");
  input.name = "message";
  input.placeholder = "Type your message…";
  input.setAttribute("aria-label", "Message");
  input.maxLength = 10000;
  const send = document.createElement("button");
  send.type = "submit";
  send.textContent = "Send";
  form.append(input, send);
  const actions = document.createElement("div");
  actions.className = "actions";
  const human = document.createElement("button");
  human.type = "button";
  human.className = "secondary handover";
  human.textContent = "Talk to a person";
  actions.append(human);
  panel.append(header, error, list, form, actions);
  shadow.append(style, launcher, panel);
  document.body.append(host);

  const seen = new Set();
  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }
  function showAnswering() {
    answering.textContent = state.answering ? `You're chatting with ${state.answering}` : state.status === "active" ? "AI assistant" : state.status === "handed_off" ? "A teammate will join shortly" : "";
    human.hidden = state.status !== "active";
  }
  function addMessage(m) {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    const item = document.createElement("li");
    item.className = m.author;
    if (m.author !== "visitor" && m.author !== "system") {
      const who = document.createElement("small");
      who.textContent = m.author === "ai" ? "AI assistant" : m.operator_name || "Team";
      item.append(who);
    }
    item.append(document.createTextNode(m.body));
    list.append(item);
    list.scrollTop = list.scrollHeight;
  }

  async function call(method, path, body) {
    const headers = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (state.token) headers["x-visitor-token"] = state.token;
    const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const e = new Error((data && data.error && data.error.message) || "The chat is unavailable right now.");
      e.status = response.status;
      throw e;
    }
    return data;
  }

  async function load() {
    if (!state.conversationId || !state.token) return;
    try {
      const view = await call("GET", `/conversations/${state.conversationId}`);
      state.status = view.status;
      state.answering = view.assignee_name;
      view.messages.forEach(addMessage);
      showAnswering();
      connect();
    } catch (e) {
      if (e.status === 404) {
        state.conversationId = null;
        save();
      } else showError(e.message);
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
      if (event.type === "conversation.status_changed") state.status = event.status;
      if (event.type === "conversation.assigned") state.answering = event.assignee_name;
      showAnswering();
    });
    socket.addEventListener("close", () => {
      socket = null;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 250 * 2 ** retry);
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = input.value;
    if (!body.trim()) return;
    input.value = "";
    showError("");
    try {
      if (!state.conversationId) {
        const started = await call("POST", "/conversations", { body, visitor_token: state.token || undefined });
        state.token = started.visitor_token;
        state.conversationId = started.conversation_id;
        state.status = "active";
        save();
        connect();
        await load();
      } else {
        addMessage(await call("POST", `/conversations/${state.conversationId}/messages`, { body }));
      }
    } catch (err) {
      input.value = body;
      showError(err.message);
    }
  });

  human.addEventListener("click", async () => {
    if (!state.conversationId) {
      showError("Write your question first, then we'll bring in a person.");
      return;
    }
    try {
      const view = await call("POST", `/conversations/${state.conversationId}/handover`);
      state.status = view.status;
      state.answering = view.assignee_name;
      view.messages.forEach(addMessage);
      showAnswering();
    } catch (err) {
      showError(err.message);
    }
  });

  launcher.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) input.focus();
  });

  showAnswering();
  load();
})();
