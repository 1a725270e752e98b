/**
 * A real OTLP trace backend for the end-to-end tests: Jaeger v2 (all-in-one,
 * in-memory storage), built from the Go module proxy by
 * scripts/build-jaeger.sh and started on free loopback ports.
 *
 *   const jaeger = await startJaeger();
 *   try {
 *     // export to `${jaeger.otlpHttpUrl}/v1/traces` ...
 *     const trace = await jaeger.waitForTrace(traceId, { minSpans: 2 });
 *     const spans = flattenSpans(trace);
 *   } finally {
 *     await jaeger.stop();
 *   }
 *
 * Shapes returned:
 * - getTrace / waitForTrace return OTLP JSON as Jaeger's API v3 serves it
 *   (`GET /api/v3/traces/{id}`, the `result` member unwrapped): an
 *   {@link OtlpTracesData} with `resourceSpans[].scopeSpans[].spans[]`, ids
 *   as lowercase hex, timestamps and int values as decimal strings.
 *   {@link flattenSpans} turns that into plain objects that are easy to
 *   assert on (decoded attributes, bigint nanosecond times, durations).
 * - findTraces searches with Jaeger's API v1 (`GET /api/traces`, the only
 *   HTTP search that filters on tags; API v3's HTTP gateway ignores
 *   attributes) and then reads each hit through API v3, so it returns the
 *   same OTLP shape, one {@link FoundTrace} per trace.
 *
 * Never leaves Jaeger running: stop() sends SIGTERM to the PID, then SIGKILL
 * after a grace period, and a process 'exit' hook SIGKILLs any instance a
 * test forgot to stop.
 */
import { closeSync, openSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// ---------------------------------------------------------------------------
// OTLP JSON shapes (the subset Jaeger's API v3 returns)

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number | string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpKeyValue[];
  events?: { timeUnixNano: string; name: string; attributes?: OtlpKeyValue[] }[];
  links?: unknown[];
  status?: { code?: number | string; message?: string };
  [k: string]: unknown;
}
export interface OtlpScopeSpans {
  scope?: { name?: string; version?: string; attributes?: OtlpKeyValue[] };
  spans?: OtlpSpan[];
}
export interface OtlpResourceSpans {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeSpans?: OtlpScopeSpans[];
}
export interface OtlpTracesData {
  resourceSpans?: OtlpResourceSpans[];
}
/** One trace found by {@link JaegerHandle.findTraces}. */
export interface FoundTrace extends OtlpTracesData {
  /** 32 lowercase hex digits. */
  traceId: string;
}

export type AttrValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | AttrValue[]
  | { [k: string]: AttrValue };

/** A span of an {@link OtlpTracesData}, flattened and decoded. */
export interface FlatSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** As Jaeger wrote it: a number (OTLP enum) or an enum name. */
  kind: number | string | undefined;
  serviceName: string | undefined;
  scopeName: string | undefined;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  durationNs: bigint;
  durationMs: number;
  attributes: Record<string, AttrValue>;
  resourceAttributes: Record<string, AttrValue>;
  events: { name: string; timeUnixNano: bigint; attributes: Record<string, AttrValue> }[];
  status: { code?: number | string; message?: string } | undefined;
}

export interface FindTracesParams {
  service: string;
  operation?: string;
  /** Matched against span, scope, resource and event attributes, as strings. */
  tags?: Record<string, string>;
  /** Window of span start times, ending now; default 60. */
  lookbackMinutes?: number;
  /** Most traces returned; default 20. */
  limit?: number;
}

export interface WaitForTraceOptions {
  /** Resolve once the trace has at least this many spans; default 1. */
  minSpans?: number;
  /** Default 10000. */
  timeoutMs?: number;
  /** Poll interval; default 100. */
  intervalMs?: number;
}

