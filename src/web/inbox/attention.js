// Getting someone's attention when a chat is assigned to them: the tab title counts their
// assigned chats they have not seen, a sound plays (once this browser allowed it with a
// click: browsers refuse sound before one), and a notice links to the chat until dismissed.
import { api } from "./api.js";
import { el, link } from "./dom.js";
import { announce } from "./layout.js";

const SOUND_KEY = "switchboard.sound";
const BASE_TITLE = "Switchboard";
// Assigned-to-you notices still on screen, by conversation id, kept across page changes.
const notices = new Map();
let audio = null;
let titleTimer = null;

export function soundAllowed() {
  return localStorage.getItem(SOUND_KEY) === "on";
}

/** Called from a click: browsers let a page play sound only after one. */
export function allowSound(on) {
  localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  if (on) {
    audio = audio || new AudioContext();
    audio.resume();
    chime();
  }
}

function chime() {
  if (!soundAllowed()) return;
  audio = audio || new AudioContext();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  const now = audio.currentTime;
  for (const [i, frequency] of [880, 1320].entries()) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, now + i * 0.14);
    gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.14 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.14 + 0.3);
    tone.connect(gain).connect(audio.destination);
    tone.start(now + i * 0.14);
    tone.stop(now + i * 0.14 + 0.32);
  }
  // Counted on the page, where a test (or a curious person) can see that a chime was played.
  document.documentElement.dataset.chimed = String(Number(document.documentElement.dataset.chimed || 0) + 1);
}

/** The notices' container, drawn by every page. */
export function attentionNotices() {
  const box = el("div", { id: "attention", class: "attention", role: "region", "aria-label": "Assigned to you" });
  for (const [id, text] of notices) box.append(noticeItem(id, text));
  return box;
}

function noticeItem(id, text) {
  const item = el("div", { class: "attention-item", "data-assigned": id },
    el("span", { class: "attention-dot", "aria-hidden": "true" }),
    el("span", {}, text, " "),
    link(`/inbox/conversations/${id}`, "Open the chat", { class: "attention-link", onclick: () => dismiss(id) }),
    soundAllowed() ? null : el("button", { class: "quiet", "data-allow-sound": "", onclick: (e) => { allowSound(true); e.target.remove(); } }, "Play a sound next time"),
    el("button", { class: "quiet", "aria-label": "Dismiss", "data-dismiss": id, onclick: () => dismiss(id) }, "✕"));
  return item;
}

export function dismiss(id) {
  notices.delete(id);
  document.querySelector(`[data-assigned="${id}"]`)?.remove();
}

/** A chat was assigned to the caller by someone or something else. */
export async function assignedToYou(event, describe) {
  const text = await describe(event);
  notices.set(event.conversation_id, text);
  const box = document.getElementById("attention");
  box?.querySelector(`[data-assigned="${event.conversation_id}"]`)?.remove();
  box?.append(noticeItem(event.conversation_id, text));
  announce(text);
  chime();
  countUnseen();
}

/** Recounts the chats assigned to the caller that they have not read, for the tab title. */
export function countUnseen() {
  clearTimeout(titleTimer);
  titleTimer = setTimeout(async () => {
    try {
      const { items } = await api("GET", "/conversations?view=mine&status=open&limit=200");
      const unseen = items.filter((c) => c.unread).length;
      document.title = unseen ? `(${unseen}) ${BASE_TITLE}` : BASE_TITLE;
    } catch (_) {
      // The next change counts again.
    }
  }, 150);
}
