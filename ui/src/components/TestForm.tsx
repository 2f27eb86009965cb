// The start form (users, spawn rate, host, run time) and its smaller
// sibling that edits a running test (users, spawn rate). Both POST
// /api/v1/test and show the server's error text when it refuses.

import { useEffect, useRef, useState } from "preact/hooks";
import { startTest, type Stats, type TestRequest } from "../api";
import { buildRequest } from "../formdata";

interface Props {
  mode: "start" | "edit";
  stats: Stats | null;
  onClose(): void;
}

/** TestForm is a modal dialog; it closes itself once the server accepts. */
export function TestForm({ mode, stats, onClose }: Props) {
  const [users, setUsers] = useState(String(stats?.target_users || 10));
  const [spawnRate, setSpawnRate] = useState(String(stats?.spawn_rate || 1));
  const [host, setHost] = useState(stats?.host ?? "");
  const [runTime, setRunTime] = useState("");
  const [error, setError] = useState("");
  const [sending, setSending] = useState(false);
  const first = useRef<HTMLInputElement>(null);

  useEffect(() => {
    first.current?.focus();
    first.current?.select();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const built = buildRequest(mode, { users, spawnRate, host, runTime });
    if (typeof built === "string") {
      setError(built);
      return;
    }
    setSending(true);
    setError("");
    try {
      await startTest(built satisfies TestRequest);
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSending(false);
    }
  };

  const title = mode === "start" ? "Start a new load test" : "Edit the running load test";
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-label={title} onClick={(e) => e.target === e.currentTarget && onClose()}>
      <form class="dialog" data-testid="test-form" onSubmit={submit} noValidate>
        <h2>{title}</h2>
        <label>
          Number of users (peak concurrency)
          <input
            ref={first}
            type="number"
            min="0"
            step="1"
            inputMode="numeric"
            data-testid="input-users"
            name="users"
            value={users}
            onInput={(e) => setUsers(e.currentTarget.value)}
          />
        </label>
        <label>
          Ramp up (users started/second)
          <input
            type="number"
            min="0"
            step="any"
            inputMode="decimal"
            data-testid="input-spawn-rate"
            name="spawn_rate"
            value={spawnRate}
            onInput={(e) => setSpawnRate(e.currentTarget.value)}
          />
        </label>
        {mode === "start" && (
          <>
            <label>
              Host
              <input
                type="text"
                data-testid="input-host"
                name="host"
                placeholder="http://127.0.0.1:8080 (empty: the script's host)"
                value={host}
                onInput={(e) => setHost(e.currentTarget.value)}
              />
            </label>
            <label>
              Run time <span class="hint">optional, e.g. 30s, 10m, 1h30m</span>
              <input
                type="text"
                data-testid="input-run-time"
                name="run_time"
                placeholder="until stopped"
                value={runTime}
                onInput={(e) => setRunTime(e.currentTarget.value)}
              />
            </label>
          </>
        )}
        {error && (
          <p class="form-error" role="alert" data-testid="form-error">
            {error}
          </p>
        )}
        <div class="dialog-buttons">
          <button type="button" data-testid="cancel-button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" data-testid="submit-button" disabled={sending}>
            {mode === "start" ? "Start" : "Update"}
          </button>
        </div>
      </form>
    </div>
  );
}
