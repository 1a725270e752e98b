// Delivers a finished trace without ever holding up the child or losing it:
// - no endpoint configured: an OTLP/JSON file under the state directory;
// - an endpoint: OTLP/HTTP (protobuf or JSON) or OTLP/gRPC with retries and
//   backoff inside a deadline; whatever could not be sent is spooled (already
//   encoded) under the state directory and sent by the next run or by
//   `startup-tracer flush`. gRPC carries the same protobuf body as OTLP/HTTP;
//   its transport (grpc-export.ts) is loaded only when the protocol is grpc.
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { ExportConfig } from "./otel-config.ts";
import { redactText } from "../redact/redact.ts";

export interface DeliveryResult {
  /** "sent", "file", "spooled", "console", "disabled" or "lost" (spool unwritable). */
  how: "sent" | "file" | "spooled" | "console" | "disabled" | "lost";
  path?: string;
  url?: string;
  error?: string;
}

interface SpoolMeta {
  /** The body's encoding; "application/grpc" is the protobuf body meant for OTLP/gRPC. */
  contentType: string;
  url: string;
  traceId: string;
  createdAt: string;
}

export const GRPC_CONTENT_TYPE = "application/grpc";

export function encode(spans: ReadableSpan[], protocol: ExportConfig["protocol"]): { body: Uint8Array; contentType: string } {
  if (protocol === "http/json") {
    return { body: JsonTraceSerializer.serializeRequest(spans as never)!, contentType: "application/json" };
  }
  const body = ProtobufTraceSerializer.serializeRequest(spans as never)!;
  return { body, contentType: protocol === "grpc" ? GRPC_CONTENT_TYPE : "application/x-protobuf" };
}

type Attempt = { ok: boolean; status?: number; error?: string; permanent?: boolean };

/** Sends one body over gRPC or HTTP, by its content type, retried until the deadline. */
async function sendWithRetry(url: string, body: Uint8Array, contentType: string, headers: Record<string, string>,
  deadlineMs: number, timeoutMs: number, cut?: AbortSignal): Promise<Attempt> {
  if (contentType !== GRPC_CONTENT_TYPE) return postWithRetry(url, body, contentType, headers, deadlineMs, timeoutMs, cut);
  const { sendGrpc } = await import("./grpc-export.ts");
  return retryUntil(deadlineMs, cut, async (remaining) => {
    const attempt = sendGrpc(url, body, headers, Math.min(timeoutMs, remaining));
    // A cut (the child is gone) stops waiting at once: what is unsent is spooled.
    if (!cut) return attempt;
    return Promise.race([attempt, new Promise<Attempt>((resolve) => {
      if (cut.aborted) resolve({ ok: false, error: "cut short" });
      cut.addEventListener("abort", () => resolve({ ok: false, error: "cut short" }), { once: true });
    })]);
  });
}

/** Calls `attempt` with exponential backoff and jitter until it succeeds, fails for good, or the deadline passes. */
async function retryUntil(deadlineMs: number, cut: AbortSignal | undefined, attempt: (remainingMs: number) => Promise<Attempt>): Promise<Attempt> {
  let n = 0;
  let last: Attempt = { ok: false, error: "deadline passed before the first attempt" };
  while (Date.now() < deadlineMs && !cut?.aborted) {
    last = await attempt(deadlineMs - Date.now());
    if (last.ok || last.permanent) return last;
    n++;
    const backoff = Math.min(2000, 100 * 2 ** n) * (0.5 + Math.random() * 0.5);
    if (Date.now() + backoff >= deadlineMs || cut?.aborted) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, backoff);
      cut?.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }
  return last;
}

/** POSTs one OTLP body with retries (exponential backoff with jitter) until the deadline. */
export async function postWithRetry(url: string, body: Uint8Array, contentType: string, headers: Record<string, string>,
  deadlineMs: number, timeoutMs: number, cut?: AbortSignal): Promise<{ ok: boolean; status?: number; error?: string; permanent?: boolean }> {
  let attempt = 0;
  let last: { ok: boolean; status?: number; error?: string; permanent?: boolean } = { ok: false, error: "deadline passed before the first attempt" };
  while (Date.now() < deadlineMs && !cut?.aborted) {
    const remaining = deadlineMs - Date.now();
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { ...headers, "content-type": contentType },
        body: body as unknown as BodyInit,
        signal: cut ? AbortSignal.any([cut, AbortSignal.timeout(Math.max(50, Math.min(timeoutMs, remaining)))])
          : AbortSignal.timeout(Math.max(50, Math.min(timeoutMs, remaining))),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, status: res.status };
      // 4xx other than 408/429 will not get better by retrying.
      const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
      last = { ok: false, status: res.status, error: `HTTP ${res.status}`, permanent: !retryable };
      if (!retryable) return last;
    } catch (e) {
      last = { ok: false, error: (e as Error).message || String(e) };
    }
    attempt++;
    const backoff = Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() * 0.5);
    if (Date.now() + backoff >= deadlineMs || cut?.aborted) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, backoff);
      cut?.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }
  return last;
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function spoolDir(stateDir: string): string {
  return join(stateDir, "spool");
}

