// The page: top bar, start/edit dialog, and the tabs. The open tab is
// kept in the URL's fragment, so a reload comes back to it.

import { useCallback, useEffect, useState } from "preact/hooks";
import { resetStats, stopTest, type Stats } from "./api";
import { Charts } from "./components/Charts";
import { Downloads, Exceptions, Failures, Workers } from "./components/Panels";
import { StatsTable } from "./components/StatsTable";
import { TestForm } from "./components/TestForm";
import { RunsView } from "./components/Runs";
import { TopBar, type Actions } from "./components/TopBar";
import { count } from "./format";
import { useLive, type Live } from "./live";

const tabs = ["statistics", "charts", "failures", "exceptions", "workers", "downloads", "runs"] as const;
type Tab = (typeof tabs)[number];

/** App is the whole page. */
export function App() {
  const live = useLive();
  const { stats } = live;
  const [tab, setTab] = useTab();
  const { form, closeForm, actions, busy, notice, dismiss } = useActions(live);

  const errors = stats?.errors ?? [];
  const exceptions = stats?.exceptions ?? [];
  const workers = stats?.workers ?? [];
  return (
    <>
      <TopBar stats={stats} connected={live.connected} busy={busy} actions={actions} />
      <Banners stats={stats} connected={live.connected} notice={notice} dismiss={dismiss} />
      <TabBar tab={tab} select={setTab} stats={stats} />
      <main>
        {tab === "runs" ? (
          // Stored runs need no live master: shown even while connecting.
          <RunsView state={stats?.state} />
        ) : !stats ? (
          <section class="panel empty-panel" data-testid="connecting">
            Connecting to the master…
          </section>
        ) : (
          <>
            {tab === "statistics" && <StatsTable stats={stats} />}
            {tab === "failures" && <Failures errors={errors} />}
            {tab === "exceptions" && <Exceptions exceptions={exceptions} />}
            {tab === "workers" && <Workers workers={workers} />}
            {tab === "downloads" && <Downloads state={stats.state} />}
          </>
        )}
        {/* Always mounted, so data-points counts while another tab is open. */}
        <Charts history={live.history} version={live.historyVersion} visible={tab === "charts"} />
      </main>
      {form && <TestForm mode={form} stats={stats} onClose={closeForm} />}
    </>
  );
}

/** tabFromHash reads the tab from the fragment's first part (#runs/ID is the Runs tab). */
function tabFromHash(): Tab {
  const h = location.hash.replace(/^#/, "").split("/")[0];
  return (tabs as readonly string[]).includes(h) ? (h as Tab) : "statistics";
}

/** useTab is the open tab, mirrored in the URL's fragment (and following it: Back, links). */
function useTab(): [Tab, (t: Tab) => void] {
  const [tab, setTab] = useState<Tab>(tabFromHash);
  useEffect(() => {
    const on = () => setTab(tabFromHash());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const select = (t: Tab) => {
    setTab(t);
    history.replaceState(null, "", `#${t}`);
    // The Runs view follows the fragment: its tab leads back to the list.
    if (t === "runs") dispatchEvent(new HashChangeEvent("hashchange"));
  };
  return [tab, select];
}

/** useActions holds what the buttons do, the open dialog and the last error. */
function useActions(live: Live) {
  const [form, setForm] = useState<"start" | "edit" | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState("");
  const [offeredStart, setOfferedStart] = useState(false);

  // Like Locust, a master that is ready and idle greets with the start form,
  // once; not a page opened on the Runs tab, which came for past tests.
  useEffect(() => {
    if (live.stats && !offeredStart) {
      setOfferedStart(true);
      if (live.stats.state === "ready" && tabFromHash() !== "runs") setForm("start");
    }
  }, [live.stats, offeredStart]);

  const run = async (what: string, call: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setNotice("");
    try {
      await call();
      after?.();
    } catch (err) {
      setNotice(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };
  const actions: Actions = {
    start: () => setForm("start"),
    edit: () => setForm("edit"),
    stop: () => void run("Stop", stopTest),
    reset: () => void run("Reset", resetStats, live.clearHistory),
  };
  const closeForm = useCallback(() => setForm(null), []);
  return { form, closeForm, actions, busy, notice, dismiss: () => setNotice("") };
}

interface BannerProps {
  stats: Stats | null;
  connected: boolean;
  notice: string;
  dismiss(): void;
}

/** Banners shows a failed action, a lost connection and the master's warnings. */
function Banners({ stats, connected, notice, dismiss }: BannerProps) {
  const warnings = [...(stats?.warnings ?? [])];
  if (stats?.dropped_iterations) {
    warnings.push(`${count(stats.dropped_iterations)} iterations were dropped: not enough users to keep the arrival rate.`);
  }
  return (
    <>
      {notice && (
        <div class="notice" role="alert" data-testid="notice">
          {notice}
          <button class="link" onClick={dismiss} aria-label="dismiss">
            ×
          </button>
        </div>
      )}
      {stats && !connected && (
        <div class="notice" role="status" data-testid="offline-banner">
          Lost the connection to the master; reconnecting… The figures below are the last received.
        </div>
      )}
      {warnings.length > 0 && (
        <ul class="warnings" data-testid="warnings">
          {warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      )}
    </>
  );
}

/** TabBar is the row of tabs, with counts on the ones that list things. */
function TabBar({ tab, select, stats }: { tab: Tab; select(t: Tab): void; stats: Stats | null }) {
  const n = (label: string, list: unknown[] | null | undefined) =>
    list && list.length > 0 ? `${label} (${count(list.length)})` : label;
  const labels: Record<Tab, string> = {
    statistics: "Statistics",
    charts: "Charts",
    failures: n("Failures", stats?.errors),
    exceptions: n("Exceptions", stats?.exceptions),
    workers: n("Workers", stats?.workers),
    downloads: "Download data",
    runs: "Runs",
  };
  return (
    <nav class="tabs" role="tablist">
      {tabs.map((t) => (
        <button
          key={t}
          role="tab"
          aria-selected={tab === t}
          class={tab === t ? "tab active" : "tab"}
          data-testid={`tab-${t}`}
          onClick={() => select(t)}
        >
          {labels[t]}
        </button>
      ))}
    </nav>
  );
}
