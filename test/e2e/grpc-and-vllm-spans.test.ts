// OTLP/gRPC end to end against Jaeger's OTLP gRPC receiver (plaintext and TLS),
// and vLLM's own spans in the tracer's trace:
// - wrap and import export over gRPC, configured by --otlp-endpoint or by the
//   OTEL_EXPORTER_OTLP_* variables in the form vLLM's docs use (host:port,
//   _INSECURE=true, _TRACES_PROTOCOL=grpc); TLS with _CERTIFICATE;
// - a backend that is down, or whose certificate is not trusted: retried, then
//   spooled; `startup-tracer flush` sends it over gRPC;
// - a stand-in child that traces as vLLM >= 0.16 does
//   (test/fixtures/children/vllm-otel.ts) exports its own spans over gRPC to
//   the same Jaeger: read back, they sit under the tracer's root span in one
//   trace, and the child's environment is the tracer's, plus TRACEPARENT only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flattenSpans, startJaeger, type FlatSpan, type JaegerHandle } from "../helpers/jaeger.ts";
import { LOGS, ROOT, runTracer, tempStateDir, tracerCmd } from "../helpers/tracer.ts";

const SERVICE = "st-e2e-grpc";
const QWEN = join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-qwen-0.5b.log");
const TP8 = join(LOGS, "v0.6.6.post1-l40s-x8-tp8-internvl3-78b-offline-ok.log");
const STAND_IN = join(ROOT, "test", "fixtures", "children", "vllm-otel.ts");
// Nothing from the test runner's own OTEL_* configuration leaks into a case.
const CLEAN = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith("OTEL_") || /^trace(parent|state)$/i.test(k))
  .map((k) => [k, undefined])) as Record<string, undefined>;

let jaeger: JaegerHandle;
let certDir: string;
let certFile: string;

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1, its own root.
  certDir = mkdtempSync(join(tmpdir(), "st-tls-"));
  certFile = join(certDir, "cert.pem");
  const keyFile = join(certDir, "key.pem");
  const ossl = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
  { stdout: "pipe", stderr: "pipe" });
  if (ossl.exitCode !== 0) throw new Error(`openssl: ${ossl.stderr.toString()}`);
  jaeger = await startJaeger({ tls: { certFile, keyFile } });
}, 900_000); // the first run builds Jaeger from source (cached afterwards)

