// The smaller tabs: failures, script exceptions, workers and downloads
// (with the test's thresholds above the links).

import { apiBase, type ErrorEntry, type ExceptionEntry, type State, type Worker } from "../api";
import { count, mib, rate } from "../format";
import { Thresholds } from "./Thresholds";

/** Failures lists the groups of failed requests, most frequent first. */
export function Failures({ errors }: { errors: ErrorEntry[] }) {
  if (errors.length === 0) return <Empty testid="failures-empty">No failures.</Empty>;
  const sorted = errors.slice().sort((a, b) => b.count - a.count);
  return (
    <section class="panel table-wrap">
      <table class="top-align" data-testid="failures-table">
        <thead>
          <tr>
            <th class="num"># Failures</th>
            <th>Method</th>
            <th>Name</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((e) => (
            <tr key={`${e.method}\u0000${e.name}\u0000${e.error}`} data-testid="failure-row" data-name={e.name}>
              <td class="num bad">{count(e.count)}</td>
              <td>{e.method}</td>
              <td class="name">{e.name}</td>
              <td class="message">{e.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Exceptions lists the script's errors with their tracebacks. */
export function Exceptions({ exceptions }: { exceptions: ExceptionEntry[] }) {
  if (exceptions.length === 0) return <Empty testid="exceptions-empty">No script errors.</Empty>;
  const sorted = exceptions.slice().sort((a, b) => b.count - a.count);
  return (
    <section class="panel table-wrap">
      <table class="top-align" data-testid="exceptions-table">
        <thead>
          <tr>
            <th class="num">Count</th>
            <th>Message</th>
            <th>Traceback</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((e) => (
            <tr key={`${e.message}\u0000${e.traceback}`} data-testid="exception-row">
              <td class="num bad">{count(e.count)}</td>
              <td class="message">{e.message}</td>
              <td>
                <pre class="traceback">{e.traceback}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Workers lists the connected workers and their load. */
export function Workers({ workers }: { workers: Worker[] }) {
  if (workers.length === 0) return <Empty testid="workers-empty">No workers: this master runs the test itself.</Empty>;
  const sorted = workers.slice().sort((a, b) => a.index - b.index || (a.id < b.id ? -1 : 1));
  return (
    <section class="panel table-wrap fit">
      <table data-testid="workers-table">
        <thead>
          <tr>
            <th>Worker</th>
            <th>Hostname</th>
            <th>State</th>
            <th class="num">Users</th>
            <th class="num">CPU %</th>
            <th class="num">Memory (MiB)</th>
            <th class="num">RPS</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((w) => (
            <tr key={w.id} data-testid="worker-row" data-id={w.id}>
              <td class="name">{w.id}</td>
              <td>{w.hostname}</td>
              <td>
                <span class={`wstate wstate-${w.state}`}>{w.state}</span>
              </td>
              <td class="num">
                {count(w.users)}/{count(w.target)}
              </td>
              <td class="num">
                {rate(w.cpu_percent)}
                {w.cpu_warning && (
                  <span class="badge warn" data-testid="cpu-warning" title="CPU above 90%: its numbers may be skewed">
                    high CPU
                  </span>
                )}
              </td>
              <td class="num">{mib(w.rss_bytes)}</td>
              <td class="num">{rate(w.rps)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const downloads: readonly { testid: string; href: string; label: string; what: string }[] = [
  { testid: "download-stats-csv", href: "stats.csv", label: "Statistics CSV", what: "the statistics table" },
  { testid: "download-history-csv", href: "history.csv", label: "History CSV", what: "every second of the test" },
  { testid: "download-failures-csv", href: "failures.csv", label: "Failures CSV", what: "failed requests by error" },
  { testid: "download-exceptions-csv", href: "exceptions.csv", label: "Exceptions CSV", what: "script errors" },
  { testid: "download-report-json", href: "report.json", label: "JSON summary", what: "the --json summary" },
  { testid: "download-report-html", href: "report.html", label: "HTML report", what: "a self-contained report" },
];

/** Downloads shows the thresholds' verdicts and links the CSV files and reports. */
export function Downloads({ state }: { state: State }) {
  return (
    <section class="panel">
      <Thresholds state={state} />
      <ul class="downloads" data-testid="downloads">
        {downloads.map((d) => (
          <li key={d.testid}>
            <a href={apiBase + d.href} data-testid={d.testid} download={d.href.endsWith(".html") ? undefined : ""}
               target={d.href.endsWith(".html") ? "_blank" : undefined} rel="noopener">
              {d.label}
            </a>
            <span class="muted"> — {d.what}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Empty({ testid, children }: { testid: string; children: string }) {
  return (
    <section class="panel empty-panel" data-testid={testid}>
      {children}
    </section>
  );
}
