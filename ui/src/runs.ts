// The run history's pure logic: the list's query, the Runs view's routes
// in the URL's fragment, a stored summary as the statistics table reads
// it, the words and colours of a comparison, and two runs' histories on
// one time axis for the overlaid charts.

import type { Delta, Direction, EndpointSummary, Point, Row, RunStatus, Stats, StoredRun, Summary } from "./api";
import { count, ms, rate } from "./format";

// ---- the list ----

/** The list's filters, as the user typed them. */
export interface RunFilter {
  script: string;
  /** "key=value" pairs, separated by commas or spaces. */
  labels: string;
  /** "" for any. */
  status: RunStatus | "";
}

/** The columns the store sorts by (the API's sort=). */
export type RunSortKey = "started" | "requests" | "failures" | "rps" | "p95" | "duration";

/** A list order: a column, descending unless asc. */
export interface RunOrder {
  key: RunSortKey;
  asc: boolean;
}

export const defaultOrder: RunOrder = { key: "started", asc: false };

/** The statuses the filter offers. */
export const statuses: readonly RunStatus[] = ["passed", "failed", "aborted", "running"];

/**
 * parseLabels reads the label filter: "env=prod, build=42" or
 * "env=prod build=42". A key is not empty and holds no "="; the value may
 * be empty. It returns the pairs, or the first mistake.
 */
export function parseLabels(text: string): { labels: string[]; error: string } {
  const labels: string[] = [];
  for (const part of text.split(/[\s,]+/)) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) return { labels: [], error: `label "${part}": want key=value` };
    labels.push(part);
  }
  return { labels, error: "" };
}

/** runsQuery is the query string of GET /api/v1/runs for a filter, an order and a page size. */
export function runsQuery(f: RunFilter, order: RunOrder, limit: number): string {
  const q = new URLSearchParams();
  if (f.script.trim() !== "") q.set("script", f.script.trim());
  for (const l of parseLabels(f.labels).labels) q.append("label", l);
  if (f.status !== "") q.set("status", f.status);
  if (order.key !== defaultOrder.key) q.set("sort", order.key);
  if (order.asc) q.set("asc", "true");
  q.set("limit", String(limit));
  return q.toString();
}

/** nextRunOrder is the order after a click on a column: first descending (newest, largest), then ascending. */
export function nextRunOrder(cur: RunOrder, key: RunSortKey): RunOrder {
  if (cur.key !== key) return { key, asc: false };
  return { key, asc: !cur.asc };
}

/** shortID is the part of a run id people read and type: 8 hex digits. */
export function shortID(id: string): string {
  return id.slice(0, 8);
}

