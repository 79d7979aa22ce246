// The live event stream of the workspace. A dropped connection keeps everything on screen,
// says "Reconnecting…", and on coming back replays what was missed (`since`) and reloads what
// may have changed. A session ended elsewhere closes the stream with 4003 (or refuses it):
// the tab goes to sign-in.
import { api, signInAgain } from "./api.js";
import { state, loadTeam } from "./state.js";
import { connectionState, refreshHeader } from "./layout.js";
import { assignedToYou, countUnseen } from "./attention.js";
import { inboxEvent, inboxResync, describeAssigned } from "./inbox.js";
import { teamChanged } from "./teammates.js";
import { widgetsEvent } from "./widgets.js";

let lastEventId = null;

// A tab looked at again checks that its session still holds (signed out in another tab: it
// goes to sign-in, inside `api`).
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") api("GET", "/me").catch(() => {});
});
let retry = 0;

export function connectEvents() {
  const since = lastEventId === null ? "" : `?since=${lastEventId}`;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/v1/events${since}`);
  let opened = false;
  socket.addEventListener("open", () => {
    opened = true;
    if (retry > 0) resync();
    else countUnseen();
    retry = 0;
    connectionState(true);
  });
  socket.addEventListener("message", (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch (_) { return; }
    if (typeof event.id === "number") lastEventId = event.id;
    onEvent(event);
  });
  socket.addEventListener("close", async (closed) => {
    if (closed.code === 4003) return signInAgain();
    connectionState(false);
    // A stream refused before it opened may be a session that ended: ask, and a 401 goes to
    // sign-in (inside `api`).
    if (!opened) await api("GET", "/me").catch(() => {});
    retry = Math.min(retry + 1, 5);
    setTimeout(connectEvents, 250 * 2 ** retry);
  });
}

async function resync() {
  await loadTeam().catch(() => {});
  refreshHeader();
  teamChanged();
  inboxResync();
  countUnseen();
}

function onEvent(event) {
  widgetsEvent(event);
  switch (event.type) {
    case "resync":
      resync();
      return;
    case "operator.availability_changed": {
      const o = state.operators.get(event.operator_id);
      if (o) Object.assign(o, { availability: event.availability, availability_reason: event.availability_reason });
      if (event.operator_id === state.me.id) {
        state.me = { ...state.me, availability: event.availability, availability_reason: event.availability_reason };
        refreshHeader();
      }
      teamChanged();
      break;
    }
    case "operator.updated":
      loadTeam().then(() => { refreshHeader(); teamChanged(); inboxEvent(event); }).catch(() => {});
      return;
    case "conversation.assigned":
      // Loads changed: the chip's menu and the Teammates page show them.
      loadTeam().then(teamChanged).catch(() => {});
      countUnseen();
      break;
    case "widget.conversation_assigned":
      assignedToYou(event, describeAssigned);
      return;
    case "message.created":
      countUnseen();
      break;
  }
  inboxEvent(event);
}
