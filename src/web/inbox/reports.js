// The routing report (owners and admins): chats by how they were assigned per teammate, the
// medians, unanswered moves, loads and the queue now, and chats assigned per day. Charts are
// SVG drawn here; every number in them is also in a table.
import { api } from "./api.js";
import { el, waited } from "./dom.js";
import { isManager } from "./state.js";
import { page } from "./layout.js";

const SVG = "http://www.w3.org/2000/svg";
const DAY = 86400e3;
/** The daily chart asks for one window per day: beyond this many days it is left out. */
const MAX_DAYS = 62;

/** How a chat reached the teammate, in the order the bars stack, with a colour and a word. */
const REASONS = [
  ["round_robin", "Round-robin", "#4f6bed"],
  ["lightest_load", "Lightest load", "#7c5ce0"],
  ["claim", "Claimed", "#1f9d74"],
  ["reply", "Took by replying", "#65b84f"],
  ["manual", "Assigned by a teammate", "#d99a1e"],
  ["unanswered", "Moved: unanswered", "#d9534f"],
  ["assignee_away", "Moved: assignee away", "#e07b39"],
  ["assignee_removed", "Moved: assignee removed", "#8d6e63"],
];

/** An SVG element; text goes in only as text. */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const period = { preset: "7", from: null, to: null };
/** What the charts on screen show, to draw them again at a new width. */
const drawn = { operators: null, series: null };
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (drawn.operators) document.getElementById("bars-box")?.replaceChildren(operatorBars(drawn.operators));
    if (drawn.series) document.getElementById("days-box")?.replaceChildren(dayChart(drawn.series));
  }, 150);
});

function windowOf() {
  if (period.preset !== "custom") {
    const to = new Date(new Date().toDateString()).getTime() + DAY;
    return { from: new Date(to - Number(period.preset) * DAY), to: new Date(to) };
  }
  return { from: new Date(`${period.from}T00:00`), to: new Date(new Date(`${period.to}T00:00`).getTime() + DAY) };
}

const dateValue = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

function secsText(secs) {
  if (secs === null || secs === undefined) return "—";
  return waited(new Date(0).toISOString(), Math.round(secs) * 1000);
}

export function renderReports() {
  if (!isManager()) return page("reports", el("section", { class: "panel card" }, el("h1", {}, "Reports"), el("p", {}, "Only owners and admins can see reports.")));
  const { from, to } = windowOf();
  const preset = (value, text) => el("button", { type: "button", "data-period": value, "aria-pressed": String(period.preset === value),
    onclick: () => { period.preset = value; renderReports(); } }, text);
  const custom = el("form", { class: "period-custom", id: "period-custom", hidden: period.preset !== "custom" },
    el("label", {}, "From ", el("input", { type: "date", name: "from", required: true, value: period.from || dateValue(from) })),
    el("label", {}, "To ", el("input", { type: "date", name: "to", required: true, value: period.to || dateValue(new Date(to - DAY)) })),
    el("button", { type: "submit" }, "Show"));
  custom.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(custom);
    Object.assign(period, { preset: "custom", from: data.get("from"), to: data.get("to") });
    renderReports();
  });
  page("reports", el("section", { class: "panel card reports" },
    el("div", { class: "reports-head" }, el("h1", {}, "Routing report"),
      el("div", { class: "period", role: "group", "aria-label": "Period" },
        el("span", { class: "segmented" }, preset("7", "Last 7 days"), preset("30", "Last 30 days"),
          el("button", { type: "button", "data-period": "custom", "aria-pressed": String(period.preset === "custom"),
            onclick: () => { custom.hidden = false; custom.querySelector("input").focus(); } }, "Custom")),
        custom)),
    el("div", { id: "report", "aria-live": "polite" }, el("p", { class: "loading" }, "Loading…"))));
  load(from, to);
}

