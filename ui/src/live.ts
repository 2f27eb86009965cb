// useLive keeps the page's view of the master: the latest Stats and the
// chart history, fed by the stream. Updates are applied at most once per
// animation frame, so a burst (a reconnect, a slow tab) costs one render,
// and a hidden tab does not render at all.

import { useEffect, useMemo, useState } from "preact/hooks";
import { apiBase, type Stats } from "./api";
import { History } from "./history";
import { openStream } from "./stream";

/** The live state of the page. */
export interface Live {
  stats: Stats | null;
  connected: boolean;
  history: History;
  /** history.version at the last render, to redraw charts only on change. */
  historyVersion: number;
  /** clearHistory empties the charts at once (after a reset from this page). */
  clearHistory(): void;
}

/** useLive opens the stream for the life of the component. */
export function useLive(): Live {
  const history = useMemo(() => new History(), []);
  const [stats, setStats] = useState<Stats | null>(null);
  const [connected, setConnected] = useState(false);
  const [historyVersion, setHistoryVersion] = useState(0);

  useEffect(() => {
    let pending: Stats | null = null;
    let frame = 0;
    const flush = () => {
      frame = 0;
      if (pending) {
        setStats(pending);
        pending = null;
      }
      setHistoryVersion(history.version);
    };
    const schedule = () => {
      if (frame === 0) frame = requestAnimationFrame(flush);
    };
    const close = openStream(apiBase + "stream", {
      history(points) {
        history.replace(points);
        schedule();
      },
      point(p) {
        history.append(p);
        schedule();
      },
      stats(s) {
        pending = s;
        schedule();
      },
      status: setConnected,
    });
    return () => {
      close();
      if (frame !== 0) cancelAnimationFrame(frame);
    };
  }, [history]);

  const clearHistory = () => {
    history.clear();
    setHistoryVersion(history.version);
  };
  return { stats, connected, history, historyVersion, clearHistory };
}
