import { describe, expect, it } from "vitest";
import { overscan, visibleSlice, windowMin } from "./window";

describe("visibleSlice", () => {
  it("draws short tables whole", () => {
    expect(visibleSlice(windowMin, 28, { top: 5000, height: 600 })).toEqual({ start: 0, end: windowMin });
  });
  it("draws the rows in view plus the overscan", () => {
    // 600 px at 30 px a row: rows 100..120 are in view at top=3000.
    expect(visibleSlice(1000, 30, { top: 3000, height: 600 })).toEqual({ start: 100 - overscan, end: 120 + overscan });
  });
  it("clamps at both ends", () => {
    expect(visibleSlice(1000, 30, { top: 0, height: 600 })).toEqual({ start: 0, end: 20 + overscan });
    expect(visibleSlice(1000, 30, { top: 1e9, height: 600 })).toEqual({ start: 1000, end: 1000 });
  });
});
