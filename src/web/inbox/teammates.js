// The Teammates page: the team with roles, availability and load, editing and
// deactivating them, invitations.
import { api } from "./api.js";
import { el, avatar, timeUntil } from "./dom.js";
import { submitWith } from "./forms.js";
import { state, loadTeam, operatorName, ROLE_LABEL, awayReason, isManager as managing } from "./state.js";
import { page, flash } from "./layout.js";
import { askFirst } from "./dialog.js";

function teammateEditor(o) {
  const canOwners = state.me.role === "owner";
  const roles = Object.entries(ROLE_LABEL).filter(([value]) => canOwners || (value !== "owner" && o.role !== "owner"));
  const name = el("input", { name: "name", required: true, maxlength: 100, value: o.name });
  const role = el("select", { name: "role", disabled: !canOwners && o.role === "owner" },
    (roles.length ? roles : [[o.role, ROLE_LABEL[o.role]]]).map(([value, label]) => el("option", { value, selected: value === o.role }, label)));
  const capacity = el("input", { name: "capacity", type: "number", min: 1, max: 1000, step: 1, placeholder: "No limit",
    value: o.capacity ?? "", "aria-describedby": `capacity-hint-${o.id}` });
  const form = submitWith(el("form", { class: "editor", "data-editor": o.id },
    el("label", {}, "Name", name),
    el("label", {}, "Role", role),
    el("label", {}, "Capacity", capacity,
      el("span", { class: "hint", id: `capacity-hint-${o.id}` }, "Most open chats routing gives them, 1–1000. Empty: no limit.")),
    el("div", { class: "editor-actions" },
      el("button", { type: "button", onclick: () => redrawTeam(null) }, "Cancel"),
      el("button", { type: "submit", class: "primary" }, "Save"))),
  async () => {
    const change = { name: name.value, capacity: capacity.value === "" ? null : Number(capacity.value) };
    if (!role.disabled && role.value !== o.role) change.role = role.value;
    await api("PATCH", `/operators/${o.id}`, change);
    await loadTeam();
    redrawTeam(null);
    flash(`${change.name.trim()} saved.`);
  });
  return form;
}

function availabilityBadge(o) {
  if (!o.active) return el("span", { class: "badge off", "data-state": "deactivated" }, "Deactivated");
  return o.availability === "away"
    ? [el("span", { class: "badge away", "data-state": "away", title: `Away: ${awayReason(o)}` }, "☾ Away"), el("span", { class: "badge-why" }, awayReason(o))]
    : el("span", { class: "badge on", "data-state": "available" }, "Available");
}

async function changeActive(o, active) {
  const open = o.load ? `${o.load} open chat${o.load === 1 ? "" : "s"}` : "no open chats";
  const confirmed = active
    ? await askFirst(`Reactivate ${o.name}?`,
      [el("p", {}, `${o.name} can sign in again with their password. They start as Away, so no chats are routed to them until they turn Available.`)],
      "Reactivate")
    : await askFirst(`Deactivate ${o.name}?`,
      [el("p", {}, `${o.name} is signed out everywhere at once and can no longer sign in.`),
        el("p", {}, `They have ${open}; ${o.load ? "those go back to routing, by each widget's mode" : "nothing needs to move"}. Their name stays on past conversations, and you can reactivate them later.`)],
      "Deactivate", true);
  if (!confirmed) return;
  try {
    await api("POST", `/operators/${o.id}/${active ? "reactivate" : "deactivate"}`);
    await loadTeam();
    redrawTeam(null);
    flash(active ? `${o.name} is back on the team.` : `${o.name} was deactivated.`);
  } catch (err) {
    flash(err.message, true);
  }
}

function teammateRow(o, isManager, editing) {
  const you = o.id === state.me.id;
  const mayDeactivate = isManager && !you && (state.me.role === "owner" || o.role !== "owner");
  const actions = isManager ? el("div", { class: "team-actions" },
    el("button", { "data-edit": o.id, onclick: () => redrawTeam(o.id) }, "Edit"),
    mayDeactivate
      ? (o.active
        ? el("button", { class: "danger-text", "data-deactivate": o.id, onclick: () => changeActive(o, false) }, "Deactivate")
        : el("button", { "data-reactivate": o.id, onclick: () => changeActive(o, true) }, "Reactivate"))
      : null) : null;
  return el("li", { class: o.active ? "" : "inactive", "data-operator": o.id },
    el("div", { class: "team-who" }, avatar(o, { away: o.active && o.availability === "away" }),
      el("span", { class: "team-name" },
        el("span", {}, el("strong", {}, o.name), you ? el("span", { class: "you" }, " (you)") : null),
        el("span", { class: "team-email" }, o.email))),
    el("span", { class: "team-role", "data-role": o.role }, ROLE_LABEL[o.role]),
    el("span", { class: "team-state" }, availabilityBadge(o)),
    el("span", { class: "team-load", title: o.capacity ? "Open chats / capacity" : "Open chats (no capacity set)" },
      el("span", { "data-load": o.id }, o.capacity ? `${o.load ?? 0} / ${o.capacity}` : String(o.load ?? 0)), " open",
      o.capacity ? null : el("span", { class: "capacity muted", "data-capacity": o.id }, " · no cap")),
    actions,
    editing ? teammateEditor(o) : null);
}

