// The live connection to /api/v1/stream. EventSource reconnects by itself
// after a dropped connection; when the server answers with an error it
// gives up instead, so this reopens it with a capped backoff. Each
// (re)connect receives the whole history again.

import type { Point, Stats } from "./api";

/** What a stream reports. */
export interface StreamHandlers {
  history(points: Point[]): void;
  point(p: Point): void;
  stats(s: Stats): void;
  /** connected is true once the stream is open, false while it is down. */
  status(connected: boolean): void;
}

/** The first and the longest wait before reopening a closed stream. */
const minBackoffMs = 500;
const maxBackoffMs = 10_000;

/** openStream connects to url and returns a function that closes it for good. */
export function openStream(url: string, h: StreamHandlers): () => void {
  let es: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backoff = minBackoffMs;
  let closed = false;

  const parse = <T>(ev: Event, use: (v: T) => void) => {
    try {
      use(JSON.parse((ev as MessageEvent<string>).data) as T);
    } catch (err) {
      console.warn("horde: bad stream event", ev.type, err);
    }
  };

  const open = () => {
    timer = undefined;
    if (closed) return;
    const src = new EventSource(url);
    es = src;
    src.onopen = () => {
      backoff = minBackoffMs;
      h.status(true);
    };
    src.onerror = () => {
      h.status(false);
      if (src.readyState !== EventSource.CLOSED || closed) return;
      // The browser gave up (an HTTP error or a wrong content type): retry ourselves.
      timer = setTimeout(open, backoff);
      backoff = Math.min(backoff * 2, maxBackoffMs);
    };
    src.addEventListener("history", (ev) =>
      parse<{ points: Point[] | null }>(ev, (v) => h.history(v.points ?? [])),
    );
    src.addEventListener("point", (ev) => parse<Point>(ev, h.point));
    src.addEventListener("stats", (ev) => parse<Stats>(ev, h.stats));
  };

  open();
  return () => {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    es?.close();
  };
}
