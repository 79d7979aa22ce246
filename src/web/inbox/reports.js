// The routing report (owners and admins): chats by how they were assigned per teammate, the
// medians, unanswered moves, loads and the queue now, and day by day the chats assigned and
// their median wait. Charts are
// SVG drawn here; every number in them is also in a table.
import { api } from "./api.js";
import { el, waited } from "./dom.js";
import { isManager } from "./state.js";
import { page } from "./layout.js";

const SVG = "http://www.w3.org/2000/svg";
const DAY = 86400e3;

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
    if (drawn.series) document.getElementById("days-box")?.replaceChildren(dayCharts(drawn.series));
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
  drawn.series = report.days.map((d) => ({ day: new Date(d.day), assigned: d.assigned, wait: d.median_wait_secs }));
  box.replaceChildren(
    el("p", { class: "muted period-text" }, `${from.toLocaleDateString()} – ${new Date(to - DAY).toLocaleDateString()}`),
    nowCards(report),
    el("h2", {}, "Chats assigned, by how"),
    el("div", { id: "bars-box" }, operatorBars(report.operators)),
    operatorTable(report.operators),
    el("h2", {}, "Day by day"),
    el("div", { id: "days-box" }, dayCharts(drawn.series)),
    dayTable(drawn.series));
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

function dayCharts(series) {
  return el("div", { class: "day-charts" },
    columnChart(series, "days", "Chats assigned per day", (d) => d.assigned, String, "day-bar"),
    columnChart(series, "waits", "Median wait for a person, per day", (d) => d.wait, secsText, "wait-bar"));
}

/** Columns per day, the value above each non-empty one, a few date labels below. */
function columnChart(series, id, title, value, text, barClass) {
  // Two columns side by side from 576 px (see .day-charts), one under the other below.
  const full = document.getElementById("report")?.clientWidth || 400;
  const width = Math.max(260, full >= 576 ? (full - 16) / 2 : full), height = 150, top = 16, bottom = 20, plot = height - top - bottom;
  const max = Math.max(1, ...series.map((d) => value(d) || 0));
  const step = width / Math.max(1, series.length);
  const every = Math.ceil(series.length / 7);
  const label = (d) => d.toLocaleDateString([], { day: "numeric", month: "short" });
  const said = (d) => (value(d) === null ? "none" : text(value(d)));
  return el("figure", { class: "chart-box" }, el("figcaption", { class: "chart-title" }, title),
    svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart days", role: "img", "aria-labelledby": `${id}-title ${id}-desc`, id },
      svg("title", { id: `${id}-title` }, title),
      svg("desc", { id: `${id}-desc` }, series.map((d) => `${label(d.day)}: ${said(d)}`).join("; ")),
      svg("line", { x1: 0, x2: width, y1: top + plot, y2: top + plot, class: "axis" }),
      series.map((d, i) => {
        const v = value(d) || 0;
        const h = (v / max) * plot;
        const x = i * step + step * 0.15;
        const show = v && step >= 22;
        return svg("g", { "data-day": dateValue(d.day) },
          svg("rect", { x, y: top + plot - h, width: step * 0.7, height: h, class: barClass, rx: 1 }, svg("title", {}, `${label(d.day)}: ${said(d)}`)),
          show ? svg("text", { x: x + step * 0.35, y: top + plot - h - 3, "text-anchor": "middle", class: "seg-value dark" }, text(v)) : null,
          i % every === 0 ? svg("text", { x: x + step * 0.35, y: height - 5, "text-anchor": "middle", class: "axis-label" }, label(d.day)) : null);
      })));
}

function dayTable(series) {
  return el("details", { class: "day-table" }, el("summary", {}, "Numbers per day"),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Day"), el("th", { scope: "col", class: "num" }, "Chats assigned"),
      el("th", { scope: "col", class: "num" }, "Median wait"))),
      el("tbody", {}, series.map((d) => el("tr", {}, el("th", { scope: "row" }, d.day.toLocaleDateString()), el("td", { class: "num" }, String(d.assigned)),
        el("td", { class: "num" }, secsText(d.wait)))))));
}
