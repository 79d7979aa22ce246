// The JSON API client. Every failure becomes an Error whose message a person can act on:
// the server's own message when it sent one, else what went wrong in plain words. A request
// answered 401 means this tab's session ended (signed out elsewhere, deactivated, password
// changed): the tab goes to the sign-in page instead of showing a developer's message.

const UNREACHABLE = "Switchboard cannot be reached. Check your connection; it will retry.";

/** Where a 401 sends this tab: sign-in, then back here. */
export function signInAgain() {
  location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
}

/**
 * `options.signedOut`: what a 401 does; by default the tab goes to sign-in. The sign-in and
 * public pages pass "throw" to handle it themselves.
 */
export async function api(method, path, body, options = {}) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/api/v1" + path, init);
  } catch (_) {
    throw Object.assign(new Error(UNREACHABLE), { status: 0, offline: true });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return data;
  if (response.status === 401 && options.signedOut !== "throw") {
    signInAgain();
    // Nothing to show meanwhile: the page is being left.
    return new Promise(() => {});
  }
  const error = new Error((data && data.error && data.error.message) || plainStatus(response.status));
  error.status = response.status;
  error.body = data;
  throw error;
}

function plainStatus(status) {
  if (status === 413) return "That is too large to send.";
  if (status === 429) return "Too many tries in a short time. Wait a moment and try again.";
  if (status >= 500) return `Switchboard could not do that just now (error ${status}). Try again in a moment.`;
  return `That did not work (error ${status}).`;
}