function spool(stateDir: string, traceId: string, body: Uint8Array, meta: SpoolMeta): string {
  const dir = spoolDir(stateDir);
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${Date.now()}-${traceId}`);
  writeAtomically(`${base}.meta.json`, JSON.stringify(meta));
  writeAtomically(`${base}.otlp`, body);
  return `${base}.otlp`;
}

export async function deliver(spans: ReadableSpan[], cfg: ExportConfig, stateDir: string, traceId: string,
  deadlineMs: number, cut?: AbortSignal): Promise<DeliveryResult> {
  if (!cfg.enabled) return { how: "disabled" };
  if (cfg.exporter === "console") {
    process.stderr.write(`${redactText(new TextDecoder().decode(encode(spans, "http/json").body))}\n`);
    return { how: "console" };
  }
  if (!cfg.url) {
    try {
      const dir = join(stateDir, "traces");
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${traceId}.otlp.json`);
      writeAtomically(path, redactText(new TextDecoder().decode(encode(spans, "http/json").body)));
      return { how: "file", path };
    } catch (e) {
      return { how: "lost", error: `cannot write the trace file under ${stateDir}: ${(e as Error).message}` };
    }
  }
  const { body, contentType } = encode(spans, cfg.protocol);
  const r = await sendWithRetry(cfg.url, body, contentType, cfg.headers, deadlineMs, cfg.timeoutMs, cut);
  if (r.ok) return { how: "sent", url: cfg.url };
  try {
    const path = spool(stateDir, traceId, body, { contentType, url: cfg.url, traceId, createdAt: new Date().toISOString() });
    return { how: "spooled", path, url: cfg.url, error: r.error };
  } catch (e) {
    return { how: "lost", url: cfg.url, error: `${r.error}; and the spool is not writable: ${(e as Error).message}` };
  }
}

/**
 * Where and how a spooled body goes: to the endpoint configured now, with the
 * protocol configured now, when there is one; else where it was meant to go.
 * A protobuf body travels over gRPC or HTTP alike; an OTLP/JSON one only over HTTP.
 */
function flushTarget(meta: SpoolMeta, cfg: ExportConfig): { url: string; contentType: string } | { error: string } {
  if (!cfg.url) return { url: meta.url, contentType: meta.contentType };
  if (meta.contentType === "application/json") {
    if (cfg.protocol === "grpc") return { error: "spooled as OTLP/JSON, which gRPC cannot carry: flush it to an OTLP/HTTP endpoint" };
    return { url: cfg.url, contentType: meta.contentType };
  }
  return { url: cfg.url, contentType: cfg.protocol === "grpc" ? GRPC_CONTENT_TYPE : "application/x-protobuf" };
}

export interface FlushResult {
  sent: number;
  failed: number;
  remaining: number;
  errors: string[];
}

/**
 * Sends spooled traces. They go to the endpoint configured now when there is
 * one (a fleet may have moved its collector), else to the one they were meant for.
 */
export async function flushSpool(stateDir: string, cfg: ExportConfig, deadlineMs: number): Promise<FlushResult> {
  const dir = spoolDir(stateDir);
  const out: FlushResult = { sent: 0, failed: 0, remaining: 0, errors: [] };
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".otlp")).sort();
  } catch {
    return out;
  }
  for (const f of files) {
    const path = join(dir, f);
    const metaPath = path.replace(/\.otlp$/, ".meta.json");
    let meta: SpoolMeta;
    let body: Uint8Array;
    try {
      meta = JSON.parse(readFileSync(metaPath, "utf8"));
      body = readFileSync(path);
    } catch (e) {
      out.failed++;
      out.errors.push(`${f}: unreadable (${(e as Error).message})`);
      continue;
    }
    const target = flushTarget(meta, cfg);
    const r = "error" in target ? { ok: false, error: target.error }
      : Date.now() < deadlineMs
        ? await sendWithRetry(target.url, body, target.contentType, cfg.headers, Math.min(deadlineMs, Date.now() + 5000), cfg.timeoutMs)
        : { ok: false, error: "deadline" };
    if (r.ok) {
      out.sent++;
      try { unlinkSync(path); unlinkSync(metaPath); } catch { /* already gone */ }
    } else {
      out.failed++;
      out.errors.push(`${f}: ${r.error}`);
    }
  }
  try {
    out.remaining = readdirSync(dir).filter((f) => f.endsWith(".otlp")).length;
  } catch { /* none */ }
  return out;
}
