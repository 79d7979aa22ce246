// The one list of the inbox's pages. The server answers every page path with the same shell;
// this draws the page for the path.
import { api } from "./api.js";
import { state, loadTeam } from "./state.js";
import { page } from "./layout.js";
import { el } from "./dom.js";
import { connectEvents } from "./live.js";
import { renderLogin, renderSignup, renderForgot, renderInvite, renderReset } from "./auth.js";
import { renderInbox } from "./inbox.js";
import { renderWidgets, renderWidget } from "./widgets.js";
import { renderTeammates } from "./teammates.js";
import { renderProfile, renderNotifications } from "./settings.js";
import { renderReports } from "./reports.js";

export function go(path) {
  history.pushState({}, "", path);
  route();
}

/** Where sign-in leads: back to the page that asked for it, if it is a page of this site. */
export function afterSignIn() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^\/(?![\/\\])/.test(next) ? next : "/inbox";
}

export async function route() {
  const path = location.pathname;
  let match;
  if (path === "/login") return renderLogin();
  if (path === "/signup") return renderSignup();
  if (path === "/forgot") return renderForgot();
  if ((match = path.match(/^\/invite\/([^/]+)$/))) return renderInvite(decodeURIComponent(match[1]));
  if ((match = path.match(/^\/reset\/([^/]+)$/))) return renderReset(decodeURIComponent(match[1]));
  if (!state.me) {
    try {
      state.me = await api("GET", "/me", undefined, { signedOut: "throw" });
    } catch (e) {
      if (e.status === 401) {
        const signup = await api("GET", "/signup", undefined, { signedOut: "throw" }).catch(() => ({ first_run: false }));
        location.href = signup.first_run ? "/signup" : `/login?next=${encodeURIComponent(path)}`;
        return;
      }
      throw e;
    }
    await loadTeam();
    connectEvents();
  }
  if ((match = path.match(/^\/inbox\/conversations\/(\d+)$/))) return renderInbox(Number(match[1]));
  if (path === "/" || path === "/inbox") return renderInbox(null);
  if (path === "/widgets") return renderWidgets();
  if ((match = path.match(/^\/widgets\/(\d+)$/))) return renderWidget(Number(match[1]));
  if (path === "/teammates") return renderTeammates();
  if (path === "/reports") return renderReports();
  if (path === "/settings/profile" || path === "/settings") return renderProfile();
  if (path === "/settings/notifications") return renderNotifications();
  page(null, el("h1", {}, "Page not found"), el("p", { class: "empty" }, "There is no page at this address."));
}
