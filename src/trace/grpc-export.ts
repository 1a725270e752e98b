// OTLP/gRPC transport for an already-encoded ExportTraceServiceRequest, through
// the OpenTelemetry JS gRPC exporter's own machinery
// (@opentelemetry/otlp-grpc-exporter-base, the transport behind
// @opentelemetry/exporter-trace-otlp-grpc; same release line as the rest).
// Why bytes and not spans: the body that is sent, spooled and later flushed is
// one and the same (the protobuf body of OTLP/HTTP), so a spooled trace can go
// out over gRPC or HTTP alike.
//
// The package reads the standard variables itself: OTEL_EXPORTER_OTLP_(TRACES_)
// HEADERS, _INSECURE, _CERTIFICATE, _CLIENT_KEY, _CLIENT_CERTIFICATE, _COMPRESSION.
// An http:// endpoint is plaintext, https:// is TLS (with _CERTIFICATE as the
// root when set), a bare host:port follows _INSECURE (TLS unless true).
//
// Loaded only when the protocol is grpc (deliver.ts imports this lazily), and
// through require(): the package's ESM build resolves @grpc/grpc-js at run time
// with createRequire, which a `bun build --compile` binary cannot serve; the CJS
// build's plain require() is bundled.
import type { IExportTraceServiceResponse as ExportTraceServiceResponse } from "@opentelemetry/otlp-transformer";
import { redactText } from "../redact/redact.ts";

type GrpcBase = typeof import("@opentelemetry/otlp-grpc-exporter-base");
type Transformer = typeof import("@opentelemetry/otlp-transformer");

export interface GrpcSendResult {
  ok: boolean;
  error?: string;
  /** A status that retrying cannot fix (OTLP spec: only some codes are retryable). */
  permanent?: boolean;
}

// OTLP/gRPC: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
// OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS are retryable; the rest are not.
const RETRYABLE = new Set([1, 4, 8, 10, 11, 14, 15]);

const TRACE_SERVICE = "TraceExportService";
const TRACE_EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/**
 * Bun's tls.connect refuses an IP address as `servername` (Node ignores it: RFC 6066 has no SNI
 * for addresses), and @grpc/grpc-js always passes the target host as one, so TLS to
 * https://10.0.0.5:4317 would never connect. For an IP literal the option is dropped; the
 * certificate is still checked against the address (`host`). Installed once, only for gRPC.
 */
function allowIpTargetsOverTls(): void {
  const tls = require("tls") as { connect: (...a: unknown[]) => unknown; __startupTracerIpSni?: true };
  if (tls.__startupTracerIpSni) return;
  const { isIP } = require("net") as typeof import("node:net");
  const connect = tls.connect;
  tls.connect = function (this: unknown, ...a: unknown[]) {
    const o = a[0] as { servername?: unknown } | undefined;
    if (o && typeof o === "object" && typeof o.servername === "string" && isIP(o.servername)) {
      const { servername: _ip, ...rest } = o;
      a[0] = rest;
    }
    return connect.apply(this, a);
  };
  tls.__startupTracerIpSni = true;
}

/** The endpoint as the gRPC exporter wants it: scheme kept (it picks the credentials), path dropped. */
export function grpcTarget(endpoint: string): string {
  const e = endpoint.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(e)) return e; // host:port
  const u = new URL(e);
  return `${u.protocol}//${u.host}`;
}

/**
 * Sends one encoded request over OTLP/gRPC, bounded by `timeoutMs`. Never
 * throws; a fresh channel per call, closed afterwards, so an attempt never
 * outlives its deadline and a retry connects afresh.
 */
export function sendGrpc(endpoint: string, body: Uint8Array, headers: Record<string, string>, timeoutMs: number): Promise<GrpcSendResult> {
  let delegate: ReturnType<GrpcBase["createOtlpGrpcExportDelegate"]> | undefined;
  try {
    allowIpTargetsOverTls();
    const base = require("@opentelemetry/otlp-grpc-exporter-base") as GrpcBase;
    const { ProtobufTraceSerializer } = require("@opentelemetry/otlp-transformer") as Transformer;
    // Headers the tracer parsed (and warned about); the package adds those of the environment it parsed itself.
    const metadata = base.createEmptyMetadata();
    for (const [k, v] of Object.entries(headers)) metadata.set(k.toLowerCase(), v);
    const options = base.convertLegacyOtlpGrpcOptions(
      { url: grpcTarget(endpoint), metadata, timeoutMillis: Math.max(50, Math.round(timeoutMs)), concurrencyLimit: 1 }, "TRACES");
    const passThrough = {
      serializeRequest: (b: Uint8Array) => b,
      deserializeResponse: (b: Uint8Array): ExportTraceServiceResponse => ProtobufTraceSerializer.deserializeResponse(b),
    };
    delegate = base.createOtlpGrpcExportDelegate(options, passThrough, "otlp_grpc_span_exporter",
      { name: "span", countItems: () => 0 }, undefined, TRACE_SERVICE, TRACE_EXPORT_PATH);
  } catch (e) {
    return Promise.resolve({ ok: false, error: `gRPC exporter: ${redactText((e as Error).message)}`, permanent: true });
  }
  const d = delegate;
  return new Promise<GrpcSendResult>((resolve) => {
    d.export(body, (r) => {
      if (r.code === 0) resolve({ ok: true });
      else {
        const err = r.error as (Error & { code?: number; details?: string }) | undefined;
        const code = typeof err?.code === "number" ? err.code : undefined;
        const message = redactText((err?.message ?? "gRPC export failed").replace(/\.?\s*Resolution note:\s*$/, ""));
        resolve({ ok: false, error: message, permanent: code !== undefined && !RETRYABLE.has(code) });
      }
    });
  }).finally(() => {
    d.shutdown().catch(() => undefined);
  });
}