async function load(from, to) {
  const box = document.getElementById("report");
  const query = (a, b) => `/reports/routing?from=${encodeURIComponent(a.toISOString())}&to=${encodeURIComponent(b.toISOString())}`;
  let report;
  try {
    report = await api("GET", query(from, to));
  } catch (e) {
    box.replaceChildren(el("p", { class: "notice error", role: "alert" }, e.message));
    return;
  }
  drawn.operators = report.operators;
  drawn.series = null;
  const days = Math.round((to - from) / DAY);
  box.replaceChildren(
    el("p", { class: "muted period-text" }, `${from.toLocaleDateString()} – ${new Date(to - DAY).toLocaleDateString()}`),
    nowCards(report),
    el("h2", {}, "Chats assigned, by how"),
    el("div", { id: "bars-box" }, operatorBars(report.operators)),
    operatorTable(report.operators),
    el("h2", {}, "Chats assigned per day"),
    el("div", { id: "per-day" }, days <= MAX_DAYS ? el("p", { class: "loading" }, "Loading…")
      : el("p", { class: "muted" }, `Shown for periods up to ${MAX_DAYS} days.`)));
  if (days > MAX_DAYS) return;
  const starts = Array.from({ length: days }, (_, i) => new Date(from.getTime() + i * DAY));
  try {
    const each = await Promise.all(starts.map((d) => api("GET", query(d, new Date(d.getTime() + DAY)))));
    const series = each.map((r, i) => ({ day: starts[i], assigned: r.operators.reduce((n, o) => n + Object.values(o.assigned).reduce((a, b) => a + b, 0), 0) }));
    drawn.series = series;
    document.getElementById("per-day")?.replaceChildren(el("div", { id: "days-box" }, dayChart(series)), dayTable(series));
  } catch (e) {
    document.getElementById("per-day")?.replaceChildren(el("p", { class: "notice error" }, e.message));
  }
}

function nowCards(report) {
  const q = report.queue;
  const total = report.operators.reduce((n, o) => n + Object.values(o.assigned).reduce((a, b) => a + b, 0), 0);
  const moves = report.operators.reduce((n, o) => n + o.unanswered_moves, 0);
  const card = (label, value, note) => el("div", { class: "stat" }, el("span", { class: "stat-value" }, value), el("span", { class: "stat-label" }, label),
    note ? el("span", { class: "stat-note muted" }, note) : null);
  return el("div", { class: "stats", id: "report-stats" },
    card("chats assigned", String(total)),
    card("moved for no reply", String(moves)),
    card("in the queue now", String(q.length), q.oldest_queued_at ? `oldest waiting ${waited(q.oldest_queued_at)}` : "nobody waiting"));
}

/** Charts are drawn at the width they are shown at, so their text keeps its size on a phone. */
function chartWidth() {
  return Math.min(720, Math.max(280, document.getElementById("report")?.clientWidth || 400));
}

const totalOf = (o) => Object.values(o.assigned).reduce((a, b) => a + b, 0);

/** One stacked bar per teammate: name above, the segments by reason, the total at the end. */
function operatorBars(operators) {
  const width = chartWidth(), label = 18, bar = 18, gap = 14, row = label + bar + gap;
  const max = Math.max(1, ...operators.map(totalOf));
  const plot = width - 40;
  const height = Math.max(1, operators.length) * row;
  const used = REASONS.filter(([r]) => operators.some((o) => o.assigned[r]));
  const rows = operators.map((o, i) => {
    const y = i * row;
    let x = 0;
    const segments = REASONS.filter(([r]) => o.assigned[r]).map(([r, text, colour]) => {
      const n = o.assigned[r];
      const w = (n / max) * plot;
      const g = svg("g", { "data-reason": r },
        svg("rect", { x, y: y + label, width: Math.max(w, 1), height: bar, fill: colour, rx: 2 }, svg("title", {}, `${o.name}: ${n} ${text.toLowerCase()}`)),
        w >= 18 ? svg("text", { x: x + w / 2, y: y + label + 13, "text-anchor": "middle", class: "seg-value" }, n) : null);
      x += w;
      return g;
    });
    return svg("g", { class: "bar", "data-operator": o.operator_id },
      svg("text", { x: 0, y: y + 12, class: "bar-name" }, o.name),
      svg("rect", { x: 0, y: y + label, width: plot, height: bar, class: "bar-track", rx: 2 }),
      segments,
      svg("text", { x: x + 6, y: y + label + 13, class: "bar-total" }, totalOf(o)));
  });
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart bars", role: "img", "aria-labelledby": "bars-title bars-desc", id: "bars" },
    svg("title", { id: "bars-title" }, "Chats assigned per teammate, by how"),
    svg("desc", { id: "bars-desc" }, operators.map((o) => `${o.name}: ${totalOf(o)}`).join("; ") || "No teammates."),
    rows);
  const legend = el("ul", { class: "legend", "aria-label": "Legend" },
    used.map(([r, text, colour]) => el("li", { "data-reason": r }, el("span", { class: "swatch", "data-colour": colour }), text)));
  // The CSP forbids inline styles set from markup; the swatch colours are set as properties.
  for (const s of legend.querySelectorAll(".swatch")) s.style.background = s.dataset.colour;
  return el("figure", { class: "chart-box" }, operators.length ? chart : el("p", { class: "empty" }, "No teammates yet."), used.length ? legend : null);
}

