// The signed-out pages: sign in, create a workspace, and the one-time links (an invitation,
// a password reset). Their requests handle a 401 themselves (a wrong password is one).
import { api } from "./api.js";
import { el, link, timeUntil } from "./dom.js";
import { submitWith } from "./forms.js";
import { afterSignIn } from "./router.js";
import { ROLE_WITH_ARTICLE } from "./state.js";

const PUBLIC = { signedOut: "throw" };
const root = () => document.getElementById("app");

function authForm(title, fields, submitText, onSubmit, footer) {
  const form = submitWith(el("form", { class: "stack panel card" },
    el("h1", {}, title),
    fields.map(([name, label, type]) =>
      el("label", {}, label, el("input", { name, type, required: true, autocomplete: name === "password" ? "current-password" : name }))),
    el("button", { class: "primary", type: "submit" }, submitText),
    footer || null),
  async (data) => {
    await onSubmit(data);
    location.href = afterSignIn();
  });
  root().replaceChildren(el("main", { class: "auth" }, el("p", { class: "auth-brand" }, "Switchboard"), form));
}

export async function renderLogin() {
  const signup = await api("GET", "/signup", undefined, PUBLIC).catch(() => ({ allowed: false }));
  authForm("Sign in", [["email", "Email", "email"], ["password", "Password", "password"]], "Sign in",
    async (data) => {
      const body = { ...data, workspace_id: data.workspace_id ? Number(data.workspace_id) : undefined };
      try {
        return await api("POST", "/session", body, PUBLIC);
      } catch (err) {
        const workspaces = err.body?.error?.workspaces;
        if (err.body?.error?.code === "workspace_required" && workspaces) {
          chooseWorkspace(workspaces);
          err.message = "This email and password open several workspaces: choose one, then sign in.";
        }
        throw err;
      }
    },
    [el("p", {}, link("/forgot", "Forgot your password?", { id: "forgot-link" })),
      signup.allowed ? el("p", {}, link("/signup", "Create a workspace")) : null]);
}

/** Adds (once) a workspace picker to the sign-in form, for an email in several workspaces. */
function chooseWorkspace(workspaces) {
  const form = document.querySelector("main.auth form");
  if (!form || form.querySelector("select[name=workspace_id]")) return;
  const select = el("select", { name: "workspace_id", required: true },
    workspaces.map((w) => el("option", { value: w.id }, w.name)));
  form.querySelector("button[type=submit]").before(el("label", {}, "Workspace", select));
}

export function renderSignup() {
  authForm("Create your workspace",
    [["workspace_name", "Workspace name", "text"], ["name", "Your name", "text"], ["email", "Email", "email"], ["password", "Password (8 characters or more)", "password"]],
    "Create workspace", (data) => api("POST", "/signup", data, PUBLIC),
    el("p", {}, link("/login", "I already have an account")));
}

// One-time links: invitations and password resets.

/** A signed-out page: one card. */
function authPage(...content) {
  root().replaceChildren(el("main", { class: "auth" }, el("p", { class: "auth-brand" }, "Switchboard"),
    el("section", { class: "panel card auth-card" }, ...content)));
}

function newPasswordField(label) {
  return el("label", {}, label,
    el("input", { name: "password", type: "password", required: true, minlength: 8, maxlength: 1024, autocomplete: "new-password" }),
    el("span", { class: "hint" }, "8 characters or more."));
}

function deadLink(title, err, next) {
  authPage(el("h1", {}, title),
    el("p", {}, err.status === 404 ? err.message : `Something went wrong: ${err.message}`),
    el("p", {}, next));
}

export async function renderInvite(token) {
  let invitation;
  try {
    invitation = await api("GET", `/invitations/${encodeURIComponent(token)}`, undefined, PUBLIC);
  } catch (err) {
    return deadLink("This invitation link no longer works", err, link("/login", "Go to sign in"));
  }
  const form = submitWith(el("form", { class: "stack", id: "accept-form" },
    el("label", {}, "Email", el("input", { name: "email", type: "email", value: invitation.email, readonly: true, autocomplete: "username" })),
    el("label", {}, "Your name", el("input", { name: "name", required: true, maxlength: 100, autocomplete: "name", value: invitation.name })),
    newPasswordField("Choose a password"),
    el("button", { class: "primary", type: "submit" }, `Join ${invitation.workspace_name}`)),
  async ({ name, password }) => {
    await api("POST", `/invitations/${encodeURIComponent(token)}/accept`, { name, password }, PUBLIC);
    location.href = "/inbox";
  });
  authPage(
    el("p", { class: "eyebrow" }, "You're invited"),
    el("h1", {}, `Join ${invitation.workspace_name} on Switchboard`),
    el("p", {}, `You'll answer the team's live chats as ${ROLE_WITH_ARTICLE[invitation.role]}. Choose a password to sign in with.`),
    form,
    el("p", { class: "muted" }, `This invitation expires ${timeUntil(invitation.expires_at)}.`));
}

export function renderForgot() {
  const form = submitWith(el("form", { class: "stack", id: "forgot-form" },
    el("label", {}, "Email", el("input", { name: "email", type: "email", required: true, autocomplete: "username" })),
    el("button", { class: "primary", type: "submit" }, "Send me a reset link")),
  async ({ email }) => {
    await api("POST", "/password-reset", { email }, PUBLIC);
    authPage(el("h1", {}, "Check your email"),
      el("p", { id: "reset-sent" }, "If an account signs in with ", el("strong", {}, email.trim()),
        ", we've sent it a link to choose a new password. The link works once, for one hour."),
      el("p", { class: "muted" }, "Nothing arrived? Check your spam folder, or ask an admin of your workspace."),
      el("p", {}, link("/login", "Back to sign in")));
  });
  authPage(el("h1", {}, "Reset your password"),
    el("p", {}, "Enter the email you sign in with, and we'll send you a link to choose a new password."),
    form, el("p", {}, link("/login", "Back to sign in")));
}

export function renderReset(token) {
  const form = submitWith(el("form", { class: "stack", id: "reset-form" },
    newPasswordField("New password"),
    el("button", { class: "primary", type: "submit" }, "Set password and sign in")),
  async ({ password }) => {
    try {
      await api("POST", `/password-reset/${encodeURIComponent(token)}`, { password }, PUBLIC);
    } catch (err) {
      if (err.status === 404) return deadLink("This reset link no longer works", err, link("/forgot", "Ask for a new link"));
      throw err;
    }
    location.href = "/inbox";
  });
  authPage(el("h1", {}, "Choose a new password"),
    el("p", {}, "You'll be signed out everywhere else, and signed in here."), form);
}
