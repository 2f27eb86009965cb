// The thresholds of the test with their verdicts, read from the summary
// (GET /api/v1/report.json) when the Download tab opens, whenever the
// test's state changes (so a stop shows the final verdict) and on Refresh.
// Nothing is shown when the test has no thresholds (or none could be read).

import { useEffect, useState } from "preact/hooks";
import { getJSON, type State, type ThresholdResult } from "../api";
import { parseThresholds, thresholdValue, thresholdVerdict } from "../thresholds";

interface Loaded {
  list: ThresholdResult[];
  error: string;
}

/** useThresholds fetches the thresholds again each time state or the refresh count changes. */
function useThresholds(state: State, refreshes: number): Loaded {
  const [loaded, setLoaded] = useState<Loaded>({ list: [], error: "" });
  useEffect(() => {
    const ctl = new AbortController();
    getJSON("report.json", ctl.signal).then(
      (body) => setLoaded({ list: parseThresholds(body), error: "" }),
      (err: unknown) => {
        if (!ctl.signal.aborted) {
          setLoaded((old) => ({ ...old, error: err instanceof Error ? err.message : String(err) }));
        }
      },
    );
    return () => ctl.abort();
  }, [state, refreshes]);
  return loaded;
}

/** Thresholds lists the thresholds of the test, passed or failed. */
export function Thresholds({ state }: { state: State }) {
  const [refreshes, setRefreshes] = useState(0);
  const { list, error } = useThresholds(state, refreshes);
  // A failed fetch with nothing to show stays quiet: the tab is about downloads.
  if (list.length === 0) return null;
  const final = state === "stopped";
  const failed = list.some((t) => !t.passed);
  return (
    <div class="thresholds" data-testid="thresholds">
      <h3>
        Thresholds
        <span class={failed ? "verdict bad" : "verdict good"} data-testid="thresholds-verdict">
          {thresholdVerdict(list)}
          {!final && " so far"}
        </span>
        <button class="link small" data-testid="thresholds-refresh" onClick={() => setRefreshes((n) => n + 1)}>
          Refresh
        </button>
      </h3>
      {error && (
        <p class="form-error" data-testid="thresholds-error">
          Cannot refresh the thresholds: {error}
        </p>
      )}
      <ThresholdTable list={list} />
    </div>
  );
}

/** ThresholdTable lists thresholds with their verdicts: the live test's, or a stored run's. */
export function ThresholdTable({ list }: { list: readonly ThresholdResult[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th>Result</th>
          <th>Threshold</th>
          <th class="num">Measured</th>
          <th>Note</th>
        </tr>
      </thead>
      <tbody>
        {list.map((t, i) => (
          <tr key={`${i}\u0000${t.expr}`} data-testid="threshold-row" data-passed={String(t.passed)} data-expr={t.expr}>
            <td class={t.passed ? "good" : "bad"}>{t.passed ? "✓ pass" : "✗ fail"}</td>
            <td class="name">
              <code>{t.expr}</code>
            </td>
            <td class="num">{thresholdValue(t.value)}</td>
            <td class="muted">{t.note ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
