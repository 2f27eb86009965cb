// The start form (users, arrival rate, spawn rate, host, run time) and its
// smaller sibling that edits a running test (users, and the spawn rate or,
// for an open-model test, the arrival rate). Both POST /api/v1/test and
// show the server's error text when it refuses.

import { useEffect, useRef, useState } from "preact/hooks";
import { startTest, type Stats, type TestRequest } from "../api";
import { perSecond } from "../format";
import { buildRequest, opensModel, type FormContext } from "../formdata";

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
  const [rate, setRate] = useState("");
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

  const currentRate = stats?.arrival_rate ?? 0;
  const ctx: FormContext = { open: currentRate > 0 };
  // A closed-model test is edited as before; only a new test or an
  // open-model one offers the rate.
  const showRate = mode === "start" || ctx.open === true;
  const open = opensModel(mode, rate, ctx);

  const submit = async (e: Event) => {
    e.preventDefault();
    const built = buildRequest(mode, { users, spawnRate, host, runTime, rate }, ctx);
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
          <span>
            {open ? "Max users (pool)" : "Number of users (peak concurrency)"}
            {open && <span class="hint"> at most this many iterations at once</span>}
          </span>
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
        {showRate && (
          <label>
            <span>
              Arrival rate (iterations/s, open model){" "}
              <span class="hint">{mode === "start" ? "optional; empty: closed model" : "empty: keep"}</span>
            </span>
            <input
              type="text"
              inputMode="decimal"
              autoComplete="off"
              data-testid="input-rate"
              name="rate"
              placeholder={mode === "start" ? "e.g. 50" : `keep ${perSecond(currentRate)}`}
              value={rate}
              onInput={(e) => setRate(e.currentTarget.value)}
            />
          </label>
        )}
        <label class={open ? "unused" : undefined}>
          <span>
            Ramp up (users started/second)
            {open && <span class="hint"> not used by the open model</span>}
          </span>
          <input
            type="number"
            min="0"
            step="any"
            inputMode="decimal"
            disabled={open}
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
