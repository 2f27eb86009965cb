// The JSON shapes of horde's API (docs/api.md) and the calls that change
// the test. Every URL is relative to the page, so the UI keeps working when
// a proxy serves the master under a path prefix.

/** Latency summary of a Row, in milliseconds. */
export interface Latency {
  min: number;
  avg: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** One line of the statistics table; the aggregated row has method "" and name "Aggregated". */
export interface Row {
  method: string;
  name: string;
  requests: number;
  failures: number;
  rps: number;
  current_rps: number;
  current_fail_per_sec: number;
  bytes_avg: number;
  latency_ms: Latency;
}

/** A group of identical failures. */
export interface ErrorEntry {
  method: string;
  name: string;
  error: string;
  count: number;
}

/** A group of identical script errors. */
export interface ExceptionEntry {
  message: string;
  count: number;
  traceback: string;
}

/** A worker as the master sees it. */
export interface Worker {
  id: string;
  index: number;
  hostname: string;
  state: string;
  users: number;
  target: number;
  cpu_percent: number;
  rss_bytes: number;
  cpu_warning: boolean;
  rps: number;
}

/** Locust's test states. */
export type State = "ready" | "spawning" | "running" | "stopping" | "stopped";

/** The `stats` event of the stream and GET /api/v1/stats. */
export interface Stats {
  state: State;
  users: number;
  target_users: number;
  spawn_rate: number;
  /** Arrivals per second of an open-model test; 0 (or absent) for the closed model. */
  arrival_rate?: number;
  /** What the script's load shape does now, e.g. "stage 2 of 3: …"; "" or absent: none. */
  shape?: string;
  host: string;
  started?: string;
  elapsed_s?: number;
  run_time_s?: number;
  total: Row;
  endpoints: Row[] | null;
  errors: ErrorEntry[] | null;
  exceptions: ExceptionEntry[] | null;
  workers: Worker[] | null;
  warnings?: string[] | null;
  dropped_iterations?: number;
}

/** One second of history; t is Unix milliseconds. */
export interface Point {
  t: number;
  users: number;
  rps: number;
  fail_per_sec: number;
  p50: number;
  p95: number;
  p99: number;
  requests: number;
  failures: number;
}

/**
 * The body of POST /api/v1/test: users is required, the rest optional.
 * rate > 0 makes an open-model test with users as its pool of users.
 */
export interface TestRequest {
  users: number;
  spawn_rate?: number;
  host?: string;
  run_time?: string;
  rate?: number;
}

/** One evaluated threshold of the summary (GET /api/v1/report.json). */
export interface ThresholdResult {
  expr: string;
  value: number;
  passed: boolean;
  /** Why a verdict has no measurement behind it, e.g. "no requests to GET /x". */
  note?: string;
}

/** The base of every API route, relative to the page. */
export const apiBase = "api/v1/";

/** A failed API call, carrying the server's error text. */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "APIError";
  }
}

/** errorText extracts the message of an error response: {"error": "…"} or plain text. */
export function errorText(status: number, body: string): string {
  const trimmed = body.trim();
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (parsed && typeof parsed === "object" && "error" in parsed) {
      const msg = (parsed as { error: unknown }).error;
      if (typeof msg === "string" && msg !== "") return msg;
    }
  } catch {
    // Not JSON: fall through to the text itself.
  }
  if (trimmed !== "" && trimmed.length < 500) return trimmed;
  return `HTTP ${status}`;
}

/** getJSON fetches a JSON document of the API; signal cancels it. */
export async function getJSON(path: string, signal?: AbortSignal): Promise<unknown> {
  let resp: Response;
  try {
    resp = await fetch(apiBase + path, { signal, headers: { Accept: "application/json" } });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new APIError(`cannot reach the master: ${String(err)}`, 0);
  }
  const text = await resp.text();
  if (!resp.ok) throw new APIError(errorText(resp.status, text), resp.status);
  try {
    return JSON.parse(text);
  } catch {
    throw new APIError(`${path}: the answer is not JSON`, resp.status);
  }
}

