// Shared delivery for the alert sinks: POST JSON with a short timeout and a
// couple of retries; never throws, and tracks in-flight sends so the caller can
// await them at shutdown. Every payload passes through the redaction rule
// (src/redact/redact.ts): the model, the host and the texts built from them may
// carry credentials (a model given as a URL with a token).
import { redactDeep, redactText } from "../redact/redact.ts";

export interface DeliveryOptions {
  /** Per-attempt timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Retries after the first attempt (network error, timeout, 408, 429, 5xx). Default 2. */
  retries?: number;
  /** Wait before the first retry, doubled each time. Default 250 ms. */
  backoffMs?: number;
  /** Extra request headers (e.g. Authorization). Never logged. */
  headers?: Record<string, string>;
  /** Told about a delivery that finally failed: one line, without secrets. */
  onError?: (message: string) => void;
}

export interface DeliveryResult {
  ok: boolean;
  status: number | null;
  attempts: number;
  error?: string;
}

/** The URL as safe to show: no user info, query or fragment. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "<invalid URL>";
  }
}

const sleep = (ms: number) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    (t as { unref?: () => void }).unref?.();
  });

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** POST `body` as JSON. Resolves (never rejects) once delivered or given up. */
export async function postJson(url: string, body: unknown, opts: DeliveryOptions = {}): Promise<DeliveryResult> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const retries = Math.max(0, opts.retries ?? 2);
  const backoffMs = opts.backoffMs ?? 250;
  let payload: string;
  try {
    payload = JSON.stringify(redactDeep(body));
  } catch (e) {
    return { ok: false, status: null, attempts: 0, error: `cannot encode: ${(e as Error).message}` };
  }
  let last: DeliveryResult = { ok: false, status: null, attempts: 0 };
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(opts.headers ?? {}) },
        body: payload,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "error",
      });
      // Drain the body so the connection can be reused; a refusal's reason goes into the error
      // (Alertmanager says which label or field it rejected).
      const text = await res.text().catch(() => "");
      if (res.ok) return { ok: true, status: res.status, attempts: attempt };
      const why = text.trim().replace(/\s+/g, " ").slice(0, 200);
      last = { ok: false, status: res.status, attempts: attempt, error: `HTTP ${res.status}${why ? `: ${redactText(why)}` : ""}` };
      if (!retryable(res.status)) break;
    } catch (e) {
      const err = e as Error;
      const why = err?.name === "TimeoutError" || err?.name === "AbortError" ? `timed out after ${timeoutMs} ms` : (err?.message ?? String(e)).split("\n")[0];
      last = { ok: false, status: null, attempts: attempt, error: why };
    }
    if (attempt <= retries) await sleep(backoffMs * 2 ** (attempt - 1));
  }
  try {
    opts.onError?.(`alert delivery to ${redactUrl(url)} failed after ${last.attempts} attempt(s): ${last.error}`);
  } catch {
    /* a failing logger must not surface */
  }
  return last;
}

/** Tracks fire-and-forget sends. */
export class PendingSends {
  private readonly pending = new Set<Promise<unknown>>();

  add<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = () => void this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves when every send started so far (and any they started) has settled. */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}
