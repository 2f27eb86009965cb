import { describe, expect, it } from "vitest";
import { parseThresholds, thresholdValue, thresholdVerdict } from "./thresholds";

describe("parseThresholds", () => {
  it("reads every threshold of a summary", () => {
    const body = {
      version: 1,
      thresholds: [
        { expr: "p95<300ms", value: 212.5, passed: true },
        { expr: "fail_ratio<0.01", value: 0.2, passed: false, note: "" },
        { expr: "p99{GET /x}<1s", value: 0, passed: false, note: "no requests to GET /x" },
      ],
    };
    expect(parseThresholds(body)).toEqual([
      { expr: "p95<300ms", value: 212.5, passed: true },
      { expr: "fail_ratio<0.01", value: 0.2, passed: false },
      { expr: "p99{GET /x}<1s", value: 0, passed: false, note: "no requests to GET /x" },
    ]);
  });
  it.each([
    ["null list", { thresholds: null }],
    ["absent list", { version: 1 }],
    ["empty list", { thresholds: [] }],
    ["not an object", "oops"],
    ["null body", null],
    ["an array", [{ expr: "p95<1", passed: true }]],
  ])("is empty for %s", (_, body) => {
    expect(parseThresholds(body)).toEqual([]);
  });
  it("skips malformed entries and keeps a missing value as NaN", () => {
    const got = parseThresholds({
      thresholds: [null, { expr: 3, passed: true }, { expr: "rps>1", passed: "yes" }, { expr: "rps>1", passed: true }],
    });
    expect(got).toHaveLength(1);
    expect(got[0].expr).toBe("rps>1");
    expect(got[0].value).toBeNaN();
  });
});

describe("thresholdValue", () => {
  it.each([
    [212.5, "212.5"],
    [0.0123456, "0.012"],
    [300, "300"],
    [0, "0"],
    [-0.0001, "0"],
    [Number.NaN, "–"],
  ])("%f is %j", (v, want) => {
    expect(thresholdValue(v)).toBe(want);
  });
});

describe("thresholdVerdict", () => {
  const pass = { expr: "a", value: 1, passed: true };
  const fail = { expr: "b", value: 2, passed: false };
  it.each([
    [[pass], "passed"],
    [[fail], "failed"],
    [[pass, pass, pass], "all 3 passed"],
    [[pass, fail, fail], "2 of 3 failed"],
  ])("%j is %j", (list, want) => {
    expect(thresholdVerdict(list)).toBe(want);
  });
});
