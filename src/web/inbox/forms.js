// The one way a form is sent: on submit, `send(data)` runs with the button disabled; what
// went wrong is shown under the fields (role=alert) and what was typed stays.
import { el } from "./dom.js";

export function submitWith(form, send) {
  const error = el("p", { class: "notice error form-error", role: "alert", hidden: true });
  const button = form.querySelector("button[type=submit]");
  (button || form.lastChild)?.before(error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    if (button) button.disabled = true;
    try {
      await send(Object.fromEntries(new FormData(form).entries()), new FormData(form));
    } catch (err) {
      error.hidden = false;
      error.textContent = err.message;
    } finally {
      if (button) button.disabled = false;
    }
  });
  return form;
}