/** labelText shows a run's labels in key order: "build=42 env=prod". */
export function labelText(labels: Record<string, string> | null | undefined): string {
  return Object.keys(labels ?? {})
    .sort()
    .map((k) => `${k}=${labels![k]}`)
    .join(" ");
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** when formats an RFC 3339 time as local "2026-11-26 23:00:05"; "–" when it is not a time. */
export function when(rfc3339: string | null | undefined): string {
  if (!rfc3339) return "–";
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return "–";
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

/** statusClass is the CSS class of a run's status: its verdict's colour. */
export function statusClass(status: string): string {
  switch (status) {
    case "passed":
    case "failed":
    case "aborted":
    case "running":
      return `run-status run-${status}`;
    default:
      return "run-status";
  }
}

// ---- routes: #runs, #runs/ID, #runs/compare/BASE/OTHER ----

/** Where the Runs view is. */
export type RunsRoute =
  | { view: "list" }
  | { view: "run"; ref: string }
  | { view: "compare"; base: string; other: string };

/** parseRunsRoute reads the URL's fragment; anything it does not know is the list. */
export function parseRunsRoute(hash: string): RunsRoute {
  const parts = hash
    .replace(/^#/, "")
    .split("/")
    .map((p) => decodeURIComponent(p));
  if (parts[0] !== "runs") return { view: "list" };
  if (parts[1] === "compare" && parts.length === 4 && parts[2] !== "" && parts[3] !== "") {
    return { view: "compare", base: parts[2], other: parts[3] };
  }
  if (parts.length === 2 && parts[1] !== "" && parts[1] !== "compare") return { view: "run", ref: parts[1] };
  return { view: "list" };
}

/** runsHash is the fragment of a route. */
export function runsHash(r: RunsRoute): string {
  switch (r.view) {
    case "run":
      return `#runs/${encodeURIComponent(r.ref)}`;
    case "compare":
      return `#runs/compare/${encodeURIComponent(r.base)}/${encodeURIComponent(r.other)}`;
    default:
      return "#runs";
  }
}

/** goRuns moves the Runs view to r, as a new entry of the browser's history. */
export function goRuns(r: RunsRoute): void {
  location.hash = runsHash(r);
}

/**
 * comparePair orders two picked runs for a comparison: the older is the
 * base, the newer the other (so "worse" means "got worse since").
 */
export function comparePair(a: StoredRun, b: StoredRun): { base: StoredRun; other: StoredRun } {
  return a.started <= b.started ? { base: a, other: b } : { base: b, other: a };
}

// ---- a stored run as the statistics table reads it ----

function rowOf(e: EndpointSummary, durationS: number): Row {
  return {
    method: e.method,
    name: e.name,
    requests: e.requests,
    failures: e.failures,
    rps: e.rps,
    // A finished run has no "current" rate: the table shows the whole run's.
    current_rps: e.rps,
    current_fail_per_sec: durationS > 0 ? e.failures / durationS : 0,
    bytes_avg: e.bytes_avg,
    latency_ms: e.latency_ms,
  };
}

/**
 * summaryStats turns a stored run's summary into the Stats the live
 * statistics table draws: rows as they were at the run's end, whose
 * per-second columns hold the whole run's rates.
 */
export function summaryStats(s: Summary): Stats {
  const dur = s.duration_s;
  const totalBytes = s.endpoints.reduce((sum, e) => sum + e.bytes_avg * e.requests, 0);
  const total: Row = rowOf(
    {
      method: "",
      name: "Aggregated",
      requests: s.totals.requests,
      failures: s.totals.failures,
      rps: s.totals.rps,
      bytes_avg: s.totals.requests > 0 ? totalBytes / s.totals.requests : 0,
      latency_ms: s.totals.latency_ms,
    },
    dur,
  );
  return {
    state: "stopped",
    users: 0,
    target_users: s.users_peak,
    spawn_rate: 0,
    host: s.host,
    started: s.started,
    elapsed_s: dur,
    total,
    endpoints: s.endpoints.map((e) => rowOf(e, dur)),
    errors: s.errors,
    exceptions: s.exceptions,
    workers: null,
    warnings: s.warnings,
    dropped_iterations: s.dropped_iterations,
  };
}

// ---- the words and colours of a comparison ----

const minus = "\u2212";

/** The unit a compared figure is shown in. */
export type Kind = "ms" | "rate" | "count" | "ratio";

/** value formats one run's value of a figure. */
export function figure(v: number, kind: Kind): string {
  switch (kind) {
    case "ms":
      return ms(v);
    case "rate":
      return rate(v);
    case "count":
      return count(v);
    case "ratio":
      return percentOf(v);
  }
}

/** percentOf formats a ratio as a percentage: 0.0123 → "1.23%". */
function percentOf(v: number): string {
  if (!Number.isFinite(v)) return "–";
  const p = 100 * v;
  if (p === 0) return "0%";
  if (Math.abs(p) < 0.01) return "<0.01%";
  return `${Math.abs(p) < 10 ? p.toFixed(2) : p.toFixed(1)}%`;
}

function signed(text: string, negative: boolean): string {
  return (negative ? minus : "+") + text;
}

/**
 * change is how a figure moved, as the table shows it: "+18.0%", "−7.0%"
 * (a true minus sign), "+3" from nothing (no ratio exists), "±0" when it
 * did not move. A ratio's change is in percentage points ("+1.20 pp").
 */
export function change(d: Delta, kind: Kind): string {
  if (d.diff === 0) return "±0";
  const neg = d.diff < 0;
  if (kind === "ratio") return signed(`${(Math.abs(d.diff) * 100).toFixed(2)} pp`, neg);
  if (d.rel === null) return signed(figure(Math.abs(d.diff), kind), neg);
  const p = Math.abs(d.rel) * 100;
  return signed(`${p < 10 ? p.toFixed(1) : p.toFixed(0)}%`, neg);
}

/** direction reads a delta's direction; an unknown word counts as "same". */
export function direction(d: Delta): Direction {
  return d.direction === "better" || d.direction === "worse" ? d.direction : "same";
}

/** deltaClass is the CSS class of a compared cell: green better, red worse, grey same. */
export function deltaClass(d: Delta): string {
  return `delta delta-${direction(d)}`;
}

/** arrow points the way the value moved: ▲ up, ▼ down, nothing when it did not. */
export function arrow(d: Delta): string {
  return d.diff > 0 ? "▲" : d.diff < 0 ? "▼" : "";
}

/** deltaTitle spells a compared cell out for its tooltip. */
export function deltaTitle(d: Delta, kind: Kind, unit: string): string {
  const u = unit ? ` ${unit}` : "";
  return `base ${figure(d.base, kind)}${u} → other ${figure(d.other, kind)}${u}: ${change(d, kind)}, ${direction(d)}`;
}

// ---- two histories on one axis ----

/** Two runs' series on seconds since each run's start; null where a run has no point. */
export interface Aligned {
  /** Seconds since the start. */
  t: number[];
  base: Record<SeriesKey, (number | null)[]>;
  other: Record<SeriesKey, (number | null)[]>;
}

export type SeriesKey = "rps" | "fail_per_sec" | "p50" | "p95" | "p99" | "users";

const seriesKeys: readonly SeriesKey[] = ["rps", "fail_per_sec", "p50", "p95", "p99", "users"];

function emptySeries(): Record<SeriesKey, (number | null)[]> {
  return { rps: [], fail_per_sec: [], p50: [], p95: [], p99: [], users: [] };
}

/**
 * alignHistories puts two runs' points on one axis of whole seconds since
 * each run's start (startMs, Unix ms; the first point's time when NaN),
 * so the charts overlay them: at each second either run may have a point
 * or a gap (null).
 */
export function alignHistories(
  base: readonly Point[],
  baseStartMs: number,
  other: readonly Point[],
  otherStartMs: number,
): Aligned {
  const bySecond = (pts: readonly Point[], startMs: number) => {
    const origin = Number.isFinite(startMs) ? startMs : (pts[0]?.t ?? 0);
    const m = new Map<number, Point>();
    for (const p of pts) m.set(Math.max(0, Math.round((p.t - origin) / 1000)), p); // a later point of a second wins
    return m;
  };
  const b = bySecond(base, baseStartMs);
  const o = bySecond(other, otherStartMs);
  const t = [...new Set([...b.keys(), ...o.keys()])].sort((x, y) => x - y);
  const out: Aligned = { t, base: emptySeries(), other: emptySeries() };
  for (const s of t) {
    const bp = b.get(s);
    const op = o.get(s);
    for (const k of seriesKeys) {
      out.base[k].push(bp ? bp[k] : null);
      out.other[k].push(op ? op[k] : null);
    }
  }
  return out;
}

/** elapsed labels seconds since the start: "0:05", "1:30", "1:02:03". */
export function elapsed(s: number): string {
  const sec = Math.max(0, Math.round(s));
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const r = sec % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(r)}` : `${m}:${pad2(r)}`;
}
