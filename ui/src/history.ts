// The chart history, kept column by column because that is what uPlot
// draws from. The server holds the whole test and resends it on every
// (re)connect; the client only appends the live points in between.

import type { Point } from "./api";

/** The most points kept; past it the older half is thinned by two. */
export const maxPoints = 20_000;

/** Columns of the history, each as long as `t`; t is in Unix seconds (uPlot's unit). */
export interface Columns {
  t: number[];
  users: number[];
  rps: number[];
  fail: number[];
  p50: number[];
  p95: number[];
  p99: number[];
}

/** History is the columnar store of Points, with the last point's counters to notice a reset. */
export class History {
  cols: Columns = emptyColumns();
  /** Bumped on every change, so views can tell whether to redraw. */
  version = 0;
  private lastRequests = -1;
  private lastT = -Infinity;

  /** Number of points held. */
  get length(): number {
    return this.cols.t.length;
  }

  /** replace drops what is held and takes the server's full history. */
  replace(points: readonly Point[]): void {
    this.cols = emptyColumns();
    this.lastRequests = -1;
    this.lastT = -Infinity;
    for (const p of points) this.push(p);
    this.version++;
  }

  /** clear drops every point (after a reset of the statistics). */
  clear(): void {
    this.replace([]);
  }

  /**
   * append adds a live point. A point no newer than the last replaces it;
   * cumulative counters going down mean the statistics were reset
   * (by this page or another), so the old history is dropped.
   */
  append(p: Point): void {
    if (this.length > 0 && p.requests < this.lastRequests) {
      this.cols = emptyColumns();
      this.lastT = -Infinity;
    }
    if (p.t <= this.lastT) {
      this.popAtOrAfter(p.t);
    }
    this.push(p);
    if (this.length > maxPoints) this.thin();
    this.version++;
  }

  private push(p: Point): void {
    const c = this.cols;
    c.t.push(p.t / 1000);
    c.users.push(p.users);
    c.rps.push(p.rps);
    c.fail.push(p.fail_per_sec);
    c.p50.push(p.p50);
    c.p95.push(p.p95);
    c.p99.push(p.p99);
    this.lastRequests = p.requests;
    this.lastT = p.t;
  }

  // popAtOrAfter removes the trailing points at or after t (ms), so a
  // repeated or out-of-order point cannot make time run backwards.
  private popAtOrAfter(tMs: number): void {
    const c = this.cols;
    const ts = tMs / 1000;
    while (c.t.length > 0 && c.t[c.t.length - 1] >= ts) {
      for (const col of Object.values(c) as number[][]) col.pop();
    }
  }

  // thin keeps every other point of the older half, so a very long test
  // stays bounded while recent seconds stay exact.
  private thin(): void {
    const c = this.cols;
    const half = Math.floor(c.t.length / 2);
    for (const key of Object.keys(c) as (keyof Columns)[]) {
      const col = c[key];
      const older = col.slice(0, half).filter((_, i) => i % 2 === 0);
      c[key] = older.concat(col.slice(half));
    }
  }
}

function emptyColumns(): Columns {
  return { t: [], users: [], rps: [], fail: [], p50: [], p95: [], p99: [] };
}
