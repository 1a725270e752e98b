// OTEL_EXPORTER_OTLP_PROTOCOL=grpc is honoured (no fallback to HTTP): the
// endpoint is read as gRPC exporters read it (as given, no /v1/traces; a bare
// host:port allowed, as in vLLM's docs), the TRACES_ variables win, and the
// encoded body is the OTLP protobuf request, marked for gRPC.
import { describe, expect, test } from "bun:test";
import { readExportConfig } from "../../src/trace/otel-config.ts";
import { GRPC_CONTENT_TYPE } from "../../src/trace/deliver.ts";
import { grpcTarget } from "../../src/trace/grpc-export.ts";

describe("readExportConfig with grpc", () => {
  test("OTEL_EXPORTER_OTLP_PROTOCOL=grpc: no warning, the endpoint as given", () => {
    const c = readExportConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4317" });
    expect(c.warnings).toEqual([]);
    expect(c.protocol).toBe("grpc");
    expect(c.url).toBe("http://collector:4317");
  });

  test("the TRACES_ protocol wins over the general one, both ways", () => {
    expect(readExportConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }).protocol).toBe("grpc");
    const c = readExportConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" });
    expect(c.protocol).toBe("http/protobuf");
    expect(c.url).toBe("http://collector:4318/v1/traces");
  });

  test("a bare host:port is a gRPC endpoint (vLLM's form), never an HTTP one", () => {
    const g = readExportConfig({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "jaeger:4317" });
    expect(g.warnings).toEqual([]);
    expect(g.url).toBe("jaeger:4317");
    const v6 = readExportConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_ENDPOINT: "[::1]:4317" });
    expect(v6.url).toBe("[::1]:4317");
    const h = readExportConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "jaeger:4317" });
    expect(h.url).toBeNull();
    expect(h.warnings[0]).toContain("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  });

  test("--otlp-endpoint overrides the environment and gets no path with grpc", () => {
    const c = readExportConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://a:4317" },
      { otlpEndpoint: "https://b:4317" });
    expect(c.url).toBe("https://b:4317");
    const bad = readExportConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, { otlpEndpoint: "not an endpoint" });
    expect(bad.url).toBeNull();
    expect(bad.warnings).toHaveLength(1);
    expect(bad.warnings[0]).toContain("--otlp-endpoint");
  });

  test("grpcTarget keeps the scheme (it picks TLS or plaintext) and drops a path", () => {
    expect(grpcTarget("http://collector:4317/v1/traces")).toBe("http://collector:4317");
    expect(grpcTarget("https://collector:4317")).toBe("https://collector:4317");
    expect(grpcTarget("collector:4317")).toBe("collector:4317");
    expect(GRPC_CONTENT_TYPE).toBe("application/grpc");
  });
});
