// Sorting and change detection for the statistics table's rows.

import type { Row } from "./api";

/** The sortable columns of the statistics table, in display order. */
export type ColumnKey =
  | "method"
  | "name"
  | "requests"
  | "failures"
  | "p50"
  | "p90"
  | "p95"
  | "p99"
  | "p999"
  | "avg"
  | "min"
  | "max"
  | "bytes_avg"
  | "current_rps"
  | "current_fail_per_sec";

/** A column of the statistics table. */
export interface Column {
  key: ColumnKey;
  label: string;
  /** Numeric columns are right-aligned and sort descending first. */
  numeric: boolean;
  /** Width in pixels; 0 takes what is left (the name). Fixed widths keep layout cheap and steady. */
  width: number;
}

/** The statistics table's columns, as Locust users know them. */
export const columns: readonly Column[] = [
  { key: "method", label: "Type", numeric: false, width: 76 },
  { key: "name", label: "Name", numeric: false, width: 0 },
  { key: "requests", label: "# Requests", numeric: true, width: 88 },
  { key: "failures", label: "# Fails", numeric: true, width: 72 },
  { key: "p50", label: "Median (ms)", numeric: true, width: 68 },
  { key: "p90", label: "90%ile (ms)", numeric: true, width: 68 },
  { key: "p95", label: "95%ile (ms)", numeric: true, width: 68 },
  { key: "p99", label: "99%ile (ms)", numeric: true, width: 68 },
  { key: "p999", label: "99.9%ile (ms)", numeric: true, width: 72 },
  { key: "avg", label: "Average (ms)", numeric: true, width: 72 },
  { key: "min", label: "Min (ms)", numeric: true, width: 64 },
  { key: "max", label: "Max (ms)", numeric: true, width: 68 },
  { key: "bytes_avg", label: "Avg size (B)", numeric: true, width: 68 },
  { key: "current_rps", label: "Current RPS", numeric: true, width: 76 },
  { key: "current_fail_per_sec", label: "Current failures/s", numeric: true, width: 80 },
];

/** value returns a row's value in a column. */
export function value(r: Row, key: ColumnKey): string | number {
  switch (key) {
    case "method":
    case "name":
    case "requests":
    case "failures":
    case "bytes_avg":
    case "current_rps":
    case "current_fail_per_sec":
      return r[key] ?? 0;
    default:
      return r.latency_ms?.[key] ?? 0;
  }
}

/** A sort order: a column and a direction; null column keeps the server's order (name, then method). */
export interface SortOrder {
  key: ColumnKey | null;
  desc: boolean;
}

/**
 * sortRows returns the rows in the given order, ties broken by name then
 * method so the order is stable from one second to the next. It does not
 * change its argument.
 */
export function sortRows(rows: readonly Row[], order: SortOrder): Row[] {
  const out = rows.slice();
  const key = order.key;
  if (key === null) return out;
  const sign = order.desc ? -1 : 1;
  out.sort((a, b) => {
    const c = compare(value(a, key), value(b, key));
    if (c !== 0) return sign * c;
    return compare(a.name, b.name) || compare(a.method, b.method);
  });
  return out;
}

function compare(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** nextOrder is the order after a click on a column header. */
export function nextOrder(cur: SortOrder, col: Column): SortOrder {
  if (cur.key !== col.key) return { key: col.key, desc: col.numeric };
  if (cur.desc === col.numeric) return { key: col.key, desc: !cur.desc };
  return { key: null, desc: false }; // third click: back to the server's order
}

/** rowKey identifies a row across updates. */
export function rowKey(r: Row): string {
  return `${r.method}\u0000${r.name}`;
}

/** sameRow reports whether two versions of a row would display the same, so it need not re-render. */
export function sameRow(a: Row, b: Row): boolean {
  if (a === b) return true;
  if (
    a.method !== b.method ||
    a.name !== b.name ||
    a.requests !== b.requests ||
    a.failures !== b.failures ||
    a.bytes_avg !== b.bytes_avg ||
    a.current_rps !== b.current_rps ||
    a.current_fail_per_sec !== b.current_fail_per_sec
  ) {
    return false;
  }
  const la = a.latency_ms;
  const lb = b.latency_ms;
  if (la === lb) return true;
  if (!la || !lb) return false;
  return (
    la.min === lb.min &&
    la.avg === lb.avg &&
    la.p50 === lb.p50 &&
    la.p90 === lb.p90 &&
    la.p95 === lb.p95 &&
    la.p99 === lb.p99 &&
    la.p999 === lb.p999 &&
    la.max === lb.max
  );
}
