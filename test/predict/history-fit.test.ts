import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { History, defaultStateDir, listRuns, recordStartup } from "../../src/predict/history.ts";
import { MIN_RUNS_LSQ, fromJaeger, fromTempo, loadActiveCoefficients, parseJaegerTraces, refitFromHistory } from "../../src/predict/fit.ts";
import { DEFAULT_COEFFICIENTS, predict } from "../../src/predict/model.ts";
import { run as fitCmd } from "../../src/cli/commands/fit.ts";
import { tmp } from "./fixtures.ts";

const PAPER = join(import.meta.dir, "..", "..", "..", "shared", "vllm-logs", "paper-h100nvl");
const STEP = { detect_platform: "detect_platform", llm_imports: "imports", get_model_info: "model_info", worker_init: "worker_init", tokenizer_init: "tokenizer_init", model_init: "model_init", load_weights: "load_weights", dynamo_transform_time: "dynamo_transform", graph_compile_cached: "graph_compile", kv_cache_profiling: "kv_cache_profiling", graph_capturing: "cuda_graph_capture" } as Record<string, string>;
const PARENT: Record<string, string> = { detect_platform: "bootstrap", imports: "bootstrap", model_info: "bootstrap", worker_init: "bootstrap", model_init: "model_loading", load_weights: "model_loading", dynamo_transform: "torch_compile", graph_compile: "torch_compile" };

/** A summary/v1 document from the per-step seconds vLLM printed in a real log (its .truth.json), scaled by `speed`. */
function summaryFromTruth(file: string, speed: number, i: number) {
  const truth = JSON.parse(readFileSync(join(PAPER, file), "utf8")).steps as Record<string, number>;
  let t = 0;
  const phases = Object.entries(STEP).filter(([k]) => truth[k] !== undefined).map(([k, name]) => {
    const d = +(truth[k] * (name === "load_weights" ? 1 : speed)).toFixed(3);
    const p = { name, parent: PARENT[name] ?? null, start_s: t, duration_s: d, status: "ok", predicted_s: null, attributes: {} };
    t += d;
    return p;
  });
  return { schema: "startup-tracer.summary/v1", engine: "vllm", engine_version: "0.10.1.1", outcome: "ready", ready_s: t, trace_id: (i + 1).toString(16).padStart(32, "0"), phases };
}
const FEATURES: Record<string, object> = {
  "v0.10.1.1-h100nvl-llama2-7b-hf.truth.json": { model: "/models/llama2-7b-hf", layers: 32, num_attention_heads: 32, num_kv_heads: 32, tokenizer_mb: 1.8, weights_gib: 12.55, active_weights_gib: 12.55, compile_cache: "warm", cuda_graph_sizes: 35, compile_enabled: true, cuda_graphs_enabled: true },
  "v0.10.1.1-h100nvl-qwen-0.5b.truth.json": { model: "/models/qwen-0.5b", layers: 24, num_attention_heads: 16, num_kv_heads: 16, tokenizer_mb: 6.8, weights_gib: 0.9, active_weights_gib: 0.9, compile_cache: "warm", cuda_graph_sizes: 35, compile_enabled: true, cuda_graphs_enabled: true },
};

describe("history", () => {
  test("records summaries and lists runs; stores no paths or secrets; never throws", () => {
    const dir = tmp("st-hist-");
    const id = recordStartup(dir, summaryFromTruth("v0.10.1.1-h100nvl-qwen-0.5b.truth.json", 1, 0), { ...FEATURES["v0.10.1.1-h100nvl-qwen-0.5b.truth.json"], warnings: ["s3cr3t-value /home/me"], hf_token: "hf_s3cr3t" } as any);
    expect(id).toBeGreaterThan(0);
    const runs = listRuns(dir);
    expect(runs).toHaveLength(1);
    expect(runs[0].phases.load_weights).toBeCloseTo(1.71, 3);
    expect(runs[0].features!.model).toBe("qwen-0.5b");
    const raw = readdirSync(dir).filter((f) => f.startsWith("history.sqlite")).map((f) => readFileSync(join(dir, f)).toString("latin1")).join("");
    expect(raw.includes("qwen-0.5b")).toBe(true);
    expect(raw.includes("/models/")).toBe(false);
    expect(raw.includes("s3cr3t")).toBe(false);
    // bad inputs: warnings, not exceptions
    const h = new History(dir);
    expect(h.recordStartup("{not json", null)).toBeNull();
    expect(h.recordStartup({ schema: "other" }, null)).toBeNull();
    h.close();
    expect(new History("/proc/forbidden/state").listRuns()).toEqual([]);
  });

  test("default state dir", () => {
    expect(defaultStateDir({ STARTUP_TRACER_STATE_DIR: "/a" })).toBe("/a");
    expect(defaultStateDir({ XDG_STATE_HOME: "/x" })).toBe("/x/startup-tracer");
    expect(defaultStateDir({ HOME: "/h" })).toBe("/h/.local/state/startup-tracer");
  });
});

