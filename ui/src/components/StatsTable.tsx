// The statistics table: one row per endpoint, sortable by any column,
// the Aggregated row pinned last. It stays smooth with thousands of
// endpoints: columns have fixed widths (cheap, steady layout), rows are
// keyed and skip rendering when the numbers they show did not change, and
// past windowMin rows only those in view are drawn.

import { Component } from "preact";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Row, Stats } from "../api";
import { count, ms, rate } from "../format";
import { columns, nextOrder, rowKey, sameRow, sortRows, type ColumnKey, type SortOrder } from "../sort";
import { visibleSlice, type View } from "../window";

/** The table's least width: the fixed columns plus room for names. */
const minTableWidth = columns.reduce((sum, c) => sum + c.width, 0) + 180;

interface Props {
  stats: Stats;
  /**
   * labels renames columns: a stored run's table says "RPS" where the
   * live one says "Current RPS", since a finished run's rates are over
   * its whole length.
   */
  labels?: Partial<Record<ColumnKey, string>>;
}

/** StatsTable renders stats.endpoints and stats.total. */
export function StatsTable({ stats, labels }: Props) {
  const [order, setOrder] = useState<SortOrder>({ key: null, desc: false });
  const [filter, setFilter] = useState("");
  const endpoints = stats.endpoints ?? [];
  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const kept = needle === "" ? endpoints : endpoints.filter((r) => r.name.toLowerCase().includes(needle));
    return sortRows(kept, order);
  }, [endpoints, order, filter]);
  const { wrap, body, view, rowHeight } = useScrollView(rows.length);
  const { start, end } = visibleSlice(rows.length, rowHeight, view);
  const windowed = end - start < rows.length;

  return (
    <section class="panel">
      <div class="table-tools">
        <input
          type="search"
          class="filter"
          placeholder="Filter by name"
          data-testid="stats-filter"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
        <span class="muted" data-testid="stats-count">
          {rows.length === endpoints.length
            ? `${count(endpoints.length)} endpoints`
            : `${count(rows.length)} of ${count(endpoints.length)} endpoints`}
        </span>
      </div>
      <div class="table-wrap" ref={wrap}>
        <table
          class="stats"
          style={{ minWidth: `${minTableWidth}px` }}
          data-testid="stats-table"
          data-rows={rows.length}
          data-windowed={windowed ? "true" : "false"}
        >
          <colgroup>
            {columns.map((c) => (
              <col key={c.key} style={c.width ? { width: `${c.width}px` } : undefined} />
            ))}
          </colgroup>
          <thead>
            <HeaderRow order={order} setOrder={setOrder} labels={labels} />
          </thead>
          <tbody ref={body}>
            {start > 0 && <Spacer height={start * rowHeight} />}
            {rows.slice(start, end).map((r) => (
              <StatRow key={rowKey(r)} row={r} />
            ))}
            {end < rows.length && <Spacer height={(rows.length - end) * rowHeight} />}
            {endpoints.length === 0 && (
              <tr>
                <td class="empty" colSpan={columns.length}>
                  No requests yet.
                </td>
              </tr>
            )}
          </tbody>
          <tfoot>
            {stats.total && <StatRow row={stats.total} total />}
          </tfoot>
        </table>
      </div>
    </section>
  );
}

interface HeaderProps {
  order: SortOrder;
  setOrder(o: SortOrder): void;
  labels?: Partial<Record<ColumnKey, string>>;
}

/** HeaderRow is the row of column headers; a click sorts by the column. */
function HeaderRow({ order, setOrder, labels }: HeaderProps) {
  return (
    <tr>
      {columns.map((c) => {
        const active = order.key === c.key;
        return (
          <th
            key={c.key}
            class={c.numeric ? "num sortable" : "sortable"}
            data-testid={`sort-${c.key}`}
            aria-sort={active ? (order.desc ? "descending" : "ascending") : "none"}
            onClick={() => setOrder(nextOrder(order, c))}
          >
            {labels?.[c.key] ?? c.label}
            <span class="arrow">{active ? (order.desc ? " ▼" : " ▲") : ""}</span>
          </th>
        );
      })}
    </tr>
  );
}

/**
 * useScrollView follows the scroll position of the table's container
 * (once per frame at most) and measures the height of a row.
 */
function useScrollView(rowCount: number) {
  const wrap = useRef<HTMLDivElement>(null);
  const body = useRef<HTMLTableSectionElement>(null);
  const [view, setView] = useState<View>({ top: 0, height: 1000 });
  const [rowHeight, setRowHeight] = useState(28);
  const schedule = useRef<() => void>(() => {});

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    let frame = 0;
    const read = () => {
      frame = 0;
      const headHeight = el.querySelector("thead")?.offsetHeight ?? 0;
      const top = Math.max(0, el.scrollTop - headHeight);
      const height = el.clientHeight;
      setView((v) => (v.top === top && v.height === height ? v : { top, height }));
    };
    schedule.current = () => {
      if (frame === 0) frame = requestAnimationFrame(read);
    };
    const onScroll = () => schedule.current();
    el.addEventListener("scroll", onScroll, { passive: true });
    const ro = new ResizeObserver(onScroll);
    ro.observe(el);
    read();
    return () => {
      el.removeEventListener("scroll", onScroll);
      ro.disconnect();
      if (frame !== 0) cancelAnimationFrame(frame);
    };
  }, []);

  // A shorter list (a filter) may have moved the scroll position.
  useEffect(() => schedule.current(), [rowCount]);

  useLayoutEffect(() => {
    const row = body.current?.querySelector<HTMLElement>("tr[data-testid=stat-row]");
    const h = row?.getBoundingClientRect().height ?? 0;
    if (h > 0 && Math.abs(h - rowHeight) > 0.5) setRowHeight(h);
  });

  return { wrap, body, view, rowHeight };
}

function Spacer({ height }: { height: number }) {
  return (
    <tr class="spacer" aria-hidden="true">
      <td colSpan={columns.length} style={{ height: `${height}px` }} />
    </tr>
  );
}

interface RowProps {
  row: Row;
  total?: boolean;
}

/** StatRow re-renders only when a number it shows changed. */
class StatRow extends Component<RowProps> {
  shouldComponentUpdate(next: RowProps): boolean {
    return next.total !== this.props.total || !sameRow(this.props.row, next.row);
  }

  render({ row, total }: RowProps) {
    const l = row.latency_ms;
    return (
      <tr
        class={total ? "total" : row.failures > 0 ? "has-failures" : undefined}
        data-testid="stat-row"
        data-name={row.name}
        data-method={row.method}
      >
        <td>{row.method}</td>
        <td class="name" title={row.name}>
          {row.name}
        </td>
        <td class="num">{count(row.requests)}</td>
        <td class={row.failures > 0 ? "num bad" : "num"}>{count(row.failures)}</td>
        <td class="num">{ms(l?.p50)}</td>
        <td class="num">{ms(l?.p90)}</td>
        <td class="num">{ms(l?.p95)}</td>
        <td class="num">{ms(l?.p99)}</td>
        <td class="num">{ms(l?.p999)}</td>
        <td class="num">{ms(l?.avg)}</td>
        <td class="num">{ms(l?.min)}</td>
        <td class="num">{ms(l?.max)}</td>
        <td class="num">{count(row.bytes_avg)}</td>
        <td class="num">{rate(row.current_rps)}</td>
        <td class="num">{rate(row.current_fail_per_sec)}</td>
      </tr>
    );
  }
}