export interface JaegerHandle {
  /** Base URL of the OTLP/HTTP receiver, e.g. http://127.0.0.1:PORT (POST `${otlpHttpUrl}/v1/traces`). */
  otlpHttpUrl: string;
  /** Endpoint of the OTLP/gRPC receiver (plaintext), e.g. http://127.0.0.1:PORT. */
  otlpGrpcUrl: string;
  /** Endpoint of the OTLP/gRPC receiver with TLS (https://127.0.0.1:PORT), when started with `tls`. */
  otlpGrpcTlsUrl?: string;
  /** Base URL of the query service (API v3 under /api/v3, API v1 under /api). */
  queryUrl: string;
  pid: number;
  /** Temp dir holding config.yaml and jaeger.log (removed by stop()). */
  workDir: string;
  configPath: string;
  /** The YAML config Jaeger was started with. */
  config: string;
  /** Jaeger's stdout+stderr so far. */
  logs(): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000). Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** OTLP JSON (API v3) of the trace, or null when Jaeger does not have it. */
  getTrace(traceIdHex: string): Promise<OtlpTracesData | null>;
  findTraces(params: FindTracesParams): Promise<FoundTrace[]>;
  /** Polls getTrace until the trace has `minSpans` spans; throws on timeout. */
  waitForTrace(traceIdHex: string, opts?: WaitForTraceOptions): Promise<OtlpTracesData>;
}

export interface StartJaegerOptions {
  /** How long to wait for both listeners to answer; default 30000. */
  startTimeoutMs?: number;
  /** Jaeger's own log level; default "info". */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** Also an OTLP/gRPC receiver with TLS, serving this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
}

// ---------------------------------------------------------------------------
// Build

export const JAEGER_VERSION = "v1.76.0";
const REPO_ROOT = resolve(import.meta.dir, "../..");
const BUILD_SCRIPT = join(REPO_ROOT, "scripts/build-jaeger.sh");

let buildPromise: Promise<string> | undefined;

/**
 * Path of the Jaeger binary, building it with scripts/build-jaeger.sh when it
 * is not cached yet (the first build takes minutes). `STARTUP_TRACER_JAEGER_BIN`
 * overrides the path. Rejects with the script's output when the build fails.
 */
export function buildJaeger(): Promise<string> {
  buildPromise ??= doBuildJaeger();
  // A failed build is not cached: a later call tries again.
  buildPromise.catch(() => {
    buildPromise = undefined;
  });
  return buildPromise;
}

async function doBuildJaeger(): Promise<string> {
  const override = process.env.STARTUP_TRACER_JAEGER_BIN;
  if (override) {
    if (!(await Bun.file(override).exists())) {
      throw new Error(`STARTUP_TRACER_JAEGER_BIN=${override} does not exist`);
    }
    return override;
  }
  const env = { ...process.env };
  // The machine's Go lives here; CI may not have it on PATH.
  env.PATH = `${env.PATH ?? "/usr/bin:/bin"}:/usr/local/go/bin`;
  const proc = Bun.spawn(["bash", BUILD_SCRIPT], {
    cwd: REPO_ROOT,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  // Show build progress live (a cold build takes minutes) and keep it for the error.
  let errText = "";
  const errDone = (async () => {
    const dec = new TextDecoder();
    const reader = proc.stderr.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const s = dec.decode(value, { stream: true });
      errText += s;
      process.stderr.write(s);
    }
  })();
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  await errDone;
  const lines = out.trim().split("\n");
  const path = lines[lines.length - 1]?.trim() ?? "";
  if (code !== 0 || !path) {
    throw new Error(
      `Building Jaeger ${JAEGER_VERSION} failed: ${BUILD_SCRIPT} exited with code ${code}.\n` +
        `The e2e suite needs a Go toolchain (>= 1.24; looked on PATH and in /usr/local/go/bin) ` +
        `and the Go module proxy (or a warm module cache).\n` +
        `--- build output (tail) ---\n${tail(errText + out, 4000)}`,
    );
  }
  if (!(await Bun.file(path).exists())) {
    throw new Error(`${BUILD_SCRIPT} printed ${path}, which does not exist`);
  }
  return path;
}

// ---------------------------------------------------------------------------
// Start / stop

/** PID -> work dir of every instance not yet stopped. */
const live = new Map<number, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const [pid, workDir] of live) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
      if (process.env.STARTUP_TRACER_KEEP_JAEGER_DIR !== "1") rmSync(workDir, { recursive: true, force: true });
    }
  });
}

