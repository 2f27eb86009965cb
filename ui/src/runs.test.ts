import { describe, expect, it } from "vitest";
import type { Delta, Point, StoredRun, Summary } from "./api";
import {
  alignHistories,
  arrow,
  change,
  comparePair,
  deltaClass,
  deltaTitle,
  direction,
  elapsed,
  figure,
  labelText,
  nextRunOrder,
  parseLabels,
  parseRunsRoute,
  runsHash,
  runsQuery,
  statusClass,
  summaryStats,
  when,
  type RunsRoute,
} from "./runs";

const delta = (base: number, other: number, rel: number | null, dir: string): Delta => ({
  base,
  other,
  diff: other - base,
  rel,
  direction: dir,
});

describe("the differences of a comparison", () => {
  it("reads as the issue writes them: p95 +18 %, RPS −7 %", () => {
    expect(change(delta(100, 118, 0.18, "worse"), "ms")).toBe("+18%");
    expect(change(delta(200, 186, -0.07, "worse"), "rate")).toBe("\u22127.0%");
    expect(change(delta(52.6, 53.1, 0.0095, "same"), "ms")).toBe("+0.9%");
  });

  it("keeps a sign and no ratio where the base was 0", () => {
    expect(change(delta(0, 3, null, "worse"), "count")).toBe("+3");
    expect(change(delta(0, 1234, null, "better"), "count")).toBe("+1,234");
    expect(change(delta(5, 5, 0, "same"), "count")).toBe("±0");
  });

  it("gives a failure ratio's change in percentage points", () => {
    const d = delta(0.01, 0.022, 1.2, "worse");
    expect(change(d, "ratio")).toBe("+1.20 pp");
    expect(figure(d.other, "ratio")).toBe("2.20%");
    expect(figure(0, "ratio")).toBe("0%");
    expect(figure(0.00001, "ratio")).toBe("<0.01%");
    expect(figure(0.5, "ratio")).toBe("50.0%");
  });

  it("colours by what the change means, not by its sign", () => {
    // Latency down and RPS up are both better: green.
    expect(deltaClass(delta(60, 50, -0.1667, "better"))).toBe("delta delta-better");
    expect(deltaClass(delta(100, 110, 0.1, "better"))).toBe("delta delta-better");
    expect(deltaClass(delta(100, 90, -0.1, "worse"))).toBe("delta delta-worse");
    expect(deltaClass(delta(100, 101, 0.01, "same"))).toBe("delta delta-same");
    // A direction this UI does not know is not dressed up as good or bad.
    expect(direction(delta(1, 2, 1, "sideways"))).toBe("same");
    expect(arrow(delta(100, 90, -0.1, "worse"))).toBe("▼");
    expect(arrow(delta(90, 100, 0.11, "worse"))).toBe("▲");
    expect(arrow(delta(90, 90, 0, "same"))).toBe("");
  });

  it("spells both values out in the tooltip", () => {
    expect(deltaTitle(delta(52.6, 62.1, 0.1806, "worse"), "ms", "ms")).toBe(
      "base 52.6 ms → other 62.1 ms: +18%, worse",
    );
    expect(deltaTitle(delta(200, 186, -0.07, "worse"), "rate", "/s")).toBe(
      "base 200.0 /s → other 186.0 /s: \u22127.0%, worse",
    );
  });
});

describe("the run list", () => {
  it("parses the label filter", () => {
    expect(parseLabels("env=prod, build=42")).toEqual({ labels: ["env=prod", "build=42"], error: "" });
    expect(parseLabels("  env=prod   build= ")).toEqual({ labels: ["env=prod", "build="], error: "" });
    expect(parseLabels("")).toEqual({ labels: [], error: "" });
    expect(parseLabels("env").error).toBe('label "env": want key=value');
    expect(parseLabels("=x").error).toBe('label "=x": want key=value');
  });

  it("builds the API's query", () => {
    const none = { script: "", labels: "", status: "" as const };
    expect(runsQuery(none, { key: "started", asc: false }, 100)).toBe("limit=100");
    expect(
      runsQuery({ script: " checkout.star ", labels: "env=prod, build=42", status: "failed" }, { key: "p95", asc: true }, 50),
    ).toBe("script=checkout.star&label=env%3Dprod&label=build%3D42&status=failed&sort=p95&asc=true&limit=50");
  });

  it("sorts by a column, descending first, then reversed", () => {
    let o = nextRunOrder({ key: "started", asc: false }, "p95");
    expect(o).toEqual({ key: "p95", asc: false });
    o = nextRunOrder(o, "p95");
    expect(o).toEqual({ key: "p95", asc: true });
    expect(nextRunOrder(o, "p95")).toEqual({ key: "p95", asc: false });
  });

  it("compares the older run as the base", () => {
    const run = (id: string, started: string) => ({ id, started }) as StoredRun;
    const a = run("aaaa", "2026-11-26T23:00:00.000Z");
    const b = run("bbbb", "2026-11-27T00:00:00.000Z");
    expect(comparePair(b, a)).toEqual({ base: a, other: b });
    expect(comparePair(a, b)).toEqual({ base: a, other: b });
  });

  it("shows labels in key order, statuses in their colours, times in local time", () => {
    expect(labelText({ env: "prod", build: "42" })).toBe("build=42 env=prod");
    expect(labelText({})).toBe("");
    expect(statusClass("failed")).toBe("run-status run-failed");
    expect(statusClass("weird")).toBe("run-status");
    const d = new Date(2026, 10, 26, 23, 4, 5); // local
    expect(when(d.toISOString())).toBe("2026-11-26 23:04:05");
    expect(when(null)).toBe("–");
    expect(when("not a time")).toBe("–");
  });
});