describe("fit", () => {
  test("few runs: per-phase scale factors over the reference; the refit predicts this machine better", () => {
    const dir = tmp("st-fit-");
    const files = readdirSync(PAPER).filter((f) => f.endsWith(".truth.json"));
    // a machine whose CPU-bound phases take 1.5x the reference
    files.forEach((f, i) => recordStartup(dir, summaryFromTruth(f, 1.5, i), FEATURES[f] as any));
    const runs = listRuns(dir);
    expect(runs.length).toBe(files.length);
    const { coefficients, report } = refitFromHistory(runs);
    expect(coefficients.calibration).toBe("local");
    expect(report.per_phase.dynamo_transform.method).toBe("scale");
    expect(coefficients.scale!.dynamo_transform).toBeGreaterThan(1.2);
    expect(coefficients.scale!.load_weights).toBeGreaterThan(0.8);
    expect(coefficients.scale!.load_weights).toBeLessThan(1.2);
    const f = FEATURES[files[0]] as any;
    const truth = JSON.parse(readFileSync(join(PAPER, files[0]), "utf8")).steps;
    const before = Math.abs(predict(f, DEFAULT_COEFFICIENTS).phases.dynamo_transform - truth.dynamo_transform_time * 1.5);
    const after = Math.abs(predict(f, coefficients).phases.dynamo_transform - truth.dynamo_transform_time * 1.5);
    expect(after).toBeLessThan(before);
  });

  test("many runs with varying features: least squares per phase", () => {
    const runs = Array.from({ length: MIN_RUNS_LSQ * 2 }, (_, i) => {
      const gib = 1 + i;
      return { id: i, recorded_at: "", trace_id: null, engine_version: "0.10.1.1", outcome: "ready", predicted: {},
        features: { layers: 32, weights_gib: gib, active_weights_gib: gib, tokenizer_mb: 2 + i % 3, cuda_graph_sizes: 35 },
        phases: { load_weights: 0.5 + 0.4 * gib, tokenizer_init: 0.1 + 0.05 * (2 + i % 3) } };
    });
    const { coefficients, report } = refitFromHistory(runs as any);
    expect(report.per_phase.load_weights.method).toBe("lsq");
    expect(coefficients.phases.load_weights.coef.weights_gib_disk).toBeCloseTo(0.4, 3);
    expect(coefficients.phases.load_weights.intercept).toBeCloseTo(0.5, 3);
    expect(report.per_phase.tokenizer_init.method).toBe("lsq");
  });

  test("fit command writes <state>/coefficients.json, used by loadActiveCoefficients; bad options -> 2", async () => {
    const dir = tmp("st-fitcmd-");
    const files = readdirSync(PAPER).filter((f) => f.endsWith(".truth.json"));
    files.forEach((f, i) => recordStartup(dir, summaryFromTruth(f, 1.2, i), FEATURES[f] as any));
    const out: string[] = [];
    const w = process.stdout.write.bind(process.stdout);
    (process.stdout as any).write = (s: string) => { out.push(s); return true; };
    let code: number;
    try { code = await fitCmd(["--state-dir", dir, "--json"]); } finally { (process.stdout as any).write = w; }
    expect(code).toBe(0);
    expect(JSON.parse(out.join("")).runs_local).toBe(files.length);
    expect(existsSync(join(dir, "coefficients.json"))).toBe(true);
    expect(loadActiveCoefficients(dir).calibration).toBe("local");
    expect(loadActiveCoefficients(tmp()).calibration).toBe("reference");
    const ce = console.error; console.error = () => {};
    try {
      expect(await fitCmd(["--from-tempo", "not a url"])).toBe(2);
      expect(await fitCmd(["--nope"])).toBe(2);
      expect(await fitCmd(["--state-dir", tmp()])).toBe(1); // empty history
    } finally { console.error = ce; }
  });
});