async function post(path: string, body?: unknown): Promise<unknown> {
  const init: RequestInit = { method: "POST" };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  let resp: Response;
  try {
    resp = await fetch(apiBase + path, init);
  } catch (err) {
    throw new APIError(`cannot reach the master: ${String(err)}`, 0);
  }
  const text = await resp.text();
  if (!resp.ok) throw new APIError(errorText(resp.status, text), resp.status);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** startTest starts a test, or edits the running one. */
export function startTest(req: TestRequest): Promise<unknown> {
  return post("test", req);
}

/** stopTest stops the test. */
export function stopTest(): Promise<unknown> {
  return post("stop");
}

/** resetStats resets the statistics and history; the test goes on. */
export function resetStats(): Promise<unknown> {
  return post("reset");
}

// ---- Run history (GET /api/v1/runs…, docs/api.md "Run history") ----

/** A stored run's verdict, or "running" while it goes on. */
export type RunStatus = "running" | "passed" | "failed" | "aborted";

/** The figures a run list shows and sorts by: the summary's totals. */
export interface RunMetrics {
  requests: number;
  failures: number;
  rps: number;
  p95_ms: number;
  duration_s: number;
}

/** A stored run without its blobs, as GET /api/v1/runs lists it. */
export interface StoredRun {
  id: string;
  status: string;
  reason: string;
  script: string;
  script_hash: string;
  host: string;
  options: Record<string, string>;
  labels: Record<string, string>;
  version: string;
  workers: number;
  /** RFC 3339, UTC, to the millisecond. */
  started: string;
  /** null while the run is running. */
  ended: string | null;
  updated: string;
  metrics: RunMetrics;
  thresholds: ThresholdResult[];
}

/** GET /api/v1/runs: a page of runs, newest first unless sorted otherwise. */
export interface RunList {
  runs: StoredRun[];
  /** How many runs the filter selects, all pages together. */
  total: number;
  limit: number;
  offset: number;
}

/** One endpoint of the summary JSON (the --json contract). */
export interface EndpointSummary {
  method: string;
  name: string;
  requests: number;
  failures: number;
  rps: number;
  bytes_avg: number;
  latency_ms: Latency;
}

/** The summary JSON (--json, GET /api/v1/report.json), as a stored run keeps it. */
export interface Summary {
  version: number;
  started: string;
  duration_s: number;
  users_peak: number;
  host: string;
  totals: { requests: number; failures: number; rps: number; latency_ms: Latency };
  endpoints: EndpointSummary[];
  errors: ErrorEntry[];
  exceptions: ExceptionEntry[];
  workers: { id: string; state: string; users: number }[];
  thresholds: ThresholdResult[];
  dropped_iterations: number;
  warnings: string[];
  shape: string;
  aborted: string;
}

/** A test's history: GET /api/v1/history, and a stored run's. */
export interface HistoryBody {
  points: Point[];
}

/** GET /api/v1/runs/{ref}: a run, its summary (null before its first save) and its history. */
export interface RunDetail {
  run: StoredRun;
  summary: Summary | null;
  history: HistoryBody;
  /** What of the stored run could not be read. */
  warnings: string[];
}

/** How a change looks to the user; "same" is within comparison.same_within. */
export type Direction = "better" | "worse" | "same";

/** One figure in two runs; diff = other − base, rel = diff / base (null when base is 0). */
export interface Delta {
  base: number;
  other: number;
  diff: number;
  rel: number | null;
  direction: string;
}

/** The compared latency figures of a row, in ms. */
export interface LatencyDeltas {
  p50: Delta;
  p90: Delta;
  p95: Delta;
  p99: Delta;
  p999: Delta;
  avg: Delta;
  max: Delta;
}

/** The compared figures of a row. */
export interface Figures {
  requests: Delta;
  failures: Delta;
  /** failures / requests. */
  fail_ratio: Delta;
  rps: Delta;
  latency_ms: LatencyDeltas;
}

/** An endpoint both runs have. */
export interface EndpointComparison extends Figures {
  method: string;
  name: string;
}

/** report.Compare: other compared with base. */
export interface Comparison {
  same_within: number;
  duration_s: Delta;
  totals: Figures;
  endpoints: EndpointComparison[];
  only_base: EndpointSummary[];
  only_other: EndpointSummary[];
}

/** One run of a comparison, with its history for the overlaid charts. */
export interface CompareSide {
  run: StoredRun;
  history: HistoryBody;
}

/** GET /api/v1/runs/compare?base=&other=. */
export interface RunComparison {
  base: CompareSide;
  other: CompareSide;
  comparison: Comparison;
  warnings: string[];
}

/** deleteRun deletes a finished run; a running one is refused (409). */
export async function deleteRun(id: string): Promise<unknown> {
  let resp: Response;
  try {
    resp = await fetch(apiBase + "runs/" + encodeURIComponent(id), { method: "DELETE" });
  } catch (err) {
    throw new APIError(`cannot reach the master: ${String(err)}`, 0);
  }
  const text = await resp.text();
  if (!resp.ok) throw new APIError(errorText(resp.status, text), resp.status);
  return text;
}
