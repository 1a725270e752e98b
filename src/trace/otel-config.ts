// Reads the OpenTelemetry exporter configuration the way the spec defines it,
// including the variables SDK 3.x no longer reads itself (OTEL_SDK_DISABLED,
// OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_PROTOCOL). Bad values produce a
// one-line warning naming the variable; they never stop anything.
import { redactText } from "../redact/redact.ts";

export type Protocol = "http/protobuf" | "http/json" | "grpc";

export interface ExportConfig {
  /** false when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. */
  enabled: boolean;
  exporter: "otlp" | "console" | "none";
  /** Full URL spans are POSTed to (gRPC: the endpoint, `http(s)://host:port` or
   * `host:port`), or null when no endpoint is configured. */
  url: string | null;
  protocol: Protocol;
  headers: Record<string, string>;
  timeoutMs: number;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  warnings: string[];
}

function tracesUrl(base: string): string {
  const b = base.replace(/\/+$/, "");
  return b.endsWith("/v1/traces") ? b : `${b}/v1/traces`;
}

function validUrl(u: string): boolean {
  try {
    const p = new URL(u);
    return p.protocol === "http:" || p.protocol === "https:";
  } catch {
    return false;
  }
}

/** `k1=v1,k2=v2` with percent-encoding (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS). */
export function parseKeyValueList(v: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  if (!v.trim()) return out;
  for (const part of v.split(",")) {
    if (!part.trim()) continue;
    const eq = part.indexOf("=");
    if (eq <= 0) return null;
    try {
      const k = decodeURIComponent(part.slice(0, eq).trim());
      const val = decodeURIComponent(part.slice(eq + 1).trim());
      if (!k) return null;
      out[k] = val;
    } catch {
      return null;
    }
  }
  return out;
}

/** gRPC endpoints may also be a bare `host:port` (vLLM's own examples use that form). */
function validGrpcEndpoint(u: string): boolean {
  return validUrl(u) || /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(u);
}

export function readExportConfig(env: Record<string, string | undefined>, flags: { otlpEndpoint?: string } = {}): ExportConfig {
  const warnings: string[] = [];
  // The protocol first: it decides how an endpoint is read (gRPC has no /v1/traces path).
  let protocol: Protocol = "http/protobuf";
  const pv = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "").trim().toLowerCase();
  const pname = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  if (pv === "http/json" || pv === "http/protobuf" || pv === "grpc") protocol = pv;
  else if (pv) warnings.push(`${pname}=${pv}: unknown protocol, using http/protobuf`);
  const grpc = protocol === "grpc";
  const valid = grpc ? validGrpcEndpoint : validUrl;
  const what = grpc ? "not an http(s) URL or host:port" : "not an http(s) URL";
  const disabled = (env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true";
  let exporter: ExportConfig["exporter"] = "otlp";
  const te = (env.OTEL_TRACES_EXPORTER ?? "").trim().toLowerCase();
  if (te) {
    const first = te.split(",")[0].trim();
    if (first === "otlp" || first === "console" || first === "none") exporter = first;
    else warnings.push(`OTEL_TRACES_EXPORTER=${first}: unsupported exporter, using otlp`);
  }

  let url: string | null = null;
  // gRPC endpoints are used as given (the exporter ignores a path); HTTP base URLs get /v1/traces.
  const base = (v: string) => (grpc ? v : tracesUrl(v));
  if (flags.otlpEndpoint !== undefined) {
    const v = flags.otlpEndpoint.trim();
    if (valid(v)) url = base(v);
    else warnings.push(`--otlp-endpoint ${redactText(flags.otlpEndpoint)}: ${what}, ignored`);
  }
  if (!url && env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    const v = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.trim();
    if (valid(v)) url = v; // used as-is, per the spec
    else warnings.push(`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=${redactText(v)}: ${what}, ignored`);
  }
  if (!url && env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    const v = env.OTEL_EXPORTER_OTLP_ENDPOINT.trim();
    if (valid(v)) url = base(v);
    else warnings.push(`OTEL_EXPORTER_OTLP_ENDPOINT=${redactText(v)}: ${what}, ignored`);
  }

  const headers: Record<string, string> = {};
  for (const name of ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"]) {
    const v = env[name];
    if (!v) continue;
    const parsed = parseKeyValueList(v);
    if (parsed) Object.assign(headers, parsed);
    else warnings.push(`${name}: malformed (expected key=value,key=value), ignored`);
  }

  let timeoutMs = 10_000;
  const tv = env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT;
  const tname = env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT" : "OTEL_EXPORTER_OTLP_TIMEOUT";
  if (tv) {
    const n = Number(tv);
    if (Number.isFinite(n) && n > 0) timeoutMs = n;
    else warnings.push(`${tname}=${redactText(tv)}: not a positive number of milliseconds, using 10000`);
  }

  let resourceAttributes: Record<string, string> = {};
  if (env.OTEL_RESOURCE_ATTRIBUTES) {
    const parsed = parseKeyValueList(env.OTEL_RESOURCE_ATTRIBUTES);
    if (parsed) resourceAttributes = parsed;
    else warnings.push("OTEL_RESOURCE_ATTRIBUTES: malformed (expected key=value,key=value), ignored");
  }
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || resourceAttributes["service.name"] || "startup-tracer";

  return {
    enabled: !disabled && exporter !== "none",
    exporter, url, protocol, headers, timeoutMs, serviceName, resourceAttributes, warnings,
  };
}