describe("trace backends (loopback fakes of the Tempo and Jaeger query APIs)", () => {
  let server: ReturnType<typeof Bun.serve>;
  const tid = "0af7651916cd43dd8448eb211c80319c";
  const ns = (s: number) => String(BigInt(Math.round(s * 1e6)) * 1000n + 1700000000000000000n);
  beforeAll(() => {
    server = Bun.serve({
      port: 0, hostname: "127.0.0.1",
      fetch(req) {
        const u = new URL(req.url);
        if (u.pathname === "/api/search") {
          expect(u.searchParams.get("tags")).toBe("service.name=startup-tracer");
          return Response.json({ traces: [{ traceID: tid, rootServiceName: "startup-tracer" }] });
        }
        if (u.pathname === `/api/traces/${tid}`) {
          return Response.json({ batches: [{
            resource: { attributes: [{ key: "service.name", value: { stringValue: "startup-tracer" } }] },
            scopeSpans: [{ spans: [
              { name: "load_weights", startTimeUnixNano: ns(10), endTimeUnixNano: ns(30), attributes: [{ key: "vllm.startup.phase.duration_s", value: { doubleValue: 20 } }, { key: "vllm.startup.phase.predicted_duration_s", value: { doubleValue: 24.6 } }] },
              { name: "dynamo_transform", startTimeUnixNano: ns(31), endTimeUnixNano: ns(37.5), attributes: [] },
              { name: "vllm serve", startTimeUnixNano: ns(0), endTimeUnixNano: ns(50), attributes: [] },
            ] }],
          }] });
        }
        if (u.pathname === "/api/traces" && u.searchParams.get("service") === "startup-tracer") {
          return Response.json({ data: [{ traceID: tid, processes: { p1: { serviceName: "startup-tracer", tags: [] } }, spans: [
            { operationName: "kv_cache_profiling", startTime: 1700000000000000, duration: 1800000, processID: "p1", tags: [{ key: "vllm.startup.phase.predicted_duration_s", type: "float64", value: 2.0 }] },
            { operationName: "cuda_graph_capture", startTime: 1700000002000000, duration: 1000000, processID: "p1", tags: [{ key: "vllm.startup.phase.duration_s", type: "float64", value: 1.13 }] },
          ] }] });
        }
        return new Response("not found", { status: 404 });
      },
    });
  });
  afterAll(() => server.stop(true));

  test("fromTempo: search + fetch, duration attribute or start/end times", async () => {
    const t = await fromTempo(`http://127.0.0.1:${server.port}`);
    expect(t).toHaveLength(1);
    expect(t[0].phases.load_weights).toBe(20);
    expect(t[0].predicted.load_weights).toBe(24.6);
    expect(t[0].phases.dynamo_transform).toBeCloseTo(6.5, 3);
    expect(Object.keys(t[0].phases).sort()).toEqual(["dynamo_transform", "load_weights"]);
  });

  test("fromJaeger, and the fit command learning from a trace backend", async () => {
    const t = await fromJaeger(`http://127.0.0.1:${server.port}`);
    expect(t[0].phases.kv_cache_profiling).toBeCloseTo(1.8, 3);
    expect(t[0].phases.cuda_graph_capture).toBe(1.13);
    expect(parseJaegerTraces({ data: "garbage" })).toEqual([]);
    const dir = tmp("st-tempo-");
    const w = process.stdout.write.bind(process.stdout);
    const out: string[] = [];
    (process.stdout as any).write = (s: string) => { out.push(s); return true; };
    let code: number;
    try { code = await fitCmd(["--state-dir", dir, "--from-tempo", `http://127.0.0.1:${server.port}`, "--json"]); } finally { (process.stdout as any).write = w; }
    expect(code).toBe(0);
    const r = JSON.parse(out.join(""));
    expect(r.runs_from_traces).toBe(1);
    // 20 s measured vs 24.6 s predicted: the local scale for load_weights is below 1
    expect(r.report.per_phase.load_weights.scale).toBeLessThan(1);
  });
});
