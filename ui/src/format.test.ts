import { describe, expect, it } from "vitest";
import { count, duration, mib, ms, percent, perSecond, rate } from "./format";

describe("format", () => {
  it.each([
    [count(1234567), "1,234,567"],
    [count(0), "0"],
    [count(undefined), "–"],
    [ms(0.4321), "0.43"],
    [ms(12.345), "12.3"],
    [ms(1234.5), "1,235"],
    [ms(Number.NaN), "–"],
    [rate(19.84), "19.8"],
    [percent(3, 1200), "0.25%"],
    [percent(0, 1200), "0%"],
    [percent(1, 1_000_000), "<0.01%"],
    [percent(50, 100), "50.0%"],
    [percent(5, 0), "0%"],
    [mib(41234432), "39.3"],
    [duration(5.9), "5s"],
    [duration(65.2), "1m05s"],
    [duration(3723), "1h02m03s"],
    [duration(-1), "–"],
    [perSecond(300), "300/s"],
    [perSecond(2.5), "2.5/s"],
    [perSecond(0.125), "0.13/s"],
    [perSecond(12000), "12,000/s"],
    [perSecond(Number.POSITIVE_INFINITY), "–"],
  ])("%s is %s", (got, want) => {
    expect(got).toBe(want);
  });
});