/** Free TCP ports on 127.0.0.1, all distinct (held open together, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import("node:net").Server>((res, rej) => {
          const s = createServer();
          s.once("error", rej);
          s.listen(0, "127.0.0.1", () => res(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === "string") throw new Error("no port");
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** The Jaeger v2 config used by {@link startJaeger}; every listener on 127.0.0.1. */
export function jaegerConfig(p: {
  otlpHttpPort: number;
  otlpGrpcPort: number;
  otlpGrpcTls?: { port: number; certFile: string; keyFile: string };
  queryHttpPort: number;
  queryGrpcPort: number;
  logLevel?: string;
}): string {
  return `# Written by test/helpers/jaeger.ts: Jaeger v2 all-in-one for e2e tests.
# In-memory storage; only loopback listeners; OTLP over HTTP and gRPC, no
# Jaeger or Zipkin receivers; no batch processor (spans are stored as soon as they arrive);
# no internal-metrics endpoint (the collector's default would take :8888).
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp${p.otlpGrpcTls ? ", otlp/tls" : ""}]
      processors: []
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: ${p.logLevel ?? "info"}

extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:${p.queryHttpPort}
    grpc:
      # jaeger_query always serves gRPC too: keep it on loopback.
      endpoint: 127.0.0.1:${p.queryGrpcPort}

receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${p.otlpHttpPort}
      grpc:
        endpoint: 127.0.0.1:${p.otlpGrpcPort}
${p.otlpGrpcTls ? `  otlp/tls:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${p.otlpGrpcTls.port}
        tls:
          cert_file: ${p.otlpGrpcTls.certFile}
          key_file: ${p.otlpGrpcTls.keyFile}
` : ""}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

/** Builds Jaeger if needed, starts it on free loopback ports and waits until it accepts OTLP and queries. */
export async function startJaeger(opts: StartJaegerOptions = {}): Promise<JaegerHandle> {
  const bin = await buildJaeger();
  let lastErr: unknown;
  // A port picked free can be taken before Jaeger binds it: retry with new ones.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, opts);
    } catch (e) {
      lastErr = e;
      if (!(e instanceof PortInUseError)) throw e;
    }
  }
  throw lastErr;
}

class PortInUseError extends Error {}

async function startOnce(bin: string, opts: StartJaegerOptions): Promise<JaegerHandle> {
  const [otlpHttpPort, queryHttpPort, queryGrpcPort, otlpGrpcPort, tlsPort] = await freePorts(5);
  const otlpGrpcTls = opts.tls ? { port: tlsPort, ...opts.tls } : undefined;
  const workDir = await mkdtemp(join(tmpdir(), "startup-tracer-jaeger-"));
  const configPath = join(workDir, "config.yaml");
  const logPath = join(workDir, "jaeger.log");
  const config = jaegerConfig({ otlpHttpPort, otlpGrpcPort, otlpGrpcTls, queryHttpPort, queryGrpcPort, logLevel: opts.logLevel });
  await writeFile(configPath, config);

  installExitHook();
  // One O_APPEND descriptor for both streams, so they interleave instead of overwriting.
  const logFd = openSync(logPath, "a");
  let proc: Bun.Subprocess;
  try {
    proc = Bun.spawn([bin, "--config", configPath], {
      cwd: workDir,
      stdin: "ignore",
      stdout: logFd,
      stderr: logFd,
    });
  } finally {
    closeSync(logFd);
  }
  live.set(proc.pid, workDir);

  const otlpHttpUrl = `http://127.0.0.1:${otlpHttpPort}`;
  const otlpGrpcUrl = `http://127.0.0.1:${otlpGrpcPort}`;
  const queryUrl = `http://127.0.0.1:${queryHttpPort}`;
  const logs = async () => {
    try {
      return await readFile(logPath, "utf8");
    } catch {
      return "";
    }
  };

  let stopped: Promise<void> | undefined;
  const stop = (graceMs = 5000): Promise<void> => {
    stopped ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        try {
          process.kill(proc.pid, "SIGTERM");
        } catch {
          // already gone
        }
        const exitedInTime = await Promise.race([
          proc.exited.then(() => true),
          Bun.sleep(graceMs).then(() => false),
        ]);
        if (!exitedInTime) {
          try {
            process.kill(proc.pid, "SIGKILL");
          } catch {
            // already gone
          }
          await proc.exited;
        }
      }
      live.delete(proc.pid);
      if (process.env.STARTUP_TRACER_KEEP_JAEGER_DIR !== "1") {
        await rm(workDir, { recursive: true, force: true });
      }
    })();
    return stopped;
  };

  // Wait for both listeners.
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30000);
  let otlpReady = false;
  let queryReady = false;
  let grpcReady = false;
  while (!(otlpReady && queryReady && grpcReady)) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      const log = await logs();
      await stop();
      const msg = `Jaeger exited during start-up (code ${proc.exitCode}, signal ${proc.signalCode}).\n--- jaeger log (tail) ---\n${tail(log, 4000)}`;
      throw /address already in use/i.test(log) ? new PortInUseError(msg) : new Error(msg);
    }
    if (Date.now() > deadline) {
      const log = await logs();
      await stop();
      throw new Error(
        `Jaeger did not become ready in ${opts.startTimeoutMs ?? 30000} ms (otlp ${otlpReady}, otlp grpc ${grpcReady}, query ${queryReady}).\n--- jaeger log (tail) ---\n${tail(log, 4000)}`,
      );
    }
    if (!otlpReady) {
      otlpReady = await probe(`${otlpHttpUrl}/v1/traces`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"resourceSpans":[]}',
      });
    }
    if (!queryReady) queryReady = await probe(`${queryUrl}/api/v3/services`, {});
    if (!grpcReady) grpcReady = (await tcpOpen(otlpGrpcPort)) && (!otlpGrpcTls || (await tcpOpen(otlpGrpcTls.port)));
    if (!(otlpReady && queryReady && grpcReady)) await Bun.sleep(100);
  }

  const getTrace = async (traceIdHex: string): Promise<OtlpTracesData | null> => {
    const id = normalizeTraceId(traceIdHex);
    const res = await fetch(`${queryUrl}/api/v3/traces/${id}`);
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /api/v3/traces/${id}: HTTP ${res.status}: ${text}`);
    const body = JSON.parse(text) as { result?: OtlpTracesData };
    return body.result ?? { resourceSpans: [] };
  };

  const findTraces = async (params: FindTracesParams): Promise<FoundTrace[]> => {
    const endUs = (Date.now() + 60_000) * 1000; // a little slack for clock jitter
    const startUs = (Date.now() - (params.lookbackMinutes ?? 60) * 60_000) * 1000;
    const q = new URLSearchParams({
      service: params.service,
      start: String(startUs),
      end: String(endUs),
      limit: String(params.limit ?? 20),
    });
    if (params.operation) q.set("operation", params.operation);
    if (params.tags && Object.keys(params.tags).length > 0) q.set("tags", JSON.stringify(params.tags));
    const res = await fetch(`${queryUrl}/api/traces?${q}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /api/traces?${q}: HTTP ${res.status}: ${text}`);
    const body = JSON.parse(text) as { data?: { traceID: string }[] | null };
    const ids = [...new Set((body.data ?? []).map((t) => normalizeTraceId(t.traceID)))];
    const out: FoundTrace[] = [];
    for (const traceId of ids) {
      const t = await getTrace(traceId);
      if (t) out.push({ traceId, ...t });
    }
    return out;
  };

  const waitForTrace = async (traceIdHex: string, o: WaitForTraceOptions = {}): Promise<OtlpTracesData> => {
    const minSpans = o.minSpans ?? 1;
    const timeoutMs = o.timeoutMs ?? 10_000;
    const until = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      const t = await getTrace(traceIdHex);
      seen = t ? countSpans(t) : 0;
      if (t && seen >= minSpans) return t;
      if (Date.now() >= until) {
        throw new Error(
          `Trace ${traceIdHex} did not reach ${minSpans} span(s) in Jaeger within ${timeoutMs} ms (saw ${seen}).`,
        );
      }
      await Bun.sleep(o.intervalMs ?? 100);
    }
  };

  return {
    otlpHttpUrl,
    otlpGrpcUrl,
    otlpGrpcTlsUrl: otlpGrpcTls ? `https://127.0.0.1:${otlpGrpcTls.port}` : undefined,
    queryUrl,
    pid: proc.pid,
    workDir,
    configPath,
    config,
    logs,
    stop,
    getTrace,
    findTraces,
    waitForTrace,
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:port (bounded to 2 s). */
export async function tcpOpen(port: number): Promise<boolean> {
  try {
    const sock = await Promise.race([
      Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }),
      Bun.sleep(2000).then(() => null),
    ]);
    if (!sock) return false;
    sock.end();
    return true;
  } catch {
    return false;
  }
}

