// One stored run, as it was at its end: its facts and verdict, its
// statistics table and charts drawn by the live view's own components
// from the stored summary and history, its failures and script errors.

import { useMemo, useState } from "preact/hooks";
import { deleteRun, type RunDetail, type RunList, type StoredRun } from "../api";
import { count, duration } from "../format";
import { History } from "../history";
import { comparePair, goRuns, labelText, shortID, statusClass, summaryStats, when } from "../runs";
import { useGet } from "../useGet";
import { Charts } from "./Charts";
import { Exceptions, Failures } from "./Panels";
import { StatsTable } from "./StatsTable";
import { ThresholdTable } from "./Thresholds";

/** A finished run's rates are over its whole length, not the last seconds. */
const finalLabels = { current_rps: "RPS", current_fail_per_sec: "Failures/s" };

/** RunView opens the run runRef names (an id, a prefix, latest…). */
export function RunView({ runRef }: { runRef: string }) {
  const got = useGet<RunDetail>(`runs/${encodeURIComponent(runRef)}`);
  const d = got.data;
  const history = useMemo(() => {
    const h = new History();
    h.replace(d?.history.points ?? []);
    return h;
  }, [d]);

  if (!d) {
    return (
      <section class="panel">
        <BackToRuns />
        {got.error ? (
          <p class="form-error" data-testid="run-error">
            {got.error.message}
          </p>
        ) : (
          <p class="muted">Loading run {runRef}…</p>
        )}
      </section>
    );
  }
  const { run, summary } = d;
  const stats = summary ? summaryStats(summary) : null;
  const thresholds = summary?.thresholds ?? run.thresholds;
  return (
    <div class="run-view" data-testid="run-view" data-id={run.id}>
      <section class="panel">
        <BackToRuns />
        <RunHeader run={run} />
        <RunFacts run={run} usersPeak={summary?.users_peak} />
        {[...d.warnings, ...(summary?.warnings ?? [])].length > 0 && (
          <ul class="warnings">
            {[...d.warnings, ...(summary?.warnings ?? [])].map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        )}
        {summary?.aborted && <p class="form-error">The test was aborted: {summary.aborted}</p>}
        {thresholds.length > 0 && (
          <div class="thresholds">
            <h3>Thresholds</h3>
            <ThresholdTable list={thresholds} />
          </div>
        )}
      </section>
      <h3 class="section-title">Statistics</h3>
      {stats ? (
        <StatsTable stats={stats} labels={finalLabels} />
      ) : (
        <section class="panel empty-panel" data-testid="run-no-summary">
          No statistics saved yet: the run is {run.status}.
          {run.status === "running" && " A running test is saved every few seconds: reload to see what it has so far."}
        </section>
      )}
      <h3 class="section-title">Charts</h3>
      <Charts key={run.id} history={history} version={history.version} visible prefix="run-" />
      {stats && (stats.errors?.length ?? 0) > 0 && (
        <>
          <h3 class="section-title">Failures</h3>
          <Failures errors={stats.errors ?? []} />
        </>
      )}
      {stats && (stats.exceptions?.length ?? 0) > 0 && (
        <>
          <h3 class="section-title">Exceptions</h3>
          <Exceptions exceptions={stats.exceptions ?? []} />
        </>
      )}
    </div>
  );
}

export function BackToRuns() {
  return (
    <a href="#runs" class="back" data-testid="runs-back">
      ← All runs
    </a>
  );
}

/** RunHeader names the run, with its verdict and what can be done with it. */
function RunHeader({ run }: { run: StoredRun }) {
  const [notice, setNotice] = useState("");
  const remove = async () => {
    if (!confirm(`Delete run ${shortID(run.id)} (${run.script}, ${when(run.started)}) for good?`)) return;
    try {
      await deleteRun(run.id);
      goRuns({ view: "list" });
    } catch (err) {
      setNotice(`Delete failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return (
    <>
      <div class="run-title">
        <h2>
          Run <span class="mono">{shortID(run.id)}</span>
        </h2>
        <span class={statusClass(run.status)} data-testid="run-status" title={run.reason || undefined}>
          {run.status}
        </span>
        {run.reason && <span class="muted">{run.reason}</span>}
        <span class="spacer" />
        <CompareWith run={run} />
        <button class="danger" data-testid="run-delete" disabled={run.status === "running"} onClick={() => void remove()}>
          Delete
        </button>
      </div>
      {notice && <p class="form-error">{notice}</p>}
    </>
  );
}

/** CompareWith offers the other runs of the same script to compare this one with. */
function CompareWith({ run }: { run: StoredRun }) {
  const q = new URLSearchParams({ script: run.script, limit: "30" });
  const list = useGet<RunList>(`runs?${q}`);
  const others = (list.data?.runs ?? []).filter((r) => r.id !== run.id && r.status !== "running");
  if (others.length === 0) return null;
  const pick = (id: string) => {
    const o = others.find((r) => r.id === id);
    if (!o) return;
    const { base, other } = comparePair(o, run);
    goRuns({ view: "compare", base: base.id, other: other.id });
  };
  return (
    <select class="filter narrow" data-testid="run-compare-with" value="" onChange={(e) => pick(e.currentTarget.value)}>
      <option value="">Compare with…</option>
      {others.map((r) => (
        <option key={r.id} value={r.id}>
          {shortID(r.id)} · {when(r.started)} · {r.status}
        </option>
      ))}
    </select>
  );
}

/** RunFacts lists who and what the run was. */
function RunFacts({ run, usersPeak }: { run: StoredRun; usersPeak?: number }) {
  const facts: [string, string][] = [
    ["Script", run.script],
    ["Host", run.host || "—"],
    ["Started", when(run.started)],
    ["Ended", run.ended ? when(run.ended) : "still running"],
    ["Duration", duration(run.metrics.duration_s)],
    ["Users (peak)", usersPeak !== undefined ? count(usersPeak) : "–"],
    ["Workers", count(run.workers)],
    ["Options", labelText(run.options) || "—"],
    ["Labels", labelText(run.labels) || "—"],
    ["Version", run.version || "—"],
    ["Run id", run.id],
  ];
  return (
    <dl class="run-facts" data-testid="run-facts">
      {facts.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd title={v}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
