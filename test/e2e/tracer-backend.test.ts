// End to end against a real trace backend (Jaeger v2, built from its Go
// module; Tempo is not allowed here, see dashboards/backends.md): the tracer
// wraps `replay` of real logs, exports over OTLP/HTTP, and the trace is read
// back through the backend's HTTP API, by trace id and by search. Also: no
// span lost across an outage (spool + flush), and every dashboard query's span
// filter selects the expected spans of the traces the backend returned.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { flattenSpans, startJaeger, type FlatSpan, type JaegerHandle } from "../helpers/jaeger.ts";
import { LOGS, ROOT, runTracer, tempStateDir, tracerCmd } from "../helpers/tracer.ts";
import { selectSpans, type EvalSpan } from "./traceql-lite.ts";

let jaeger: JaegerHandle;
beforeAll(async () => {
  jaeger = await startJaeger();
}, 900_000); // the first run builds Jaeger from source (cached afterwards)
afterAll(async () => {
  await jaeger?.stop();
});

const SERVICE = "st-e2e";
const replay = (log: string, speed: number) => [...tracerCmd(), "replay", log, "--speed", String(speed), "--exit-when-done"];

interface Run {
  summary: any;
  spans: FlatSpan[];
  code: number;
}

async function traceViaWrap(log: string, speed: number, extra: string[] = [], env: Record<string, string> = {}, timeScale = true): Promise<Run> {
  const state = tempStateDir();
  const sumPath = join(state, "summary.json");
  // --time-scale: the sped-up replay is traced on the recorded timeline, where vLLM's printed durations fit.
  const r = await runTracer(["--otlp-endpoint", jaeger.otlpHttpUrl, "--summary-json", sumPath, "--state-dir", state, "--quiet",
    ...(timeScale ? ["--time-scale", String(speed)] : []), ...extra, "--", ...replay(log, speed)], { env: { OTEL_SERVICE_NAME: SERVICE, ...env }, timeoutMs: 120_000 });
  const summary = JSON.parse(readFileSync(sumPath, "utf8"));
  const trace = await jaeger.waitForTrace(summary.trace_id, { minSpans: summary.phases.length + 1, timeoutMs: 15_000 });
  return { summary, spans: flattenSpans(trace), code: r.code };
}

function checkAgainstSummary(run: Run) {
  const { summary, spans } = run;
  const root = spans.find((s) => s.name === "vllm.startup")!;
  expect(root).toBeDefined();
  expect(root.parentSpanId).toBe("");
  expect(root.serviceName).toBe(SERVICE);
  expect(root.attributes["vllm.startup.outcome"]).toBe(summary.outcome);
  expect(spans).toHaveLength(summary.phases.length + 1);
  const byName = new Map(spans.map((s) => [s.name, s]));
  for (const p of summary.phases) {
    const s = byName.get(p.name)!;
    expect(s).toBeDefined();
    // Span tree: sub-steps under their phase, phases under the root.
    expect(s.parentSpanId).toBe(p.parent ? byName.get(p.parent)!.spanId : root.spanId);
    expect(s.attributes["vllm.startup.phase"]).toBe(p.name);
    expect(s.attributes["vllm.startup.phase.duration_s"]).toBe(p.duration_s);
    expect(Math.abs(s.durationMs / 1000 - p.duration_s)).toBeLessThan(0.002);
    const code = String(s.status?.code ?? "");
    if (p.status === "error") {
      expect(code).toMatch(/2|ERROR/i);
      expect(s.status?.message).toBe(p.error);
    } else expect(code).not.toMatch(/2|ERROR/i);
  }
  return { root, byName };
}

