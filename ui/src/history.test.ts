import { describe, expect, it } from "vitest";
import type { Point } from "./api";
import { History, maxPoints } from "./history";

function pt(sec: number, requests: number): Point {
  return { t: sec * 1000, users: 1, rps: sec, fail_per_sec: 0, p50: 1, p95: 2, p99: 3, requests, failures: 0 };
}

describe("History", () => {
  it("takes the full history, then appends live points", () => {
    const h = new History();
    h.replace([pt(1, 10), pt(2, 20)]);
    h.append(pt(3, 30));
    expect(h.length).toBe(3);
    expect(h.cols.t).toEqual([1, 2, 3]);
    expect(h.cols.rps).toEqual([1, 2, 3]);
  });
  it("replaces everything on a reconnect", () => {
    const h = new History();
    h.replace([pt(1, 10), pt(2, 20)]);
    h.replace([pt(1, 10), pt(2, 20), pt(3, 30)]);
    expect(h.cols.t).toEqual([1, 2, 3]);
  });
  it("drops a repeated second instead of going back in time", () => {
    const h = new History();
    h.replace([pt(1, 10), pt(2, 20)]);
    h.append(pt(2, 25));
    expect(h.cols.t).toEqual([1, 2]);
  });
  it("starts over when the counters go down (a reset)", () => {
    const h = new History();
    h.replace([pt(1, 10), pt(2, 20)]);
    h.append(pt(3, 1));
    expect(h.cols.t).toEqual([3]);
  });
  it("bumps the version on every change", () => {
    const h = new History();
    const v = h.version;
    h.append(pt(1, 1));
    h.clear();
    expect(h.version).toBe(v + 2);
    expect(h.length).toBe(0);
  });
  it("stays bounded and in time order", () => {
    const h = new History();
    for (let i = 0; i <= maxPoints; i++) h.append(pt(i, i));
    expect(h.length).toBeLessThanOrEqual(maxPoints);
    expect(h.cols.t[h.length - 1]).toBe(maxPoints);
    for (let i = 1; i < h.length; i++) expect(h.cols.t[i]).toBeGreaterThan(h.cols.t[i - 1]);
    for (const col of Object.values(h.cols)) expect(col.length).toBe(h.length);
  });
});
