// What every page shares: the signed-in operator, the team and the widgets.
import { api } from "./api.js";

export const state = {
  me: null,
  operators: new Map(),
  widgets: new Map(),
};

export const STATUS_LABEL = { active: "AI", handed_off: "Open", closed: "Closed" };
export const ROLE_LABEL = { owner: "Owner", admin: "Admin", operator: "Operator" };
export const ROLE_WITH_ARTICLE = { owner: "an owner", admin: "an admin", operator: "an operator" };
export const MODES = [
  ["manual", "Manual", "Chats wait in the Unassigned queue until a teammate claims them."],
  ["round_robin", "Round-robin", "Chats go to available teammates in turn, in the order they joined."],
  ["lightest_load", "Lightest load", "Each chat goes to the available teammate with the fewest open chats."],
];

export async function loadTeam() {
  const [operators, widgets] = await Promise.all([api("GET", "/operators"), api("GET", "/widgets")]);
  state.operators = new Map(operators.items.map((o) => [o.id, o]));
  state.widgets = new Map(widgets.items.map((w) => [w.id, w]));
  const me = state.operators.get(state.me.id);
  if (me) state.me = { ...state.me, ...me };
}

export function operatorName(id) {
  const o = state.operators.get(id);
  return o ? o.name : "a former teammate";
}

export const isManager = () => state.me.role !== "operator";

/** "3 / 5 open" with a capacity, "3 open" without. */
export function loadText(o) {
  const load = o.load ?? 0;
  return o.capacity ? `${load} / ${o.capacity} open` : `${load} open`;
}

/** Why someone is Away, in words: by hand, or because they closed every inbox tab. */
export function awayReason(o) {
  return (o.availability_reason || "manual") === "no_open_tab" ? "no inbox open" : "set by hand";
}
