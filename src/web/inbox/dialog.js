// Asking before something that cannot be taken back quietly.
import { el } from "./dom.js";

/** A modal dialog; resolves to true when `confirmText` is pressed. `content` is a node list. */
export function askFirst(title, content, confirmText, danger = false) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const dialog = el("dialog", { id: "confirm", "aria-labelledby": "confirm-title" });
    const close = (answer) => { dialog.close(); dialog.remove(); if (!answer) back?.focus?.(); resolve(answer); };
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
