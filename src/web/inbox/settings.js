// Settings: one's profile and password, and how "assigned to you" reaches them (web push in
// this browser, email and its delay, a sound in this browser).
import { api } from "./api.js";
import { el, link } from "./dom.js";
import { submitWith } from "./forms.js";
import { state, loadTeam, ROLE_WITH_ARTICLE } from "./state.js";
import { page, flash } from "./layout.js";
import { soundAllowed, allowSound } from "./attention.js";

function settingsHeader(active) {
  const tabs = [["/settings/profile", "Profile", "profile"], ["/settings/notifications", "Notifications", "notifications"]];
  return el("div", { class: "page-head" }, el("h1", {}, "Settings"),
    el("nav", { class: "tabs", "aria-label": "Settings" },
      tabs.map(([path, text, key]) => link(path, text, { "aria-current": key === active ? "page" : null }))));
}

export function renderProfile() {
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

// ---------- notifications ----------

const DELAYS = [[0, "At once"], [60, "After 1 minute unopened"], [300, "After 5 minutes unopened"],
  [900, "After 15 minutes unopened"], [3600, "After 1 hour unopened"]];

function base64UrlToBytes(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** This browser's push subscription, if it has one; `null` when it cannot have one. */
async function browserSubscription() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return null;
  const registration = await navigator.serviceWorker.getRegistration("/").catch(() => null);
  return (await registration?.pushManager.getSubscription().catch(() => null)) || null;
}

/** Subscribes this browser, saying what it is doing; errors in words a person can act on. */
async function subscribeBrowser(progress) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("This browser cannot receive web push.");
  progress("Asking your browser for permission…");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("Notifications are blocked for this site. Allow them in your browser's site settings, then try again.");
  progress("Registering this browser…");
  const registration = await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    const { public_key } = await api("GET", "/push/vapid-public-key");
    progress("Subscribing with your browser's push service…");
    try {
      subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(public_key) });
    } catch (e) {
      throw new Error(`Your browser's push service did not accept the subscription (${e.message || e.name}). Try again later, or use email.`);
    }
  }
  progress("Saving…");
  await api("POST", "/me/push-subscriptions", subscription.toJSON());
}

async function unsubscribeBrowser() {
  const subscription = await browserSubscription();
  if (!subscription) return;
  await api("DELETE", "/me/push-subscriptions", { endpoint: subscription.endpoint }).catch(() => {});
  await subscription.unsubscribe();
}

function pushSection(channels) {
  const status = el("p", { id: "push-status", role: "status" }, "Checking this browser…");
  const error = el("p", { id: "push-error", class: "notice error", role: "alert", hidden: true });
  const button = el("button", { id: "push-toggle", type: "button", disabled: true }, "…");
  const account = el("label", {}, el("input", { type: "checkbox", name: "push", checked: channels.push,
    onchange: async (e) => {
      try {
        await api("PUT", "/me/notifications", { push: e.target.checked });
        flash(`Web push ${e.target.checked ? "on" : "off"} for your account.`);
      } catch (err) {
        e.target.checked = !e.target.checked;
        flash(err.message, true);
      }
    } }), " Send web push to my subscribed browsers");
  const show = async () => {
    const subscribed = Boolean(await browserSubscription());
    status.dataset.subscribed = String(subscribed);
    status.textContent = subscribed ? "This browser is subscribed: it shows a notification when a chat is assigned to you."
      : "This browser is not subscribed.";
    button.textContent = subscribed ? "Unsubscribe this browser" : "Subscribe this browser";
    button.disabled = false;
    button.onclick = async () => {
      button.disabled = true;
      error.hidden = true;
      try {
        if (subscribed) { status.textContent = "Unsubscribing…"; await unsubscribeBrowser(); }
        else await subscribeBrowser((text) => { status.textContent = text; });
      } catch (err) {
        error.hidden = false;
        error.textContent = err.message;
      }
      show();
    };
  };
  show();
  return el("section", { class: "panel card", id: "push-settings" }, el("h2", {}, "Web push"),
    el("p", { class: "muted" }, "A notification from your browser, even when the inbox is in the background."),
    status, el("div", { class: "buttons" }, button), error, account);
}

function emailSection(channels) {
  const delay = el("select", { name: "email_delay_secs", id: "email-delay", disabled: !channels.email },
    DELAYS.map(([secs, text]) => el("option", { value: secs, selected: secs === channels.email_delay_secs }, text)));
  if (!DELAYS.some(([secs]) => secs === channels.email_delay_secs)) {
    delay.append(el("option", { value: channels.email_delay_secs, selected: true }, `After ${channels.email_delay_secs} s unopened`));
  }
  const save = async (change, done) => {
    try {
      await api("PUT", "/me/notifications", change);
      flash(done);
    } catch (err) {
      flash(err.message, true);
    }
  };
  const box = el("input", { type: "checkbox", name: "email", checked: channels.email,
    onchange: (e) => { delay.disabled = !e.target.checked; save({ email: e.target.checked }, `Email ${e.target.checked ? "on" : "off"}.`); } });
  delay.addEventListener("change", () => save({ email_delay_secs: Number(delay.value) }, "Email timing saved."));
  return el("section", { class: "panel card" }, el("h2", {}, "Email"),
    el("label", {}, box, ` Email ${state.me.email} with a link to the chat`),
    el("label", { class: "inline-select" }, "Send it ", delay),
    el("p", { class: "hint" }, "With a delay, no email is sent if you open the chat first."));
}

function soundSection() {
  const button = el("button", { type: "button", id: "sound-toggle" });
  const show = () => { button.textContent = soundAllowed() ? "Turn sound off" : "Allow sound in this browser"; };
  button.addEventListener("click", () => { allowSound(!soundAllowed()); show(); });
  show();
  return el("section", { class: "panel card" }, el("h2", {}, "Sound"),
    el("p", { class: "muted" }, "A short chime in this browser when a chat is assigned to you. Browsers play sound only after you allow it here once."),
    button);
}

export async function renderNotifications() {
  const channels = await api("GET", "/me/notifications");
  page("settings", el("div", { class: "narrow", id: "notification-settings" }, settingsHeader("notifications"),
    el("p", {}, "When someone or something else assigns you a conversation:"),
    pushSection(channels), emailSection(channels), soundSection()));
}