function inviteForm() {
  const email = el("input", { name: "email", type: "email", required: true, autocomplete: "off", placeholder: "name@company.com" });
  const name = el("input", { name: "name", required: true, maxlength: 100, autocomplete: "off", placeholder: "Their name" });
  const role = el("select", { name: "role" },
    el("option", { value: "operator" }, "Operator"), el("option", { value: "admin" }, "Admin"),
    state.me.role === "owner" ? el("option", { value: "owner" }, "Owner") : null);
  const result = el("div", { id: "invite-result" });
  const form = submitWith(el("form", { class: "invite", id: "invite-form" },
    el("label", {}, "Email", email), el("label", {}, "Name", name), el("label", {}, "Role", role),
    el("button", { class: "primary", type: "submit" }, "Send invitation")),
  async () => {
    {
      const invitation = await api("POST", "/invitations", { email: email.value, name: name.value, role: role.value });
      await renderInvitations();
      form.reset();
      result.replaceChildren(invitation.emailed
        ? el("p", { class: "notice", role: "status" }, `Invitation sent to ${invitation.email}. The link works for 7 days.`)
        : el("div", { class: "notice", role: "status" },
          el("p", {}, `This server sends no email (no --smtp-url), so send ${invitation.name} this link yourself. It works once, for 7 days, and is not shown again:`),
          el("div", { class: "link-box" },
            el("input", { id: "invite-link", readonly: true, value: invitation.link, "aria-label": "Invitation link", onfocus: (ev) => ev.target.select() }),
            el("button", { type: "button", onclick: () => navigator.clipboard?.writeText(invitation.link).then(() => flash("Link copied.")) }, "Copy link"))));
    }
  });
  return el("section", { class: "panel card" },
    el("h2", {}, "Invite a teammate"),
    el("p", { class: "muted" }, "They get an email with a link to choose their password and join."),
    form, result);
}

async function renderInvitations() {
  const box = document.getElementById("invitations");
  if (!box) return;
  let items;
  try {
    ({ items } = await api("GET", "/invitations"));
  } catch (err) {
    box.replaceChildren(el("p", { class: "notice error" }, err.message));
    return;
  }
  box.replaceChildren(items.length
    ? el("ul", { class: "invitations" }, items.map((i) => el("li", { "data-invitation": i.id },
      el("div", {}, el("strong", {}, i.name), " ", el("span", { class: "muted" }, i.email)),
      el("span", { class: "team-role" }, ROLE_LABEL[i.role]),
      el("span", { class: "muted" }, `Invited by ${i.invited_by_id ? operatorName(i.invited_by_id) : "a former teammate"} · expires ${timeUntil(i.expires_at)}`),
      el("button", { "data-revoke": i.id, onclick: async () => {
        try {
          await api("DELETE", `/invitations/${i.id}`);
          flash(`The invitation to ${i.email} was revoked.`);
        } catch (err) {
          flash(err.message, true);
        }
        renderInvitations();
      } }, "Revoke"))))
    : el("p", { class: "empty" }, "No pending invitations."));
}

// The teammate whose editor is open on the Teammates page, if any: live updates leave the
// list alone meanwhile.
let teamEditing = null;

function teamCard() {
  const isManager = managing();
  const team = [...state.operators.values()];
  const active = team.filter((o) => o.active).length;
  return el("section", { class: "panel card", id: "team-card" },
    el("div", { class: "card-head" }, el("h1", {}, "Teammates"),
      el("span", { class: "muted" }, `${active} active${team.length > active ? `, ${team.length - active} deactivated` : ""}`)),
    el("div", { class: "team-columns", "aria-hidden": "true" },
      ["Teammate", "Role", "Status", "Open chats"].map((h) => el("span", {}, h))),
    el("ul", { class: "team", id: "team" }, team.map((o) => teammateRow(o, isManager, o.id === teamEditing))));
}

/** Redraws the team list only (the invite form keeps what is typed in it). */
function redrawTeam(editing) {
  teamEditing = editing;
  document.getElementById("team-card")?.replaceWith(teamCard());
  document.querySelector("[data-editor] input[name=name]")?.focus();
}

/** After a live change: the list is redrawn unless an editor or a dialog is open. */
export function teamChanged() {
  if (location.pathname === "/teammates" && teamEditing === null && !document.querySelector("dialog[open]")) redrawTeam(null);
}

export function renderTeammates() {
  const isManager = managing();
  teamEditing = null;
  page("teammates", teamCard(),
    isManager ? inviteForm() : null,
    isManager ? el("section", { class: "panel card" }, el("h2", {}, "Pending invitations"),
      el("div", { id: "invitations" }, el("p", { class: "loading" }, "Loading…"))) : null);
  if (isManager) renderInvitations();
}
