// The charts: requests and failures per second, latency percentiles and
// users, drawn by uPlot from the server-kept history (so a reload shows
// the whole test) and appended live. Each container carries data-points,
// the number of points it holds, for browser tests.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useEffect, useRef } from "preact/hooks";
import type { Columns, History } from "../history";

interface ChartSpec {
  testid: string;
  title: string;
  unit: string;
  series: uPlot.Series[];
  pick(c: Columns): number[][];
}

const specs: readonly ChartSpec[] = [
  {
    testid: "chart-rps",
    title: "Total requests per second",
    unit: "per second",
    series: [
      { label: "RPS", stroke: "#2e8b57", width: 1.5, value: legendValue(1) },
      { label: "Failures/s", stroke: "#c8322e", width: 1.5, value: legendValue(1) },
    ],
    pick: (c) => [c.rps, c.fail],
  },
  {
    testid: "chart-latency",
    title: "Response times (ms)",
    unit: "ms",
    series: [
      { label: "p50", stroke: "#2f6fbf", width: 1.5, value: legendValue(2) },
      { label: "p95", stroke: "#d98a12", width: 1.5, value: legendValue(2) },
      { label: "p99", stroke: "#8b45b8", width: 1.5, value: legendValue(2) },
    ],
    pick: (c) => [c.p50, c.p95, c.p99],
  },
  {
    testid: "chart-users",
    title: "Number of users",
    unit: "users",
    series: [{ label: "Users", stroke: "#444", width: 1.5, value: legendValue(0) }],
    pick: (c) => [c.users],
  },
];

function fmt(v: number | null, digits: number): string {
  return v === null || v === undefined ? "–" : v.toFixed(digits);
}

/**
 * legendValue shows the value under the cursor, or the newest value when
 * the cursor is elsewhere, so the legend doubles as a live readout.
 */
function legendValue(digits: number) {
  return (u: uPlot, v: number | null, sidx: number, idx: number | null): string => {
    if (idx === null) {
      const col = u.data[sidx];
      v = col && col.length > 0 ? (col[col.length - 1] ?? null) : null;
    }
    return fmt(v, digits);
  };
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** clock formats Unix seconds as local HH:MM:SS. */
function clock(s: number): string {
  const d = new Date(s * 1000);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** timeIncrs are the steps of the time axis: whole seconds and minutes, so no label repeats. */
const timeIncrs = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400];

/** timeLabels labels the time axis: HH:MM:SS, or HH:MM past ten minutes, with the date past a day. */
function timeLabels(u: uPlot, splits: number[]): string[] {
  const span = (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0);
  return splits.map((s) => {
    const d = new Date(s * 1000);
    let label = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
    if (span <= 600) label += `:${pad2(d.getSeconds())}`;
    if (span > 86400) label = `${d.getMonth() + 1}/${d.getDate()} ${label}`;
    return label;
  });
}

interface Props {
  history: History;
  /** history.version, so the charts redraw when it changes. */
  version: number;
  /** Hidden charts keep counting points but do not draw. */
  visible: boolean;
  /**
   * prefix sets the charts apart from the live ones when both are on the
   * page (a stored run's): it starts their test ids and their cursor
   * sync key. "" for the live charts.
   */
  prefix?: string;
}

/** Charts renders the three charts, one under the other. */
export function Charts({ history, version, visible, prefix = "" }: Props) {
  return (
    <section class="panel charts" hidden={!visible}>
      {specs.map((s) => (
        <Chart key={s.testid} spec={s} history={history} version={version} visible={visible} prefix={prefix} />
      ))}
    </section>
  );
}

const chartHeight = 240;

function Chart({ spec, history, version, visible, prefix = "" }: Props & { spec: ChartSpec }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => [history.cols.t, ...spec.pick(history.cols)];

  // Create the chart the first time it is shown (it needs a width), then
  // follow the container's width.
  useEffect(() => {
    const el = box.current;
    if (!visible || !el) return;
    if (!plot.current) {
      plot.current = new uPlot(options(spec, width(el), prefix), data(), el);
    } else {
      plot.current.setSize({ width: width(el), height: chartHeight });
      plot.current.setData(data());
    }
    const ro = new ResizeObserver(() => {
      const w = width(el);
      if (plot.current && w > 0 && w !== plot.current.width) {
        plot.current.setSize({ width: w, height: chartHeight });
      }
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [visible]);

  useEffect(() => {
    if (visible && plot.current) plot.current.setData(data());
  }, [version]);

  useEffect(() => () => plot.current?.destroy(), []);

  return (
    <figure class="chart">
      <figcaption>{spec.title}</figcaption>
      <div ref={box} class="chart-box" data-testid={prefix + spec.testid} data-points={history.length} />
    </figure>
  );
}

function width(el: HTMLElement): number {
  return Math.max(300, Math.floor(el.clientWidth));
}

function options(spec: ChartSpec, w: number, prefix: string): uPlot.Options {
  return {
    width: w,
    height: chartHeight,
    cursor: { sync: { key: "horde" + prefix } },
    scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [{ values: timeLabels, space: 70, incrs: timeIncrs }, { label: spec.unit, size: 60 }],
    series: [{ label: "Time", value: (_u, v) => (v === null ? "latest" : clock(v)) }, ...spec.series],
  };
}
