// The Runs tab: every stored test, filtered and sorted by the server, and
// from there one run (RunView) or two side by side (RunCompare). Where the
// view is lives in the URL's fragment (#runs, #runs/ID,
// #runs/compare/BASE/OTHER), so the browser's Back and a reload work.

import { useEffect, useState } from "preact/hooks";
import type { RunList as RunListBody, State, StoredRun } from "../api";
import { count, duration, ms, rate } from "../format";
import {
  comparePair,
  defaultOrder,
  goRuns,
  labelText,
  nextRunOrder,
  parseLabels,
  parseRunsRoute,
  runsHash,
  runsQuery,
  shortID,
  statusClass,
  statuses,
  when,
  type RunFilter,
  type RunOrder,
  type RunSortKey,
  type RunsRoute,
} from "../runs";
import { useGet } from "../useGet";
import { RunCompare } from "./RunCompare";
import { RunView } from "./RunView";

/** useRunsRoute follows the fragment. */
function useRunsRoute(): RunsRoute {
  const [route, setRoute] = useState(() => parseRunsRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRunsRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

/** RunsView is the Runs tab; state is the live test's, so a test that ends shows up. */
export function RunsView({ state }: { state: State | undefined }) {
  const route = useRunsRoute();
  // Kept here, so coming back from a run finds the list as it was left.
  const [filter, setFilter] = useState<RunFilter>({ script: "", labels: "", status: "" });
  const [order, setOrder] = useState<RunOrder>(defaultOrder);
  const [picked, setPicked] = useState<StoredRun[]>([]);
  switch (route.view) {
    case "run":
      return <RunView key={route.ref} runRef={route.ref} />;
    case "compare":
      return <RunCompare key={`${route.base}/${route.other}`} base={route.base} other={route.other} />;
    default:
      return (
        <RunList
          state={state}
          filter={filter}
          setFilter={setFilter}
          order={order}
          setOrder={setOrder}
          picked={picked}
          setPicked={setPicked}
        />
      );
  }
}

/** pageSize is how many more runs "Show more" asks for. */
const pageSize = 100;

interface ListProps {
  state: State | undefined;
  filter: RunFilter;
  setFilter(f: RunFilter): void;
  order: RunOrder;
  setOrder(o: RunOrder): void;
  picked: StoredRun[];
  setPicked(p: StoredRun[]): void;
}

/** RunList is the list of stored runs with its filters. */
function RunList({ state, filter, setFilter, order, setOrder, picked, setPicked }: ListProps) {
  const [limit, setLimit] = useState(pageSize);
  const labelError = parseLabels(filter.labels).error;
  const query = useDebounced(runsQuery(filter, order, limit), 250);
  // A test that ends (state changes) adds a run: ask again.
  const list = useGet<RunListBody>(labelError ? null : `runs?${query}`, state);
  const runs = list.data?.runs ?? [];

  if (list.error?.status === 404 && /run history is off/.test(list.error.message)) {
    return (
      <section class="panel empty-panel" data-testid="runs-off">
        {sentence(list.error.message)} Give the master a store (<code>--store PATH</code>, a SQLite file, or{" "}
        <code>postgres://…</code>) to keep every test here.
      </section>
    );
  }
  const toggle = (r: StoredRun) => {
    if (picked.some((p) => p.id === r.id)) setPicked(picked.filter((p) => p.id !== r.id));
    else setPicked([...picked, r].slice(-2)); // a third pick lets the first go
  };
  const compare = () => {
    if (picked.length !== 2) return;
    const { base, other } = comparePair(picked[0], picked[1]);
    goRuns({ view: "compare", base: base.id, other: other.id });
  };
  const set = (patch: Partial<RunFilter>) => {
    setLimit(pageSize);
    setFilter({ ...filter, ...patch });
  };
  const scripts = [...new Set(runs.map((r) => r.script))].sort();

  return (
    <section class="panel runs">
      <div class="table-tools">
        <input
          type="search"
          class="filter narrow"
          placeholder="Script"
          list="run-scripts"
          data-testid="runs-filter-script"
          value={filter.script}
          onInput={(e) => set({ script: e.currentTarget.value })}
        />
        <datalist id="run-scripts">
          {scripts.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <input
          type="search"
          class={labelError ? "filter labels invalid" : "filter labels"}
          placeholder="Labels: env=prod, build=42"
          title={labelError || "Runs with every one of these key=value labels"}
          data-testid="runs-filter-label"
          value={filter.labels}
          onInput={(e) => set({ labels: e.currentTarget.value })}
        />
        <select
          class="filter narrow"
          data-testid="runs-filter-status"
          value={filter.status}
          onChange={(e) => set({ status: e.currentTarget.value as RunFilter["status"] })}
        >
          <option value="">Any status</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <button class="primary" data-testid="runs-compare" disabled={picked.length !== 2} onClick={compare}>
          Compare {picked.length === 2 ? `${shortID(picked[0].id)} and ${shortID(picked[1].id)}` : "two runs"}
        </button>
        <button data-testid="runs-refresh" onClick={list.reload} disabled={list.loading}>
          Refresh
        </button>
        <span class="muted" data-testid="runs-count">
          {list.data ? `${count(runs.length)} of ${count(list.data.total)} runs` : list.loading ? "Loading…" : ""}
        </span>
      </div>
      {labelError && <p class="form-error">{labelError}</p>}
      {list.error && (
        <p class="form-error" data-testid="runs-error">
          {list.error.message}
        </p>
      )}
      <div class="table-wrap">
        <table class="run-list" data-testid="runs-table" data-rows={runs.length}>
          <thead>
            <tr>
              <th class="pick" title="Pick two runs to compare" />
              <SortHeader label="Started" k="started" order={order} setOrder={setOrder} />
              <th>Run</th>
              <th>Script</th>
              <th>Status</th>
              <SortHeader label="# Requests" k="requests" order={order} setOrder={setOrder} num />
              <SortHeader label="# Fails" k="failures" order={order} setOrder={setOrder} num />
              <SortHeader label="RPS" k="rps" order={order} setOrder={setOrder} num />
              <SortHeader label="95%ile (ms)" k="p95" order={order} setOrder={setOrder} num />
              <SortHeader label="Duration" k="duration" order={order} setOrder={setOrder} num />
              <th>Labels</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <RunRow key={r.id} run={r} picked={picked.some((p) => p.id === r.id)} toggle={() => toggle(r)} />
            ))}
            {list.data && runs.length === 0 && (
              <tr>
                <td class="empty" colSpan={11} data-testid="runs-empty">
                  {filter.script || filter.labels || filter.status
                    ? "No stored run matches these filters."
                    : "No runs stored yet: every test this master runs is kept here."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {list.data && list.data.total > runs.length && (
        <button class="more" data-testid="runs-more" onClick={() => setLimit(limit + pageSize)}>
          Show {count(Math.min(pageSize, list.data.total - runs.length))} more
        </button>
      )}
    </section>
  );
}

interface SortProps {
  label: string;
  k: RunSortKey;
  order: RunOrder;
  setOrder(o: RunOrder): void;
  num?: boolean;
}

/** SortHeader is a column header the store sorts by: a click sorts, a second reverses. */
function SortHeader({ label, k, order, setOrder, num }: SortProps) {
  const active = order.key === k;
  return (
    <th
      class={num ? "num sortable" : "sortable"}
      data-testid={`runs-sort-${k}`}
      aria-sort={active ? (order.asc ? "ascending" : "descending") : "none"}
      onClick={() => setOrder(nextRunOrder(order, k))}
    >
      {label}
      <span class="arrow">{active ? (order.asc ? " ▲" : " ▼") : ""}</span>
    </th>
  );
}

function RunRow({ run, picked, toggle }: { run: StoredRun; picked: boolean; toggle(): void }) {
  const m = run.metrics;
  const href = runsHash({ view: "run", ref: run.id });
  return (
    <tr data-testid="run-row" data-id={run.id} data-status={run.status} class={picked ? "picked" : undefined}>
      <td class="pick">
        <input
          type="checkbox"
          checked={picked}
          onChange={toggle}
          data-testid="run-pick"
          aria-label={`pick run ${shortID(run.id)} to compare`}
        />
      </td>
      <td>
        <a href={href} data-testid="run-open">
          {when(run.started)}
        </a>
      </td>
      <td>
        <a href={href} class="mono">
          {shortID(run.id)}
        </a>
      </td>
      <td class="name" title={run.script}>
        {run.script}
      </td>
      <td>
        <span class={statusClass(run.status)} title={run.reason || undefined}>
          {run.status}
        </span>
      </td>
      <td class="num">{count(m.requests)}</td>
      <td class={m.failures > 0 ? "num bad" : "num"}>{count(m.failures)}</td>
      <td class="num">{rate(m.rps)}</td>
      <td class="num">{ms(m.p95_ms)}</td>
      <td class="num">{duration(m.duration_s)}</td>
      <td class="labels" title={labelText(run.labels)}>
        {labelText(run.labels)}
      </td>
    </tr>
  );
}

/** useDebounced is v once it has not changed for ms (the first value at once). */
function useDebounced<T>(v: T, delay: number): T {
  const [settled, setSettled] = useState(v);
  useEffect(() => {
    const id = setTimeout(() => setSettled(v), delay);
    return () => clearTimeout(id);
  }, [v, delay]);
  return settled;
}

/** sentence starts a message with a capital and ends it with a full stop. */
function sentence(msg: string): string {
  const m = msg.trim();
  return m.charAt(0).toUpperCase() + m.slice(1) + (/[.!?]$/.test(m) ? "" : ".");
}