function operatorTable(operators) {
  const used = REASONS.filter(([r]) => operators.some((o) => o.assigned[r]));
  return el("div", { class: "table-scroll" }, el("table", { class: "report-table", id: "report-table" },
    el("caption", { class: "sr-only" }, "Per teammate"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Teammate"), used.map(([, text]) => el("th", { scope: "col", class: "num" }, text)),
      el("th", { scope: "col", class: "num" }, "Total"),
      el("th", { scope: "col", class: "num", title: "Median time from handover to assignment" }, "Median wait"),
      el("th", { scope: "col", class: "num", title: "Median time from assignment to their first reply" }, "Median first reply"),
      el("th", { scope: "col", class: "num" }, "Moved for no reply"),
      el("th", { scope: "col", class: "num" }, "Open now"))),
    el("tbody", {}, operators.map((o) => el("tr", { "data-operator": o.operator_id },
      el("th", { scope: "row" }, o.name),
      used.map(([r]) => el("td", { class: "num" }, String(o.assigned[r] || 0))),
      el("td", { class: "num" }, String(totalOf(o))),
      el("td", { class: "num" }, secsText(o.median_wait_secs)),
      el("td", { class: "num" }, secsText(o.median_first_reply_secs)),
      el("td", { class: "num" }, String(o.unanswered_moves)),
      el("td", { class: "num" }, o.capacity ? `${o.load} / ${o.capacity}` : String(o.load)))))));
}

/** Columns per day, with the count above each non-empty one and a few date labels below. */
function dayChart(series) {
  const width = chartWidth(), height = 150, top = 14, bottom = 20, plot = height - top - bottom;
  const max = Math.max(1, ...series.map((d) => d.assigned));
  const step = width / series.length;
  const every = Math.ceil(series.length / 7);
  const label = (d) => d.toLocaleDateString([], { day: "numeric", month: "short" });
  return el("figure", { class: "chart-box" }, svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart days", role: "img", "aria-labelledby": "days-title days-desc", id: "days" },
    svg("title", { id: "days-title" }, "Chats assigned per day"),
    svg("desc", { id: "days-desc" }, series.map((d) => `${label(d.day)}: ${d.assigned}`).join("; ")),
    svg("line", { x1: 0, x2: width, y1: top + plot, y2: top + plot, class: "axis" }),
    series.map((d, i) => {
      const h = (d.assigned / max) * plot;
      const x = i * step + step * 0.15;
      return svg("g", { "data-day": dateValue(d.day) },
        svg("rect", { x, y: top + plot - h, width: step * 0.7, height: h, class: "day-bar", rx: 1 }, svg("title", {}, `${label(d.day)}: ${d.assigned}`)),
        d.assigned && step >= 14 ? svg("text", { x: x + step * 0.35, y: top + plot - h - 3, "text-anchor": "middle", class: "seg-value dark" }, d.assigned) : null,
        i % every === 0 ? svg("text", { x: x + step * 0.35, y: height - 5, "text-anchor": "middle", class: "axis-label" }, label(d.day)) : null);
    })));
}

function dayTable(series) {
  return el("details", { class: "day-table" }, el("summary", {}, "Numbers per day"),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Day"), el("th", { scope: "col", class: "num" }, "Chats assigned"))),
      el("tbody", {}, series.map((d) => el("tr", {}, el("th", { scope: "row" }, d.day.toLocaleDateString()), el("td", { class: "num" }, String(d.assigned)))))));
}
