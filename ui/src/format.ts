// Number formatting for the tables and the top bar. The formatters are
// built once: the statistics table calls them thousands of times a second.

const intFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const oneFmt = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoFmt = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const upToTwoFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

function finite(v: number | null | undefined): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** count formats an integer count with thousands separators: 12,345. */
export function count(v: number | null | undefined): string {
  return finite(v) ? intFmt.format(v) : "–";
}

/** ms formats a latency: two decimals under 10 ms, one under 100 ms, whole above. */
export function ms(v: number | null | undefined): string {
  if (!finite(v)) return "–";
  const a = Math.abs(v);
  if (a < 10) return twoFmt.format(v);
  if (a < 100) return oneFmt.format(v);
  return intFmt.format(v);
}

/** rate formats a per-second rate with one decimal. */
export function rate(v: number | null | undefined): string {
  return finite(v) ? oneFmt.format(v) : "–";
}

/** perSecond formats an arrival rate as typed, with at most two decimals: "300/s", "2.5/s". */
export function perSecond(v: number | null | undefined): string {
  return finite(v) ? `${upToTwoFmt.format(v)}/s` : "–";
}

/** percent formats a ratio of failures to requests as a percentage: "1.5%". */
export function percent(failures: number, requests: number): string {
  if (!finite(requests) || requests <= 0 || !finite(failures)) return "0%";
  const p = (100 * failures) / requests;
  if (p === 0) return "0%";
  if (p < 0.01) return "<0.01%";
  return (p < 10 ? twoFmt.format(p) : oneFmt.format(p)) + "%";
}

/** mib formats bytes as mebibytes with one decimal. */
export function mib(bytes: number | null | undefined): string {
  return finite(bytes) ? oneFmt.format(bytes / (1024 * 1024)) : "–";
}

/** duration formats seconds as 1h02m03s, 4m05s or 6s. */
export function duration(seconds: number | null | undefined): string {
  if (!finite(seconds) || seconds < 0) return "–";
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h}h${pad(m)}m${pad(r)}s`;
  if (m > 0) return `${m}m${pad(r)}s`;
  return `${r}s`;
}
