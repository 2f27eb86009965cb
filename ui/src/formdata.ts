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
}

/**
 * buildRequest returns the request body, or a message saying what is
 * wrong. Empty optional fields are left out so the server's defaults
 * apply; an edit sends only users and spawn rate.
 */
export function buildRequest(mode: "start" | "edit", f: FormFields): TestRequest | string {
  const usersText = f.users.trim();
  if (!/^\d+$/.test(usersText)) return "Number of users must be a whole number, 0 or more.";
  const users = Number(usersText);
  if (!Number.isSafeInteger(users)) return "Number of users is too large.";
  const req: TestRequest = { users };

  const rateText = f.spawnRate.trim();
  if (rateText !== "") {
    const rate = Number(rateText);
    if (!Number.isFinite(rate) || rate <= 0) return "Ramp up must be a number above 0.";
    req.spawn_rate = rate;
  }
  if (mode === "edit") return req;

  const host = f.host.trim();
  if (host !== "") req.host = host;
  const runTime = f.runTime.trim();
  if (runTime !== "") req.run_time = runTime;
  return req;
}
