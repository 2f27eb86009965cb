// Reading the thresholds out of the summary (GET /api/v1/report.json) and
// the words the Download tab shows for them. The server evaluates them
// on each request: while the test runs they are the verdict so far.

import type { ThresholdResult } from "./api";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * parseThresholds returns the thresholds of a summary body: [] when it
 * has none (null, absent) and without entries that lack an expression
 * or a verdict, so a malformed answer shows less rather than nonsense.
 */
export function parseThresholds(body: unknown): ThresholdResult[] {
  if (!isRecord(body) || !Array.isArray(body.thresholds)) return [];
  const out: ThresholdResult[] = [];
  for (const t of body.thresholds as unknown[]) {
    if (!isRecord(t) || typeof t.expr !== "string" || typeof t.passed !== "boolean") continue;
    const r: ThresholdResult = {
      expr: t.expr,
      value: typeof t.value === "number" ? t.value : Number.NaN,
      passed: t.passed,
    };
    if (typeof t.note === "string" && t.note !== "") r.note = t.note;
    out.push(r);
  }
  return out;
}

/** thresholdValue formats a measured value like the HTML report: at most 3 decimals, no trailing zeros. */
export function thresholdValue(v: number): string {
  if (!Number.isFinite(v)) return "–";
  const s = v.toFixed(3).replace(/\.?0+$/, "");
  return s === "-0" ? "0" : s;
}

/** thresholdVerdict sums the list up: "all 3 passed", "1 of 3 failed". */
export function thresholdVerdict(list: readonly ThresholdResult[]): string {
  const failed = list.filter((t) => !t.passed).length;
  if (failed === 0) return list.length === 1 ? "passed" : `all ${list.length} passed`;
  if (list.length === 1) return "failed";
  return `${failed} of ${list.length} failed`;
}
