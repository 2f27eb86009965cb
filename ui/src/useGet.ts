// useGet fetches a JSON document of the API for a component: again when
// its path or one of the extra keys changes, and on reload(). The last
// good answer stays while a new one loads, so a list does not blink.

import { useEffect, useState } from "preact/hooks";
import { APIError, getJSON } from "./api";

/** What useGet holds. */
export interface Got<T> {
  data: T | null;
  /** The last failure, cleared by the next success. */
  error: APIError | null;
  loading: boolean;
  reload(): void;
}

/** useGet fetches apiBase + path (null: nothing) as T, which the API contract vouches for. */
export function useGet<T>(path: string | null, ...keys: unknown[]): Got<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<APIError | null>(null);
  const [loading, setLoading] = useState(path !== null);
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    setLoading(true);
    getJSON(path, ctl.signal).then(
      (body) => {
        setData(body as T);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setError(err instanceof APIError ? err : new APIError(String(err), 0));
        setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [path, reloads, ...keys]);
  return { data, error, loading, reload: () => setReloads((n) => n + 1) };
}
