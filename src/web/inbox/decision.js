// A routing decision in words: the settings page's "next chat" line and the timeline's "Why?".
import { el } from "./dom.js";
import { operatorName, loadText } from "./state.js";

export const WHY_EXCLUDED = {
  away: "away",
  at_capacity: "at capacity",
  not_eligible: "not eligible for this widget",
  already_given: "already had this chat",
};

/** "Ana and Ben are away; Cleo is at capacity": the excluded, grouped by why. */
export function excludedText(excluded) {
  const groups = new Map();
  for (const x of excluded) {
    if (!groups.has(x.why)) groups.set(x.why, []);
    groups.get(x.why).push(operatorName(x.operator_id));
  }
  return [...groups].map(([why, names]) => {
    const who = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
    const verb = why === "already_given" ? (names.length === 1 ? "has" : "have") : names.length === 1 ? "is" : "are";
    const what = why === "already_given" ? "already had it" : WHY_EXCLUDED[why] || why;
    return `${who} ${verb} ${what}`;
  }).join("; ");
}

/** The settings page's line: who gets the next chat, and why (or why nobody does). */
export function nextChatText(d) {
  if (d.mode === "manual") return "Manual routing: the next chat waits in Unassigned until someone claims it.";
  if (d.chosen_operator_id !== null) return `Next chat goes to ${operatorName(d.chosen_operator_id)}, because: ${d.rule}.`;
  if (!d.excluded.length) return "Nobody would get the next chat: there is no teammate to route to.";
  return `Nobody would get the next chat: ${excludedText(d.excluded)}. It would wait in the queue.`;
}

/** The decision behind a routed assignment: the rule, who could take it, who could not. */
export function decisionDetails(d) {
  const candidates = d.candidates.map((c) => el("li", { "data-candidate": c.operator_id },
    el("span", { class: "why-name" }, operatorName(c.operator_id)),
    el("span", { class: "why-meta" }, loadText(c),
      c.last_assigned_at ? ` · last given a chat ${new Date(c.last_assigned_at).toLocaleString([], { dateStyle: "short", timeStyle: "short" })}` : " · never given a chat"),
    c.operator_id === d.chosen_operator_id ? el("span", { class: "why-chosen" }, "chosen") : null));
  const excluded = d.excluded.map((x) => el("li", { "data-excluded": x.operator_id },
    el("span", { class: "why-name" }, operatorName(x.operator_id)),
    el("span", { class: "why-meta" }, WHY_EXCLUDED[x.why] || x.why)));
  return [
    el("p", { class: "why-rule" }, el("strong", {}, "Rule: "), d.rule),
    el("h4", {}, "Could take it"),
    candidates.length ? el("ul", { class: "why-list" }, candidates) : el("p", { class: "muted" }, "Nobody."),
    excluded.length ? el("h4", {}, "Left out") : null,
    excluded.length ? el("ul", { class: "why-list" }, excluded) : null,
  ];
}