describe("wrap mode → OTLP/HTTP → Jaeger, read back by trace id", () => {
  test("a ready start-up with compile-cache hit (paper log, DEBUG level), protobuf", async () => {
    // Without --time-scale, so the host is sampled (the spans are then on the replay's compressed
    // timeline, and vLLM's printed durations are their printed_duration_s).
    const run = await traceViaWrap(join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-qwen-0.5b.log"), 20, [], {}, false);
    expect(run.code).toBe(0);
    const { root, byName } = checkAgainstSummary(run);
    expect(root.attributes["vllm.startup.engine.version"]).toBe("0.10.1.1");
    expect(typeof root.attributes["vllm.startup.ready_s"]).toBe("number");
    // Durations as vLLM printed them in the log.
    expect(byName.get("load_weights")!.attributes["vllm.startup.phase.printed_duration_s"]).toBe(1.71);
    expect(byName.get("dynamo_transform")!.attributes["vllm.startup.phase.printed_duration_s"]).toBe(4.29);
    expect(byName.get("graph_compile")!.attributes["vllm.startup.compile_cache.hit"]).toBe(true);
    expect(byName.get("cuda_graph_capture")!.attributes["vllm.startup.phase.printed_duration_s"]).toBe(0.94);
    // Attributes the other features add: prediction, host sampling, bound-by.
    const lw = byName.get("load_weights")!;
    expect(typeof lw.attributes["vllm.startup.phase.predicted_duration_s"]).toBe("number");
    expect(typeof lw.attributes["vllm.startup.phase.bound_by"]).toBe("string");
    // Host samples on the longest phase of the compressed replay (a sub-second one may hold none).
    const longest = [...byName.values()].filter((sp) => sp.name !== "vllm.startup")
      .sort((a, b) => (b.attributes["vllm.startup.phase.duration_s"] as number) - (a.attributes["vllm.startup.phase.duration_s"] as number))[0];
    expect(Object.keys(longest.attributes).some((k) => k.startsWith("system.cpu") || k.startsWith("vllm.startup.cpu"))).toBe(true);
    expect(typeof root.attributes["vllm.startup.predicted_total_s"]).toBe("number");
  }, 120_000);

  test("a failed start-up: the phase in flight has status error and the exception text (JSON)", async () => {
    const run = await traceViaWrap(join(LOGS, "v0.10.1.dev-intel-xpu-arc-qwen3-0.6b-failed-oneccl-init.log"), 200, [],
      { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
    expect(run.code).toBe(1); // replay exits 1 for a recorded failure; the tracer passes it on
    expect(run.summary.outcome).toBe("failed");
    const { root } = checkAgainstSummary(run);
    expect(String(root.status?.code)).toMatch(/2|ERROR/i);
    const failed = run.summary.phases.filter((p: any) => p.status === "error");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0].error).toContain("oneCCL");
  }, 120_000);

  test("a multi-phase server start (v0.11.0, compile-cache miss) and search by service, operation and tags", async () => {
    const run = await traceViaWrap(join(LOGS, "v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log"), 40);
    expect(run.code).toBe(0);
    const { byName } = checkAgainstSummary(run);
    expect(byName.get("graph_compile")!.attributes["vllm.startup.compile_cache.hit"]).toBe(false);
    expect(byName.get("load_weights")!.attributes["vllm.startup.phase.printed_duration_s"]).toBe(19.62);
    expect(Math.abs((byName.get("load_weights")!.attributes["vllm.startup.phase.duration_s"] as number) - 19.62)).toBeLessThan(1);
    expect(byName.has("server_start")).toBe(true);
    const found = await jaeger.findTraces({ service: SERVICE, operation: "vllm.startup", tags: { "vllm.startup.outcome": "ready" } });
    expect(found.map((t) => t.traceId)).toContain(run.summary.trace_id);
    const byPhase = await jaeger.findTraces({ service: SERVICE, operation: "graph_compile", tags: { "vllm.startup.compile_cache.hit": "false" } });
    expect(byPhase.map((t) => t.traceId)).toContain(run.summary.trace_id);
  }, 120_000);
});

describe("no span is lost across an outage", () => {
  test("backend down → spooled; backend up → flush → every span is in the backend", async () => {
    const state = tempStateDir();
    const sumPath = join(state, "summary.json");
    // Nothing listens on this port: the backend is down for the whole run.
    const down = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadPort = down.port;
    down.stop(true);
    const started = Date.now();
    const r = await runTracer(["--otlp-endpoint", `http://127.0.0.1:${deadPort}`, "--summary-json", sumPath, "--state-dir", state,
      "--exit-timeout", "2", "--", ...replay(join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-llama2-7b-hf.log"), 50)],
    { env: { OTEL_SERVICE_NAME: SERVICE } });
    expect(r.code).toBe(0);
    expect(r.err).toContain("spooled");
    const summary = JSON.parse(readFileSync(sumPath, "utf8"));
    expect(await jaeger.getTrace(summary.trace_id)).toBeNull();
    // The backend comes up (Jaeger); flush sends what was spooled.
    const f = await runTracer(["flush", "--state-dir", state, "--otlp-endpoint", jaeger.otlpHttpUrl]);
    expect(f.code).toBe(0);
    expect(f.err).toContain("1 sent");
    const trace = await jaeger.waitForTrace(summary.trace_id, { minSpans: summary.phases.length + 1 });
    const names = flattenSpans(trace).map((s) => s.name).sort();
    expect(names).toEqual(["vllm.startup", ...summary.phases.map((p: any) => p.name)].sort());
    expect(Date.now() - started).toBeLessThan(60_000);
    // A second flush has nothing left to send.
    const again = await runTracer(["flush", "--state-dir", state, "--otlp-endpoint", jaeger.otlpHttpUrl]);
    expect(again.err).toContain("0 sent, 0 failed, 0 still spooled");
  }, 120_000);
});

describe("import → Jaeger", () => {
  test("a finished TP8 log imported and read back", async () => {
    const state = tempStateDir();
    const sumPath = join(state, "s.json");
    const r = await runTracer(["import", join(LOGS, "v0.6.6.post1-l40s-x8-tp8-internvl3-78b-offline-ok.log"), "--otlp-endpoint",
      jaeger.otlpHttpUrl, "--summary-json", sumPath, "--state-dir", state, "--quiet"], { env: { OTEL_SERVICE_NAME: SERVICE } });
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(sumPath, "utf8"));
    const trace = await jaeger.waitForTrace(summary.trace_id, { minSpans: summary.phases.length + 1 });
    const { byName } = checkAgainstSummary({ summary, spans: flattenSpans(trace), code: 0 });
    // Eight ranks printed their profiling run ("Memory profiling takes"); the sizing lines are the driver's.
    const kv = byName.get("profile_run")!;
    expect(kv.attributes["vllm.startup.phase.parent"]).toBe("kv_cache_profiling");
    expect(kv.attributes["vllm.startup.phase.ranks"]).toBe(8);
    expect((kv.attributes["vllm.startup.phase.rank_durations_s"] as number[]).length).toBe(8);
  }, 60_000);
});

describe("dashboard queries select the expected spans from the backend's traces", () => {
  test("every TraceQL span filter in dashboards/traceql-queries.json", async () => {
    // Traces of a ready and a failed start-up, as the backend returns them.
    // Sampled (no --time-scale, so bound-by exists) at 10x: weight loading still takes ~2.5 s real, over its 1 s budget.
    const ready = await traceViaWrap(join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-llama2-7b-hf.log"), 10, ["--budget", "load_weights=1s"], {}, false);
    const failed = await traceViaWrap(join(LOGS, "v0.11.1rc2-rocm-strixhalo-gfx1151-granite4-350m-failed-gpu-memfault.log"), 200);
    const toEval = (s: FlatSpan): EvalSpan => ({
      traceId: s.traceId, name: s.name, attributes: s.attributes, resource: s.resourceAttributes, statusMessage: s.status?.message ?? "",
      statusCode: /2|ERROR/i.test(String(s.status?.code ?? "")) ? "error" : /1|OK/i.test(String(s.status?.code ?? "")) ? "ok" : "unset",
    });
    const all = [...ready.spans, ...failed.spans].map(toEval);
    const doc = JSON.parse(readFileSync(join(ROOT, "dashboards", "traceql-queries.json"), "utf8"));
    let checked = 0;
    for (const q of doc.queries) {
      if (q.kind === "trace_by_id") continue;
      const query: string = (q.example ?? q.query).replaceAll("$trace_id", ready.summary.trace_id);
      const sel = selectSpans(query, all);
      const isRoot = /name = "vllm.startup"/.test(query);
      const wantsError = /status = error|outcome = "failed"/.test(query);
      const wantsSlow = /phase\.slow = true/.test(query);
      const trace = /trace:id/.test(query);
      expect(sel.length, `${q.dashboard ?? ""} / ${q.panel ?? ""}: ${query}`).toBeGreaterThan(0);
      if (isRoot) expect(sel.every((s) => s.name === "vllm.startup")).toBe(true);
      if (wantsError) expect(sel.every((s) => s.traceId === failed.summary.trace_id)).toBe(true);
      if (wantsSlow) expect(sel.map((s) => s.name)).toContain("load_weights");
      if (trace) expect(sel.every((s) => s.traceId === ready.summary.trace_id)).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  }, 180_000);
});
