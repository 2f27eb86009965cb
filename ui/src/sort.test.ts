import { describe, expect, it } from "vitest";
import type { Row } from "./api";
import { columns, nextOrder, sameRow, sortRows } from "./sort";

function row(method: string, name: string, requests: number, p95: number): Row {
  return {
    method,
    name,
    requests,
    failures: 0,
    rps: 0,
    current_rps: 0,
    current_fail_per_sec: 0,
    bytes_avg: 0,
    latency_ms: { min: 0, avg: 0, p50: 0, p90: 0, p95, p99: 0, p999: 0, max: 0 },
  };
}

const rows = [row("GET", "/a", 10, 5), row("POST", "/a", 30, 1), row("GET", "/b", 20, 9)];
const col = (key: string) => columns.find((c) => c.key === key)!;

describe("sortRows", () => {
  it("keeps the server's order without a column", () => {
    expect(sortRows(rows, { key: null, desc: false })).toEqual(rows);
  });
  it("sorts numbers, latency columns included", () => {
    const names = (rs: Row[]) => rs.map((r) => `${r.method} ${r.name}`);
    expect(names(sortRows(rows, { key: "requests", desc: true }))).toEqual(["POST /a", "GET /b", "GET /a"]);
    expect(names(sortRows(rows, { key: "p95", desc: false }))).toEqual(["POST /a", "GET /a", "GET /b"]);
  });
  it("breaks ties by name then method, so the order is stable", () => {
    const tied = [row("POST", "/x", 1, 0), row("GET", "/x", 1, 0), row("GET", "/w", 1, 0)];
    expect(sortRows(tied, { key: "requests", desc: true }).map((r) => r.method + r.name)).toEqual([
      "GET/w",
      "GET/x",
      "POST/x",
    ]);
  });
  it("does not change its argument", () => {
    const copy = rows.slice();
    sortRows(rows, { key: "name", desc: true });
    expect(rows).toEqual(copy);
  });
});

describe("nextOrder", () => {
  it("cycles numeric columns descending, ascending, off", () => {
    let o = nextOrder({ key: null, desc: false }, col("requests"));
    expect(o).toEqual({ key: "requests", desc: true });
    o = nextOrder(o, col("requests"));
    expect(o).toEqual({ key: "requests", desc: false });
    expect(nextOrder(o, col("requests"))).toEqual({ key: null, desc: false });
  });
  it("starts text columns ascending", () => {
    expect(nextOrder({ key: "requests", desc: true }, col("name"))).toEqual({ key: "name", desc: false });
  });
});

describe("sameRow", () => {
  it("sees equal numbers in new objects as the same", () => {
    expect(sameRow(row("GET", "/a", 1, 2), row("GET", "/a", 1, 2))).toBe(true);
  });
  it("sees a changed count or percentile", () => {
    expect(sameRow(row("GET", "/a", 1, 2), row("GET", "/a", 2, 2))).toBe(false);
    expect(sameRow(row("GET", "/a", 1, 2), row("GET", "/a", 1, 3))).toBe(false);
  });
});
