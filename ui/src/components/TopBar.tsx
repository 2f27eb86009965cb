// The top bar: what is running where, how fast, and the buttons that
// change it (Locust's layout: Start, or Edit/Stop/Reset, or New test).
// An open-model test shows its arrival rate; a test that follows the
// script's load shape shows what the shape does now and cannot be edited.

import type { ComponentChildren } from "preact";
import type { Stats } from "../api";
import { count, duration, percent, perSecond, rate } from "../format";

/** What the bar's buttons do. */
export interface Actions {
  start(): void;
  edit(): void;
  stop(): void;
  reset(): void;
}

interface Props {
  stats: Stats | null;
  connected: boolean;
  busy: boolean;
  actions: Actions;
}

/** TopBar shows the test's state and the buttons that fit it. */
export function TopBar({ stats, connected, busy, actions }: Props) {
  const state = stats?.state ?? "connecting";
  const total = stats?.total;
  const workers = stats?.workers?.length ?? 0;
  const arrivalRate = stats?.arrival_rate ?? 0;
  const shape = stats?.shape ?? "";
  return (
    <header class="topbar">
      <div class="brand">horde</div>
      <dl class="facts">
        <Fact label="Host" testid="host" wide>
          {stats?.host || "—"}
        </Fact>
        <Fact label="Status" testid="state">
          <span class={`state state-${state}`}>{state}</span>
        </Fact>
        <Fact label="Users" testid="users">
          {stats ? `${count(stats.users)}/${count(stats.target_users)}` : "–"}
        </Fact>
        {arrivalRate > 0 && (
          <Fact label="Rate" testid="arrival-rate">
            {perSecond(arrivalRate)}
          </Fact>
        )}
        {workers > 0 && (
          <Fact label="Workers" testid="workers-count">
            {count(workers)}
          </Fact>
        )}
        <Fact label="RPS" testid="rps">
          {rate(total?.current_rps)}
        </Fact>
        <Fact label="Failures" testid="fail-ratio">
          {total ? percent(total.failures, total.requests) : "0%"}
        </Fact>
        {stats?.elapsed_s !== undefined && ["spawning", "running", "stopping"].includes(stats.state) && (
          <Fact label="Elapsed" testid="elapsed">
            {duration(stats.elapsed_s)}
            {stats.run_time_s ? ` / ${duration(stats.run_time_s)}` : ""}
          </Fact>
        )}
        {shape !== "" && (
          <Fact label="Shape" testid="shape" wide>
            {shape}
          </Fact>
        )}
      </dl>
      <div class="buttons">
        <Buttons state={stats?.state} editable={shape === ""} busy={busy} actions={actions} />
        <span
          class={connected ? "conn conn-up" : "conn conn-down"}
          data-testid="connection"
          title={connected ? "live" : "reconnecting to the master…"}
        >
          {connected ? "live" : "offline"}
        </span>
      </div>
    </header>
  );
}

function Fact(props: { label: string; testid: string; wide?: boolean; children: ComponentChildren }) {
  return (
    <div class={props.wide ? "fact fact-wide" : "fact"}>
      <dt>{props.label}</dt>
      <dd data-testid={props.testid} title={props.wide ? String(props.children) : undefined}>
        {props.children}
      </dd>
    </div>
  );
}

interface ButtonsProps {
  state?: string;
  /** false for a shaped test: the server refuses to edit it. */
  editable: boolean;
  busy: boolean;
  actions: Actions;
}

function Buttons({ state, editable, busy, actions }: ButtonsProps) {
  switch (state) {
    case "ready":
      return (
        <button class="primary" data-testid="start-button" disabled={busy} onClick={actions.start}>
          Start
        </button>
      );
    case "spawning":
    case "running":
    case "stopping":
      return (
        <>
          {editable && (
            <button data-testid="edit-button" disabled={busy || state === "stopping"} onClick={actions.edit}>
              Edit
            </button>
          )}
          <button class="danger" data-testid="stop-button" disabled={busy || state === "stopping"} onClick={actions.stop}>
            Stop
          </button>
          <button data-testid="reset-button" disabled={busy} onClick={actions.reset}>
            Reset stats
          </button>
        </>
      );
    case "stopped":
      return (
        <>
          <button class="primary" data-testid="new-test-button" disabled={busy} onClick={actions.start}>
            New test
          </button>
          <button data-testid="reset-button" disabled={busy} onClick={actions.reset}>
            Reset stats
          </button>
        </>
      );
    default:
      return null;
  }
}
