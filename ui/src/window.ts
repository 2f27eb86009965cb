// Row windowing for long tables: only the rows in view (plus a margin)
// are in the DOM, so a table of thousands of endpoints costs what a table
// of a few dozen does, every second.

/** Tables up to this many rows are drawn whole (and so are fully searchable in the DOM). */
export const windowMin = 200;
/** Rows drawn beyond each edge of the view, so a scroll shows no gap. */
export const overscan = 20;

/** The part of a scroll container in view, in pixels from the top of its rows. */
export interface View {
  top: number;
  height: number;
}

/** The rows to draw: [start, end). */
export interface Slice {
  start: number;
  end: number;
}

/** visibleSlice returns the rows to draw for n rows of rowHeight pixels each. */
export function visibleSlice(n: number, rowHeight: number, view: View): Slice {
  if (n <= windowMin || rowHeight <= 0) return { start: 0, end: n };
  const first = Math.floor(Math.max(0, view.top) / rowHeight);
  const last = Math.ceil((Math.max(0, view.top) + Math.max(0, view.height)) / rowHeight);
  const start = Math.min(n, Math.max(0, first - overscan));
  const end = Math.min(n, Math.max(start, last + overscan));
  return { start, end };
}