async function probe(url: string, init: RequestInit): Promise<boolean> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// OTLP JSON helpers

/** 32 lowercase hex digits (Jaeger's API v1 drops a zero high half). */
export function normalizeTraceId(id: string): string {
  const s = id.trim().toLowerCase();
  if (!/^[0-9a-f]{1,32}$/.test(s)) throw new Error(`not a hex trace id: ${JSON.stringify(id)}`);
  return s.padStart(32, "0");
}

export function countSpans(t: OtlpTracesData): number {
  let n = 0;
  for (const rs of t.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  return n;
}

/** Decodes an OTLP AnyValue: int64 to number (bigint past 2^53), arrays and kvlists recursively. */
export function anyValueToJs(v: OtlpAnyValue | undefined): AttrValue {
  if (v === undefined || v === null) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const b = BigInt(v.intValue);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValueToJs);
  if (v.kvlistValue !== undefined) return attributesToObject(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  // OTLP JSON omits zero values: {} with a known key is an empty string/0/false we cannot tell apart.
  return null;
}

export function attributesToObject(kvs: OtlpKeyValue[] | undefined): Record<string, AttrValue> {
  const o: Record<string, AttrValue> = {};
  for (const kv of kvs ?? []) o[kv.key] = anyValueToJs(kv.value);
  return o;
}

/** All spans of a trace, flattened, decoded, in start-time order. */
export function flattenSpans(t: OtlpTracesData): FlatSpan[] {
  const out: FlatSpan[] = [];
  for (const rs of t.resourceSpans ?? []) {
    const resourceAttributes = attributesToObject(rs.resource?.attributes);
    const svc = resourceAttributes["service.name"];
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const start = BigInt(s.startTimeUnixNano ?? 0);
        const end = BigInt(s.endTimeUnixNano ?? 0);
        out.push({
          traceId: hexId(s.traceId),
          spanId: hexId(s.spanId),
          parentSpanId: s.parentSpanId ? hexId(s.parentSpanId) : "",
          name: s.name,
          kind: s.kind,
          serviceName: typeof svc === "string" ? svc : undefined,
          scopeName: ss.scope?.name,
          startTimeUnixNano: start,
          endTimeUnixNano: end,
          durationNs: end - start,
          durationMs: Number(end - start) / 1e6,
          attributes: attributesToObject(s.attributes),
          resourceAttributes,
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            timeUnixNano: BigInt(e.timeUnixNano ?? 0),
            attributes: attributesToObject(e.attributes),
          })),
          status: s.status,
        });
      }
    }
  }
  out.sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0));
  return out;
}

/** Ids come back as hex in OTLP JSON; accept base64 too (proto3 JSON's default for bytes). */
function hexId(id: string): string {
  if (/^[0-9a-fA-F]+$/.test(id) && (id.length === 16 || id.length === 32)) return id.toLowerCase();
  return Buffer.from(id, "base64").toString("hex");
}

function tail(s: string, n: number): string {
  return s.length <= n ? s : `…${s.slice(-n)}`;
}