describe("the Runs view's routes", () => {
  it("reads and writes the fragment", () => {
    const routes: RunsRoute[] = [
      { view: "list" },
      { view: "run", ref: "a1b2c3d4e5f60718" },
      { view: "run", ref: "latest-passed" },
      { view: "compare", base: "a1b2c3d4", other: "latest" },
    ];
    for (const r of routes) expect(parseRunsRoute(runsHash(r))).toEqual(r);
    expect(runsHash({ view: "compare", base: "a1", other: "b2" })).toBe("#runs/compare/a1/b2");
  });

  it("takes anything else for the list", () => {
    for (const h of ["", "#statistics", "#runs", "#runs/", "#runs/compare", "#runs/compare/a1", "#runs/a/b/c/d"]) {
      expect(parseRunsRoute(h), h).toEqual({ view: "list" });
    }
  });
});

describe("a stored run in the live table", () => {
  const summary: Summary = {
    version: 1,
    started: "2026-11-26T23:00:00Z",
    duration_s: 10,
    users_peak: 20,
    host: "http://127.0.0.1:8080",
    totals: { requests: 300, failures: 20, rps: 30, latency_ms: lat(12) },
    endpoints: [
      { method: "GET", name: "/", requests: 200, failures: 0, rps: 20, bytes_avg: 100, latency_ms: lat(10) },
      { method: "POST", name: "/login", requests: 100, failures: 20, rps: 10, bytes_avg: 400, latency_ms: lat(16) },
    ],
    errors: [{ method: "POST", name: "/login", error: "HTTP 500", count: 20 }],
    exceptions: [],
    workers: [],
    thresholds: [],
    dropped_iterations: 0,
    warnings: [],
    shape: "",
    aborted: "",
  };

  it("has the summary's rows, the whole run's rates where the live table has current ones", () => {
    const s = summaryStats(summary);
    expect(s.state).toBe("stopped");
    expect(s.endpoints?.map((r) => `${r.method} ${r.name}`)).toEqual(["GET /", "POST /login"]);
    const login = s.endpoints![1];
    expect(login.current_rps).toBe(10);
    expect(login.current_fail_per_sec).toBe(2);
    expect(login.latency_ms.p95).toBe(16 * 1.5);
    expect(s.total.name).toBe("Aggregated");
    expect(s.total.method).toBe("");
    expect(s.total.current_fail_per_sec).toBe(2);
    expect(s.total.bytes_avg).toBe(200); // weighted by requests: (200×100 + 100×400) / 300
    expect(s.errors).toEqual(summary.errors);
  });
});

function lat(p50: number) {
  return { min: p50 / 2, avg: p50, p50, p90: p50 * 1.4, p95: p50 * 1.5, p99: p50 * 2, p999: p50 * 3, max: p50 * 4 };
}

describe("two histories on one axis", () => {
  const pt = (t: number, rps: number): Point => ({
    t,
    users: 10,
    rps,
    fail_per_sec: 0,
    p50: rps / 10,
    p95: rps / 5,
    p99: rps / 2,
    requests: 0,
    failures: 0,
  });

  it("overlays runs that started at different times by the seconds since their starts", () => {
    const base = [pt(1_000_000 + 1000, 10), pt(1_000_000 + 2000, 20), pt(1_000_000 + 3000, 30)];
    // An hour later, 40 ms past the whole second, one second shorter.
    const other = [pt(4_600_000 + 1040, 11), pt(4_600_000 + 2040, 21)];
    const a = alignHistories(base, 1_000_000, other, 4_600_000);
    expect(a.t).toEqual([1, 2, 3]);
    expect(a.base.rps).toEqual([10, 20, 30]);
    expect(a.other.rps).toEqual([11, 21, null]);
    expect(a.other.p95).toEqual([2.2, 4.2, null]);
  });

  it("leaves gaps where one run has a point the other has not, and counts from the first point without a start", () => {
    const base = [pt(10_000, 1), pt(12_000, 3)];
    const other = [pt(50_000, 5), pt(51_000, 6), pt(52_000, 7)];
    const a = alignHistories(base, Number.NaN, other, Number.NaN);
    expect(a.t).toEqual([0, 1, 2]);
    expect(a.base.rps).toEqual([1, null, 3]);
    expect(a.other.rps).toEqual([5, 6, 7]);
    expect(alignHistories([], 0, [], 0).t).toEqual([]);
  });

  it("labels the time since the start", () => {
    expect(elapsed(0)).toBe("0:00");
    expect(elapsed(65)).toBe("1:05");
    expect(elapsed(3723)).toBe("1:02:03");
  });
});
