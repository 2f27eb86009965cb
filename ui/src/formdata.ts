// Turning the form's text fields into the body of POST /api/v1/test.
// Only what the browser can tell for sure is checked here (numbers);
// the server judges the rest (host, run time) and its 400 text is shown.

import type { TestRequest } from "./api";

/** The form's fields as typed. */
export interface FormFields {
  users: string;
  spawnRate: string;
  host: string;
  runTime: string;
  /** Arrivals per second (open model); "" is the closed model, or in an edit "keep". */
  rate: string;
}

/** What the form knows of the test it edits. */
export interface FormContext {
  /** The running test is an open-model one (its arrival_rate > 0). */
  open?: boolean;
}

/**
 * parseArrivalRate reads the rate field: undefined when empty, else the
 * number, or a message saying what is wrong (NaN, Infinity, negative).
 */
export function parseArrivalRate(text: string): number | undefined | string {
  const t = text.trim();
  if (t === "") return undefined;
  // Number() alone would take "0x1f" and " "; a decimal is what the label asks for.
  const decimal = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  if (/^-/.test(t) && decimal.test(t.slice(1))) return "Arrival rate cannot be negative: give 0 or more iterations per second.";
  if (!decimal.test(t.replace(/^\+/, ""))) return "Arrival rate must be a number of iterations per second, e.g. 50 or 2.5.";
  const rate = Number(t);
  if (!Number.isFinite(rate)) return "Arrival rate is too large.";
  return rate;
}

/**
 * opensModel tells whether the form describes an open-model test: a rate
 * above 0 is typed, or an edit keeps the rate of an open-model test. The
 * users field is then the pool, and the spawn rate is not used.
 */
export function opensModel(mode: "start" | "edit", rateText: string, ctx: FormContext = {}): boolean {
  const rate = parseArrivalRate(rateText);
  if (typeof rate === "number" && rate > 0) return true;
  return mode === "edit" && ctx.open === true;
}

/**
 * buildRequest returns the request body, or a message saying what is
 * wrong. Empty optional fields are left out so the server's defaults
 * apply; an edit sends only users and spawn rate, or users and (when
 * typed) rate for an open-model test. The spawn rate is neither checked
 * nor sent when the test is an open-model one.
 */
export function buildRequest(mode: "start" | "edit", f: FormFields, ctx: FormContext = {}): TestRequest | string {
  const usersText = f.users.trim();
  if (!/^\d+$/.test(usersText)) return "Number of users must be a whole number, 0 or more.";
  const users = Number(usersText);
  if (!Number.isSafeInteger(users)) return "Number of users is too large.";
  const req: TestRequest = { users };

  const rate = parseArrivalRate(f.rate);
  if (typeof rate === "string") return rate;
  if (mode === "edit" && rate === 0) {
    return "Arrival rate must be above 0 to change it; leave it empty to keep the current one.";
  }
  if (rate !== undefined && rate > 0) req.rate = rate;

  if (!opensModel(mode, f.rate, ctx)) {
    const spawnText = f.spawnRate.trim();
    if (spawnText !== "") {
      const spawn = Number(spawnText);
      if (!Number.isFinite(spawn) || spawn <= 0) return "Ramp up must be a number above 0.";
      req.spawn_rate = spawn;
    }
  }
  if (mode === "edit") return req;

  const host = f.host.trim();
  if (host !== "") req.host = host;
  const runTime = f.runTime.trim();
  if (runTime !== "") req.run_time = runTime;
  return req;
}