afterAll(async () => {
  await jaeger?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

const replay = (log: string, speed: number) => [...tracerCmd(), "replay", log, "--speed", String(speed), "--exit-when-done"];

/** No warning about the exporter's configuration or delivery (other features may warn on a loaded machine). */
function expectNoExportWarning(err: string): void {
  const lines = err.split("\n").filter((l) => /warning:/.test(l) && /OTEL_|otlp|endpoint|protocol|export|backend|spool|grpc/i.test(l));
  expect(lines).toEqual([]);
}

/** The trace of `summary` read back from Jaeger, checked against the summary. */
async function traceOf(summary: any): Promise<{ spans: FlatSpan[]; root: FlatSpan }> {
  const trace = await jaeger.waitForTrace(summary.trace_id, { minSpans: summary.phases.length + 1, timeoutMs: 15_000 });
  const spans = flattenSpans(trace).filter((s) => s.serviceName === SERVICE);
  const root = spans.find((s) => s.name === "vllm.startup")!;
  expect(root).toBeDefined();
  expect(root.parentSpanId).toBe("");
  expect(root.attributes["vllm.startup.outcome"]).toBe(summary.outcome);
  expect(spans.map((s) => s.name).sort()).toEqual(["vllm.startup", ...summary.phases.map((p: any) => p.name)].sort());
  for (const p of summary.phases) {
    const s = spans.find((x) => x.name === p.name)!;
    expect(s.attributes["vllm.startup.phase.duration_s"]).toBe(p.duration_s);
  }
  return { spans, root };
}

describe("the tracer exports over OTLP/gRPC", () => {
  test("wrap, --otlp-endpoint http://… with OTEL_EXPORTER_OTLP_PROTOCOL=grpc", async () => {
    const state = tempStateDir();
    const sumPath = join(state, "summary.json");
    const r = await runTracer(["--otlp-endpoint", jaeger.otlpGrpcUrl, "--summary-json", sumPath, "--state-dir", state, "--no-history",
      "--", ...replay(QWEN, 20)], { env: { ...CLEAN, OTEL_SERVICE_NAME: SERVICE, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, timeoutMs: 90_000 });
    expect(r.code).toBe(0);
    expectNoExportWarning(r.err);
    expect(r.err).toContain(`sent to ${jaeger.otlpGrpcUrl}`);
    const summary = JSON.parse(readFileSync(sumPath, "utf8"));
    expect(summary.outcome).toBe("ready");
    const { root } = await traceOf(summary);
    expect(root.attributes["vllm.startup.engine.version"]).toBe("0.10.1.1");
  }, 120_000);

  test("import, configured as vLLM's docs do: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=host:port, _INSECURE=true, _TRACES_PROTOCOL=grpc", async () => {
    const state = tempStateDir();
    const sumPath = join(state, "summary.json");
    const r = await runTracer(["import", TP8, "--summary-json", sumPath, "--state-dir", state, "--no-history", "--quiet"], {
      env: { ...CLEAN, OTEL_SERVICE_NAME: SERVICE, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_INSECURE: "true",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: new URL(jaeger.otlpGrpcUrl).host },
    });
    expect(r.code).toBe(0);
    expectNoExportWarning(r.err);
    const { root } = await traceOf(JSON.parse(readFileSync(sumPath, "utf8")));
    expect(root.attributes["vllm.startup.engine.version"]).toBe("0.6.6.post1");
  }, 60_000);

  // An IP address on purpose: Bun refuses it as a TLS server name, which grpc-export.ts works around.
  test("TLS: https://127.0.0.1:… trusted through OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE; without it, spooled, and flush sends it", async () => {
    const state = tempStateDir();
    const sumPath = join(state, "summary.json");
    const env = { ...CLEAN, OTEL_SERVICE_NAME: SERVICE, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" };
    const ok = await runTracer(["import", TP8, "--otlp-endpoint", jaeger.otlpGrpcTlsUrl!, "--summary-json", sumPath, "--state-dir", state,
      "--no-history", "--quiet"], { env: { ...env, OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certFile } });
    expect(ok.code).toBe(0);
    await traceOf(JSON.parse(readFileSync(sumPath, "utf8")));
    // The same endpoint without the certificate: the handshake fails, retried until --exit-timeout, spooled.
    const state2 = tempStateDir();
    const sum2 = join(state2, "summary.json");
    const bad = await runTracer(["--otlp-endpoint", jaeger.otlpGrpcTlsUrl!, "--summary-json", sum2, "--state-dir", state2, "--no-history",
      "--exit-timeout", "1", "--", ...replay(QWEN, 50)], { env, timeoutMs: 60_000 });
    expect(bad.code).toBe(0);
    expect(bad.err).toContain("spooled");
    expect(bad.err).toMatch(/self[- ]signed|certificate/i); // refused for the certificate, not for anything else
    const summary = JSON.parse(readFileSync(sum2, "utf8"));
    expect(await jaeger.getTrace(summary.trace_id)).toBeNull();
    const f = await runTracer(["flush", "--state-dir", state2], { env: { ...env, OTEL_EXPORTER_OTLP_CERTIFICATE: certFile } });
    expect(f.err).toContain("1 sent, 0 failed, 0 still spooled");
    expect(f.code).toBe(0);
    await traceOf(summary);
  }, 120_000);

  test("backend down: retried, spooled under <state>/spool; flush over gRPC delivers every span", async () => {
    const state = tempStateDir();
    const sumPath = join(state, "summary.json");
    const down = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadPort = down.port;
    down.stop(true);
    const env = { ...CLEAN, OTEL_SERVICE_NAME: SERVICE, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" };
    const r = await runTracer(["--otlp-endpoint", `http://127.0.0.1:${deadPort}`, "--summary-json", sumPath, "--state-dir", state,
      "--no-history", "--exit-timeout", "2", "--", ...replay(QWEN, 50)], { env, timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/spooled to \S+\/spool\/\S+\.otlp/);
    const meta = readFileSync(r.err.match(/spooled to (\S+)\.otlp/)![1] + ".meta.json", "utf8");
    expect(JSON.parse(meta).contentType).toBe("application/grpc");
    const summary = JSON.parse(readFileSync(sumPath, "utf8"));
    expect(await jaeger.getTrace(summary.trace_id)).toBeNull();
    const f = await runTracer(["flush", "--state-dir", state, "--otlp-endpoint", jaeger.otlpGrpcUrl], { env });
    expect(f.err).toContain("1 sent, 0 failed, 0 still spooled");
    await traceOf(summary);
  }, 120_000);
});

describe("vLLM's own spans join the tracer's trace", () => {
  // The tracer is configured with --otlp-endpoint only; the child with vLLM's flag, or with
  // the environment its workers read. Either way the child sees the tracer's environment.
  const cases = [
    { title: "vLLM's --otlp-traces-endpoint host:port (gRPC, its default); the tracer's --otlp-endpoint over gRPC",
      tracer: () => ["--otlp-endpoint", jaeger.otlpGrpcUrl], child: () => ["--otlp-traces-endpoint", new URL(jaeger.otlpGrpcUrl).host],
      env: () => ({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }), apiServerTraces: true },
    { title: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT + _TRACES_PROTOCOL=grpc in the environment: the tracer and vLLM's workers read it",
      tracer: () => [], child: () => [],
      env: () => ({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: jaeger.otlpGrpcUrl, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }), apiServerTraces: false },
  ];
  for (const c of cases) {
    test(c.title, async () => {
      const state = tempStateDir();
      const sumPath = join(state, "summary.json");
      const report = join(state, "child-env.json");
      const env = { ...CLEAN, OTEL_SERVICE_NAME: SERVICE, ...c.env() };
      const r = await runTracer([...c.tracer(), "--summary-json", sumPath, "--state-dir", state, "--no-history", "--quiet",
        "--", process.execPath, STAND_IN, ...c.child(), "--report", report], { env, timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      expectNoExportWarning(r.err);
      const summary = JSON.parse(readFileSync(sumPath, "utf8"));
      expect(summary.outcome).toBe("ready");

      // What the child saw: the tracer's environment unchanged, plus TRACEPARENT naming the root span.
      const seen = JSON.parse(readFileSync(report, "utf8")) as Record<string, string>;
      const given = JSON.parse(JSON.stringify({ ...process.env, NO_COLOR: "1", ...env })) as Record<string, string>;
      const { TRACEPARENT, ...rest } = seen;
      expect(rest).toEqual(given);
      expect(seen.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined(); // --otlp-endpoint is the tracer's alone
      if (c.tracer().length) expect(seen.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).toBeUndefined();

      // One trace: the tracer's spans and the stand-in's (API server and EngineCore processes).
      const trace = await jaeger.waitForTrace(summary.trace_id, { minSpans: summary.phases.length + 1 + (c.apiServerTraces ? 3 : 2), timeoutMs: 15_000 });
      const spans = flattenSpans(trace);
      expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([summary.trace_id]));
      const root = spans.find((s) => s.name === "vllm.startup" && s.serviceName === SERVICE)!;
      expect(root.parentSpanId).toBe("");
      expect(TRACEPARENT).toBe(`00-${summary.trace_id}-${root.spanId}-01`);
      const byName = new Map(spans.map((s) => [s.name, s]));
      const core = byName.get("EngineCore.__init__")!;
      const load = byName.get("GPUModelRunner.load_model")!;
      expect(core.resourceAttributes["vllm.process_kind"]).toBe("EngineCore");
      expect(core.attributes["code.function"]).toBe("EngineCore.__init__");
      expect(load.parentSpanId).toBe(core.spanId);
      if (c.apiServerTraces) {
        const api = byName.get("AsyncLLM.__init__")!;
        expect(api.parentSpanId).toBe(root.spanId); // vLLM's top span under the tracer's root
        expect(api.resourceAttributes["vllm.instrumenting_module_name"]).toBe("vllm.entrypoints.openai.api_server");
        expect(core.parentSpanId).toBe(api.spanId); // the worker inherits the API server's context
      } else {
        expect(byName.has("AsyncLLM.__init__")).toBe(false); // no flag: the API server does not trace
        expect(core.parentSpanId).toBe(root.spanId);
      }
      // vLLM's spans fall within the start-up the tracer measured (the root ends at readiness).
      expect(load.startTimeUnixNano).toBeGreaterThanOrEqual(root.startTimeUnixNano);
      expect(load.endTimeUnixNano).toBeLessThanOrEqual(root.endTimeUnixNano);
      for (const s of spans.filter((x) => x.serviceName === SERVICE && x.name !== "vllm.startup" && x.resourceAttributes["vllm.process_id"] === undefined)) {
        expect(summary.phases.map((p: any) => p.name)).toContain(s.name);
      }
    }, 90_000);
  }
});
