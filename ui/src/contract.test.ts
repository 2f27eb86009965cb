// The contract between the Go API and this UI. The JSON in contract/ is
// exactly what the master serves (written by the Go test TestUIContract in
// internal/web, which fails when the API changes and the files do not).
// Here it is typed as api.ts says — `npm test` and the build run tsc, so
// a renamed or retyped field fails them — and read by the UI's own code.
import { describe, expect, it } from "vitest";
import type { Point, Row, RunComparison, RunDetail, RunList, State, Stats, TestRequest, ThresholdResult } from "./api";
import compareJSON from "./contract/compare.json";
import historyJSON from "./contract/history.json";
import reportJSON from "./contract/report.json";
import runJSON from "./contract/run.json";
import runsJSON from "./contract/runs.json";
import statsJSON from "./contract/stats.json";
import requestJSON from "./contract/test-request.json";
import { History } from "./history";
import { alignHistories, change, direction, figure, statuses, summaryStats } from "./runs";
import { columns, sortRows, value } from "./sort";
import { parseThresholds, thresholdVerdict } from "./thresholds";

const states: readonly State[] = ["ready", "spawning", "running", "stopping", "stopped"];

// Type checks: each assignment fails tsc when Go and api.ts disagree on a
// required field or a field's type. (JSON strings are typed string, so the
// state is checked at run time below.)
const stats: Stats = { ...statsJSON, state: statsJSON.state as State };
const points: Point[] = historyJSON.points;
const thresholds: ThresholdResult[] = reportJSON.thresholds;
const request: TestRequest = requestJSON;
const runList: RunList = runsJSON;
const run: RunDetail = runJSON;
const comparison: RunComparison = compareJSON;

// The optional fields api.ts declares must exist in what Go serves (the
// fixture has every field set); `keyof` keeps these names honest.
const optionalStats: (keyof Stats)[] = [
  "arrival_rate",
  "shape",
  "started",
  "elapsed_s",
  "run_time_s",
  "warnings",
  "dropped_iterations",
];

describe("the API contract", () => {
  it("has every field the UI reads in stats", () => {
    expect(states).toContain(stats.state);
    for (const k of optionalStats) expect(statsJSON).toHaveProperty(k);
    const rows: Row[] = stats.endpoints ?? [];
    expect(rows.length).toBeGreaterThan(0);
    expect(stats.workers?.[0]?.cpu_warning).toBe(true);
    expect(stats.exceptions?.[0]?.traceback).toContain("Traceback");
    expect(stats.errors?.length).toBeGreaterThan(0);
    expect(stats.dropped_iterations).toBeGreaterThan(0);
  });

  it("gives every table column a value", () => {
    for (const r of [stats.total, ...(stats.endpoints ?? [])]) {
      for (const c of columns) {
        const v = value(r, c.key);
        expect(v, `${c.key} of ${r.name}`).toBeDefined();
        if (c.numeric) expect(Number.isFinite(v), `${c.key} of ${r.name}`).toBe(true);
      }
    }
    const byRequests = sortRows(stats.endpoints ?? [], { key: "requests", desc: true });
    expect(byRequests[0].requests).toBeGreaterThanOrEqual(byRequests[byRequests.length - 1].requests);
  });

  it("feeds the charts from the history", () => {
    const h = new History();
    h.replace(points);
    expect(h.length).toBe(points.length);
    expect(h.length).toBeGreaterThan(1);
    expect(h.cols.rps.every((v) => Number.isFinite(v))).toBe(true);
  });

  it("reads the thresholds of the summary", () => {
    const parsed = parseThresholds(reportJSON);
    expect(parsed).toEqual(thresholds);
    expect(thresholdVerdict(parsed)).toBe("1 of 2 failed");
  });

  it("sends a test request the API accepts", () => {
    // The Go side decodes this very file (TestUIContract).
    expect(request.users).toBe(10);
  });

  it("lists stored runs with every field the Runs view shows", () => {
    expect(runList.runs.length).toBe(2);
    expect(runList.total).toBe(2);
    for (const r of runList.runs) {
      expect(statuses).toContain(r.status);
      expect(r.ended).not.toBeNull();
      expect(Object.keys(r.labels).length).toBeGreaterThan(0);
      expect(r.metrics.requests).toBeGreaterThan(0);
      expect(Number.isFinite(Date.parse(r.started))).toBe(true);
    }
  });

  it("opens a stored run into the live table and charts", () => {
    expect(run.summary).not.toBeNull();
    const st = summaryStats(run.summary!);
    expect(st.endpoints?.length).toBe(run.summary!.endpoints.length);
    for (const r of [st.total, ...(st.endpoints ?? [])]) {
      for (const c of columns) {
        const v = value(r, c.key);
        if (c.numeric) expect(Number.isFinite(v), `${c.key} of ${r.name}`).toBe(true);
      }
    }
    expect(st.errors?.length).toBeGreaterThan(0);
    const h = new History();
    h.replace(run.history.points);
    expect(h.length).toBe(5);
  });

  it("compares two runs into table cells and overlaid charts", () => {
    const cmp = comparison.comparison;
    const rows = [cmp.totals, ...cmp.endpoints];
    expect(cmp.endpoints.length).toBeGreaterThan(0);
    expect(cmp.only_other.length).toBeGreaterThan(0);
    for (const f of rows) {
      for (const d of [f.requests, f.failures, f.fail_ratio, f.rps, ...Object.values(f.latency_ms)]) {
        expect(["better", "worse", "same"]).toContain(direction(d));
        expect(d.direction).toBe(direction(d)); // the server's words are the UI's
        expect(change(d, "ms")).not.toBe("");
        expect(figure(d.other, "ms")).not.toBe("–");
      }
    }
    // A count from zero has no ratio: null, not a number.
    expect(cmp.totals.failures.rel).toBeNull();
    const a = alignHistories(
      comparison.base.history.points,
      Date.parse(comparison.base.run.started),
      comparison.other.history.points,
      Date.parse(comparison.other.run.started),
    );
    expect(a.t).toEqual([1, 2, 3, 4, 5]);
    expect(a.base.p95.every((v) => v !== null)).toBe(true);
    expect(a.other.p95.every((v) => v !== null)).toBe(true);
  });
});
