// The contract between the Go API and this UI. The JSON in contract/ is
// exactly what the master serves (written by the Go test TestUIContract in
// internal/web, which fails when the API changes and the files do not).
// Here it is typed as api.ts says — `npm test` and the build run tsc, so
// a renamed or retyped field fails them — and read by the UI's own code.
import { describe, expect, it } from "vitest";
import type { Point, Row, State, Stats, TestRequest, ThresholdResult } from "./api";
import historyJSON from "./contract/history.json";
import reportJSON from "./contract/report.json";
import statsJSON from "./contract/stats.json";
import requestJSON from "./contract/test-request.json";
import { History } from "./history";
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
});
