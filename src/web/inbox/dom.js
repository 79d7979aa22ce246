// Building the page. User text (visitor messages, names) only ever goes in as text nodes.
import { go } from "./router.js";

/** Creates an element; string children become text nodes, attributes are set as given. */
export function el(tag, attrs = {}, ...children) {
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

/** A link inside the app: followed without a reload. */
export function link(path, text, attrs = {}) {
  return el("a", { href: path, onclick: (e) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button === 1) return;
    e.preventDefault();
    go(path);
  }, ...attrs }, text);
}

export function initials(name) {
  const letters = name.split(/\s+/).map((w) => w.match(/[\p{L}\p{N}]/u)?.[0]).filter(Boolean);
  return letters.slice(0, 2).join("").toUpperCase() || "?";
}

/**
 * An operator's avatar; Away is a mark with a word for screen readers and a shape, not a
 * colour only.
 */
export function avatar(operator, { away = operator?.availability === "away" } = {}) {
  if (!operator) return el("span", { class: "avatar none", "aria-hidden": "true" }, "–");
  return el("span", { class: "avatar" + (away ? " is-away" : ""), "aria-hidden": "true" }, initials(operator.name),
    away ? el("span", { class: "away-dot" }, "z") : null);
}

/** "Away" as a word beside a name, with why when it was not set by hand: "Away · no open tab". */
export function awayTag(operator) {
  if (!operator || operator.availability !== "away") return null;
  const text = operator.availability_reason === "no_open_tab" ? "Away · no open tab" : "Away";
  return el("span", { class: "away-tag", "data-away-reason": operator.availability_reason || "manual" }, text);
}

export function when(iso) {
  const t = new Date(iso);
  const today = new Date();
  return t.toDateString() === today.toDateString()
    ? t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : t.toLocaleDateString();
}

export function ago(iso) {
  const minutes = Math.round((Date.now() - new Date(iso).getTime()) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 24 * 60) return `${Math.round(minutes / 60)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** "45 s", "12 min", "3 h 5 min", "2 d": how long since an ISO time. */
export function waited(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** "in 6 days", "in 5 hours": how long until an ISO time. */
export function timeUntil(iso) {
  const hours = Math.max(0, (new Date(iso) - Date.now()) / 3600e3);
  if (hours >= 48) return `in ${Math.round(hours / 24)} days`;
  if (hours >= 1) return `in ${Math.round(hours)} hours`;
  return "within the hour";
}

/** Whether the person is typing somewhere, so single-key shortcuts stay out of the way. */
export function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

/**
 * Replaces `old` with `fresh` keeping keyboard focus: if focus was inside `old`, the element
 * of `fresh` matching the same `[data-focus-key]` (or id) gets it back.
 */
export function swap(old, fresh) {
  const active = document.activeElement;
  const key = old.contains(active) ? active.dataset?.focusKey || (active.id ? `#${active.id}` : null) : null;
  old.replaceWith(fresh);
  if (!key) return;
  const again = key.startsWith("#") ? fresh.querySelector(key) || (fresh.matches(key) ? fresh : null)
    : fresh.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
  again?.focus();
}
