// Two stored runs side by side: which is which, the per-endpoint table of
// differences coloured by what they mean for the user (red worse, green
// better, grey the same within the tolerance), the endpoints only one run
// has, and the charts with both runs overlaid on the time since each
// run's start.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useEffect, useMemo, useRef } from "preact/hooks";
import type { CompareSide, Delta, EndpointSummary, Figures, RunComparison } from "../api";
import { count, duration, ms } from "../format";
import {
  alignHistories,
  arrow,
  change,
  deltaClass,
  deltaTitle,
  direction,
  elapsed,
  figure,
  goRuns,
  runsHash,
  shortID,
  statusClass,
  when,
  type Aligned,
  type Kind,
  type SeriesKey,
} from "../runs";
import { useGet } from "../useGet";
import { BackToRuns } from "./RunView";

/** The colours of the two runs, in the cards, the table's legend and the charts. */
export const baseColour = "#2f6fbf";
export const otherColour = "#e07b00";

/** RunCompare compares run other with run base (references as the URL has them). */
export function RunCompare({ base, other }: { base: string; other: string }) {
  const q = new URLSearchParams({ base, other });
  const got = useGet<RunComparison>(`runs/compare?${q}`);
  const c = got.data;
  if (!c) {
    return (
      <section class="panel">
        <BackToRuns />
        {got.error ? (
          <p class="form-error" data-testid="compare-error">
            {got.error.message}
          </p>
        ) : (
          <p class="muted">Comparing…</p>
        )}
      </section>
    );
  }
  const cmp = c.comparison;
  const tolerance = `${(cmp.same_within * 100).toFixed(0)} %`;
  const lengths = Math.abs(cmp.duration_s.rel ?? 0) > cmp.same_within;
  return (
    <div class="compare-view" data-testid="compare-view">
      <section class="panel">
        <BackToRuns />
        <div class="run-title">
          <h2>Compare runs</h2>
          <span class="spacer" />
          <button
            data-testid="compare-swap"
            onClick={() => goRuns({ view: "compare", base: c.other.run.id, other: c.base.run.id })}
          >
            Swap base and other
          </button>
        </div>
        <div class="compare-cards">
          <RunCard side={c.base} role="base" colour={baseColour} />
          <RunCard side={c.other} role="other" colour={otherColour} />
        </div>
        {lengths && (
          <p class="notice-inline" data-testid="compare-lengths">
            The runs differ in length ({duration(cmp.duration_s.base)} and {duration(cmp.duration_s.other)}): their
            request and failure counts differ for that alone; compare their rates and latencies.
          </p>
        )}
        {c.warnings.length > 0 && (
          <ul class="warnings">
            {c.warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        )}
      </section>
      <h3 class="section-title">Statistics</h3>
      <p class="muted legend">
        Each cell: the <b style={{ color: otherColour }}>other</b> run's value, and its change from the{" "}
        <b style={{ color: baseColour }}>base</b>; <span class="delta-worse">worse</span>,{" "}
        <span class="delta-better">better</span>, or <span class="delta-same">the same</span> within {tolerance}{" "}
        (the histograms' error is under 1 %). Hover a cell for both values.
      </p>
      <CompareTable c={cmp} />
      <OnlyIn title={`Only in the base run (${shortID(c.base.run.id)})`} rows={cmp.only_base} testid="only-base" />
      <OnlyIn title={`Only in the other run (${shortID(c.other.run.id)})`} rows={cmp.only_other} testid="only-other" />
      <h3 class="section-title">Charts</h3>
      <CompareCharts base={c.base} other={c.other} />
    </div>
  );
}

function RunCard({ side, role, colour }: { side: CompareSide; role: string; colour: string }) {
  const r = side.run;
  return (
    <a class="compare-card" href={runsHash({ view: "run", ref: r.id })} data-testid={`compare-${role}`} data-id={r.id}
       style={{ borderLeftColor: colour }}>
      <div class="card-role" style={{ color: colour }}>
        {role}
      </div>
      <div>
        <span class="mono">{shortID(r.id)}</span> <span class={statusClass(r.status)}>{r.status}</span>
      </div>
      <div class="name">{r.script}</div>
      <div class="muted">
        {when(r.started)} · {duration(r.metrics.duration_s)} · {count(r.metrics.requests)} requests
      </div>
    </a>
  );
}

/** The compared figures, as table columns. */
const cols: readonly { key: string; label: string; kind: Kind; unit: string; pick(f: Figures): Delta }[] = [
  { key: "requests", label: "# Requests", kind: "count", unit: "", pick: (f) => f.requests },
  { key: "fail_ratio", label: "Fail %", kind: "ratio", unit: "", pick: (f) => f.fail_ratio },
  { key: "rps", label: "RPS", kind: "rate", unit: "/s", pick: (f) => f.rps },
  { key: "p50", label: "Median (ms)", kind: "ms", unit: "ms", pick: (f) => f.latency_ms.p50 },
  { key: "p90", label: "90%ile (ms)", kind: "ms", unit: "ms", pick: (f) => f.latency_ms.p90 },
  { key: "p95", label: "95%ile (ms)", kind: "ms", unit: "ms", pick: (f) => f.latency_ms.p95 },
  { key: "p99", label: "99%ile (ms)", kind: "ms", unit: "ms", pick: (f) => f.latency_ms.p99 },
  { key: "p999", label: "99.9%ile (ms)", kind: "ms", unit: "ms", pick: (f) => f.latency_ms.p999 },
  { key: "avg", label: "Average (ms)", kind: "ms", unit: "ms", pick: (f) => f.latency_ms.avg },
  { key: "max", label: "Max (ms)", kind: "ms", unit: "ms", pick: (f) => f.latency_ms.max },
];

function CompareTable({ c }: { c: RunComparison["comparison"] }) {
  return (
    <section class="panel table-wrap">
      <table class="compare" data-testid="compare-table">
        <thead>
          <tr>
            <th>Type</th>
            <th>Name</th>
            {cols.map((k) => (
              <th key={k.key} class="num">
                {k.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {c.endpoints.map((e) => (
            <CompareRow key={`${e.method}\u0000${e.name}`} method={e.method} name={e.name} f={e} />
          ))}
          {c.endpoints.length === 0 && (
            <tr>
              <td class="empty" colSpan={cols.length + 2}>
                The runs have no endpoint in common.
              </td>
            </tr>
          )}
        </tbody>
        <tfoot>
          <CompareRow method="" name="Aggregated" f={c.totals} total />
        </tfoot>
      </table>
    </section>
  );
}

function CompareRow({ method, name, f, total }: { method: string; name: string; f: Figures; total?: boolean }) {
  return (
    <tr class={total ? "total" : undefined} data-testid="compare-row" data-method={method} data-name={name}>
      <td>{method}</td>
      <td class="name" title={name}>
        {name}
      </td>
      {cols.map((k) => {
        const d = k.pick(f);
        return (
          <td
            key={k.key}
            class={`num ${deltaClass(d)}`}
            title={deltaTitle(d, k.kind, k.unit)}
            data-testid={`cmp-${k.key}`}
            data-direction={direction(d)}
            data-diff={d.diff}
          >
            <div class="val">{figure(d.other, k.kind)}</div>
            <div class="chg">
              {arrow(d)} {change(d, k.kind)}
            </div>
          </td>
        );
      })}
    </tr>
  );
}

function OnlyIn({ title, rows, testid }: { title: string; rows: EndpointSummary[]; testid: string }) {
  if (rows.length === 0) return null;
  return (
    <section class="panel only-in" data-testid={testid}>
      <h4>{title}</h4>
      <ul>
        {rows.map((e) => (
          <li key={`${e.method}\u0000${e.name}`}>
            <span class="mono">{e.method}</span> {e.name} — {count(e.requests)} requests, p95 {ms(e.latency_ms.p95)} ms
          </li>
        ))}
      </ul>
    </section>
  );
}

// ---- overlaid charts ----

interface CompareChartSpec {
  testid: string;
  title: string;
  unit: string;
  key: SeriesKey;
  digits: number;
}

const chartSpecs: readonly CompareChartSpec[] = [
  { testid: "cmp-chart-rps", title: "Requests per second", unit: "per second", key: "rps", digits: 1 },
  { testid: "cmp-chart-p95", title: "95th percentile response time (ms)", unit: "ms", key: "p95", digits: 2 },
  { testid: "cmp-chart-p50", title: "Median response time (ms)", unit: "ms", key: "p50", digits: 2 },
  { testid: "cmp-chart-p99", title: "99th percentile response time (ms)", unit: "ms", key: "p99", digits: 2 },
  { testid: "cmp-chart-fail", title: "Failures per second", unit: "per second", key: "fail_per_sec", digits: 1 },
  { testid: "cmp-chart-users", title: "Number of users", unit: "users", key: "users", digits: 0 },
];

function CompareCharts({ base, other }: { base: CompareSide; other: CompareSide }) {
  const aligned = useMemo(
    () =>
      alignHistories(
        base.history.points,
        Date.parse(base.run.started),
        other.history.points,
        Date.parse(other.run.started),
      ),
    [base, other],
  );
  const labels = [`base ${shortID(base.run.id)}`, `other ${shortID(other.run.id)}`];
  return (
    <section class="panel charts compare-charts">
      {chartSpecs.map((s) => (
        <CompareChart key={s.testid} spec={s} aligned={aligned} labels={labels} />
      ))}
    </section>
  );
}

const chartHeight = 220;

function CompareChart({ spec, aligned, labels }: { spec: CompareChartSpec; aligned: Aligned; labels: string[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // Off the chart, the legend shows each run's last value, as the live charts do.
    const value = (u: uPlot, v: number | null, sidx: number, idx: number | null) => {
      if (idx === null) v = lastValue(u.data[sidx] as (number | null)[]);
      return v === null || v === undefined ? "–" : v.toFixed(spec.digits);
    };
    const plot = new uPlot(
      {
        width: Math.max(300, Math.floor(el.clientWidth)),
        height: chartHeight,
        cursor: { sync: { key: "horde-compare" } },
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          { values: (_u, splits) => splits.map(elapsed), space: 60, label: "time since start" },
          { label: spec.unit, size: 60 },
        ],
        series: [
          { label: "Elapsed", value: (_u, v) => (v === null ? "at the end" : elapsed(v)) },
          { label: labels[0], stroke: baseColour, width: 1.5, dash: [6, 3], spanGaps: true, value },
          { label: labels[1], stroke: otherColour, width: 2, spanGaps: true, value },
        ],
      },
      [aligned.t, aligned.base[spec.key], aligned.other[spec.key]] as uPlot.AlignedData,
      el,
    );
    const ro = new ResizeObserver(() => {
      const w = Math.max(300, Math.floor(el.clientWidth));
      if (w !== plot.width) plot.setSize({ width: w, height: chartHeight });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [aligned]);
  return (
    <figure class="chart">
      <figcaption>{spec.title}</figcaption>
      <div ref={box} class="chart-box" data-testid={spec.testid} data-points={aligned.t.length} data-series={2} />
    </figure>
  );
}

/** lastValue is a series' last value that is not a gap. */
function lastValue(col: readonly (number | null)[]): number | null {
  for (let i = col.length - 1; i >= 0; i--) if (col[i] !== null && col[i] !== undefined) return col[i];
  return null;
}
