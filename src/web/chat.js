// The page an emailed link opens: the visitor reads and continues that one chat. The link's
// token (the path's last part) is its only credential. Text from people is only ever inserted
// as text, and what the visitor reads is written for them.
const token = decodeURIComponent(location.pathname.split("/").pop() || "");
const base = `/api/v1/chat/${encodeURIComponent(token)}`;
const MAX_CHARS = 10000;
const WARN_AT = 9000;

const $ = (id) => document.getElementById(id);
const list = $("messages");
const form = $("reply");
const input = form.elements.message;
const send = form.querySelector(".send");
const counter = $("counter");
const seen = new Set();
let lastEventId = null;
let status = null;

const TEXT = {
  gone: "This link no longer works. Open the chat on the website to reach us again.",
  offline: "We couldn't reach the chat. Check your connection and try again.",
  tooFast: "You're sending messages a little too quickly. Please wait a moment and try again.",
  tooLong: `That message is too long. Please keep it under ${MAX_CHARS.toLocaleString()} characters.`,
  failed: "Something went wrong on our side. Please try again in a moment.",
};

function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (_) {
    throw Object.assign(new Error(TEXT.offline), { visitor: TEXT.offline });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const visitor = response.status === 404 ? TEXT.gone : response.status === 429 ? TEXT.tooFast
      : response.status === 413 ? TEXT.tooLong : TEXT.failed;
    throw Object.assign(new Error((data && data.error && data.error.message) || response.statusText), { status: response.status, visitor });
  }
  return data;
}

function addMessage(m) {
  if (seen.has(m.id)) return;
  seen.add(m.id);
  const item = document.createElement("li");
  item.className = m.author;
  const who = m.author === "ai" ? "AI assistant" : m.author === "operator" ? m.operator_name || "Team" : null;
  if (who) {
    const small = document.createElement("small");
    small.textContent = who;
    item.append(small);
  }
  item.append(document.createTextNode(m.body));
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

function drawStatus(answering) {
  $("closed").hidden = status !== "closed";
  if (answering !== undefined) $("who").textContent = answering ? `You're chatting with ${answering}` : "";
}

function drawCounter() {
  const length = [...input.value].length;
  const over = length > MAX_CHARS;
  counter.hidden = length < WARN_AT;
  counter.textContent = `${length.toLocaleString()} / ${MAX_CHARS.toLocaleString()}`;
  counter.classList.toggle("over", over);
  send.disabled = over;
  if (over) showError(TEXT.tooLong);
  else if ($("error").textContent === TEXT.tooLong) showError("");
}

function closeForGood() {
  form.hidden = true;
  counter.hidden = true;
  showError(TEXT.gone);
}

async function load() {
  try {
    const chat = await call("GET", "");
    document.title = `Your chat with ${chat.team_name}`;
    $("title").textContent = `Your chat with ${chat.team_name}`;
    status = chat.conversation.status;
    chat.conversation.messages.forEach(addMessage);
    drawStatus(chat.conversation.assignee_name);
    return true;
  } catch (e) {
    if (e.status === 404) closeForGood();
    else showError(e.visitor);
    return e.status !== 404;
  }
}

let retry = 0;
function connect() {
  const since = lastEventId === null ? "" : `?since=${lastEventId}`;
  const socket = new WebSocket(`${location.origin.replace(/^http/, "ws")}${base}/events${since}`);
  socket.addEventListener("open", () => { retry = 0; });
  socket.addEventListener("message", (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch (_) { return; }
    if (typeof event.id === "number") lastEventId = event.id;
    if (event.type === "resync") { load(); return; }
    if (event.type === "message.created") addMessage(event.message);
    if (event.type === "conversation.status_changed") { status = event.status; drawStatus(); }
    if (event.type === "conversation.assigned") drawStatus(event.assignee_name);
  });
  socket.addEventListener("close", () => {
    if (!form.hidden) {
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 250 * 2 ** retry);
    }
  });
}

async function sendMessage() {
  const body = input.value;
  if (!body.trim() || [...body].length > MAX_CHARS) return;
  send.disabled = true;
  showError("");
  try {
    addMessage(await call("POST", "/messages", { body }));
    // Only once it is saved: a failed send keeps the text to try again.
    input.value = "";
    if (status === "closed") { status = "handed_off"; drawStatus(); }
  } catch (e) {
    if (e.status === 404) closeForGood();
    else showError(e.visitor);
  }
  drawCounter();
  input.focus();
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
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  drawCounter();
});

if (await load()) {
  connect();
  input.focus();
}
