// Every real log in ../shared/vllm-logs/ imported: outcome, error text, which
// phases exist, and every duration vLLM printed. Expected values come from
// INDEX.md (outcome, failure) and from the log text itself (durations, via the
// simple regexes below), never from running the parser.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { importLogFile, type ImportResult } from "../../src/logparse/import-log.ts";
import type { FinalPhase, TrackerResult } from "../../src/phases/tracker.ts";

const DIR = join(process.cwd(), "..", "shared", "vllm-logs");

interface Expect {
  outcome: "ready" | "failed" | "incomplete" | "exited";
  version: string | null;
  /** Start of the error text (the exception line INDEX.md names). */
  error?: string;
  /** Phases that must be present. */
  present: string[];
  /** Phases that must be absent (the run does not have them, or the log does not show their start). */
  absent: string[];
  /** The phase(s) that end with status error. */
  errorPhases?: string[];
  /** The phase still running when the log ended. */
  running?: string;
  startups?: number;
}

const ALL = ["bootstrap", "model_loading", "torch_compile", "kv_cache_profiling", "cuda_graph_capture", "server_start"];
const without = (...names: string[]) => ALL.filter((n) => !names.includes(n));

const EXPECT: Record<string, Expect> = {
  "v0.5.0-aws-inferentia2-neuron-tp2-mistral-7b-failed-compile-cache-permission.log": {
    // Neuron compiles inside load_model with no vLLM line; the traceback's frames
    // (load_model -> get_neuron_model -> load_weights -> to_neuron) say where it failed.
    outcome: "failed", version: "0.5.0", error: "PermissionError: [Errno 13] Permission denied: '/work-dir/Mistral-7B-Instruct-v0.2/neuron-cache/lock'",
    present: ["bootstrap", "worker_init", "model_loading"], absent: without("bootstrap", "model_loading"), errorPhases: ["model_loading", "load_weights"],
  },
  "v0.6.x-dev-l40s-qwen3-tts-failed-unknown-model-type.log": {
    // Config stage: chained KeyError -> ValueError; the ValueError is what propagated.
    outcome: "failed", version: "dev", error: "ValueError: The checkpoint you are trying to load has model type `qwen3_tts` but Transformers does not recognize this architecture",
    present: ["bootstrap", "model_info"], absent: without("bootstrap"), errorPhases: ["bootstrap", "model_info"],
  },
  "v0.6.4.post1-gtx1080-llama3.2-1b-ok-then-engine-died.log": {
    outcome: "ready", version: "0.6.4.post1",
    present: ["bootstrap", "model_loading", "kv_cache_profiling", "cuda_graph_capture", "server_start"], absent: ["torch_compile"],
  },
  "v0.6.x-cpu-arm64-qwen2.5-0.5b-ok-tail.log": {
    // Tail: only engine-ready -> HTTP-ready is measurable.
    outcome: "ready", version: null, present: ["server_start"], absent: without("server_start"),
  },
  "v0.6.6-rocm-radeon-24gb-opt-125m-serverlessllm-loader-ok-hardwrapped.log": {
    outcome: "ready", version: "0.6.6",
    present: ["bootstrap", "model_loading", "kv_cache_profiling", "cuda_graph_capture"], absent: ["torch_compile", "server_start"],
  },
  "v0.6.6.post1-l40s-x8-tp8-internvl3-78b-offline-ok.log": {
    outcome: "ready", version: "0.6.6.post1",
    present: ["bootstrap", "model_loading", "kv_cache_profiling", "cuda_graph_capture"], absent: ["torch_compile", "server_start"],
  },
  "v0.7.1-a100-40g-x8-tp8-deepseek-coder-v2-lite-djl-sagemaker-ok-fragment.log": {
    outcome: "ready", version: null, present: ["cuda_graph_capture"], absent: without("cuda_graph_capture"),
  },
  "v0.7.1-a100-40g-x8-tp8-deepseek-coder-v2-lite-djl-sagemaker-memprofile-fragment.log": {
    // Two lines of the memory-profiling block: nothing to measure.
    outcome: "incomplete", version: null, present: [], absent: ALL,
  },
  "v0.7.3-l40s-granite3.0-3b-a800m-v1-ok-partial.log": {
    // Ends at the route list, before "Application startup complete": incomplete.
    outcome: "incomplete", version: null,
    present: ["torch_compile", "dynamo_transform", "graph_compile", "kv_cache_profiling", "cuda_graph_capture", "server_start"],
    absent: ["bootstrap", "model_loading"], running: "server_start",
  },
  "v0.8.2-a100-80gb-phi4-bnb-4bit-unsloth-v0-fallback-ok-notebook.log": {
    outcome: "ready", version: "0.8.2",
    present: ["bootstrap", "model_loading", "kv_cache_profiling", "cuda_graph_capture"], absent: ["torch_compile", "server_start"],
  },
  "v0.8.5-rocm-gfx906-16gb-qwen3-0.6b-v0-fallback-ok.log": {
    outcome: "ready", version: "0.8.5",
    present: ["bootstrap", "model_loading", "load_weights", "kv_cache_profiling", "cuda_graph_capture", "server_start"], absent: ["torch_compile"],
  },
  "v0.9.0-rtx4090-cosyvoice2-0.5b-v0-embedded-in-app-ok.log": {
    // No "Graph capturing finished", no engine-init line; the uvicorn line is the
    // host app's (INDEX), so vLLM's readiness is not in the log.
    outcome: "incomplete", version: "0.9.0",
    present: ["bootstrap", "model_loading", "kv_cache_profiling", "cuda_graph_capture"], absent: ["torch_compile", "server_start"],
    running: "cuda_graph_capture",
  },
  "v0.10.0-era-dev8023-rocm-radeon-r9700-tp2-qwen3-8b-fp8-failed-worker-invalid-device-ordinal.log": {
    outcome: "failed", version: "0.1.dev8023+g894bed8", error: "torch.AcceleratorError: HIP error: invalid device ordinal",
    present: ["bootstrap", "worker_init"], absent: without("bootstrap"), errorPhases: ["bootstrap", "worker_init"],
  },
  "v0.10.1.dev-intel-xpu-arc-qwen3-0.6b-failed-oneccl-init.log": {
    outcome: "failed", version: "0.10.1.dev636+g92ff41abe.d20250814",
    error: "RuntimeError: oneCCL: comm_selector.cpp:57 create_comm_impl: EXCEPTION: ze_data was not initialized",
    present: ["bootstrap", "worker_init"], absent: without("bootstrap"), errorPhases: ["bootstrap", "worker_init"],
  },
  "v0.10.x-h100x8-tp4-pp2-ep-qwen3-30b-a3b-thinking-ok-slurm-wrapper-sampled.log": {
    // Sampled by a wrapper: readiness only via the wrapper's own check, not a vLLM line.
    outcome: "incomplete", version: null, present: ["torch_compile", "dynamo_transform"],
    absent: ["bootstrap", "model_loading", "cuda_graph_capture", "server_start"],
  },
  "v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log": {
    outcome: "ready", version: "0.11.0+582e4e37.nv25.11",
    present: [...ALL, "worker_init", "model_init", "load_weights", "dynamo_transform", "graph_compile"], absent: [],
  },
  "v0.11.0-cpu-arm64-qwen2.5-0.5b-offline-ok.log": {
    outcome: "ready", version: "0.11.0",
    present: ["bootstrap", "model_loading", "load_weights", "kv_cache_profiling", "model_warmup"],
    absent: ["torch_compile", "cuda_graph_capture", "server_start"],
  },
  "v0.11.1rc2-rocm-strixhalo-gfx1151-granite4-350m-failed-gpu-memfault.log": {
    outcome: "failed", version: "0.11.1rc2.dev141+g38f225c2a", error: "Memory access fault by GPU node-1",
    present: ["bootstrap", "worker_init"], absent: without("bootstrap"), errorPhases: ["bootstrap", "worker_init"],
  },
  "v0.16.1rc1-l40s-2x-compose-qwen3.5-4b-failed-no-kv-memory-then-restart-ok.log": {
    // The first server line is qwen3.5-4b's: its first start-up fails at KV-cache
    // profiling; docker restarts it (second start-up, ready).
    outcome: "failed", version: "0.16.1rc1.dev265+gd106bf39f", error: "ValueError: No available memory for the cache blocks.",
    present: ["bootstrap", "model_loading", "torch_compile", "kv_cache_profiling"], absent: ["cuda_graph_capture", "server_start"],
    errorPhases: ["kv_cache_profiling"], startups: 2,
  },
  "v0.17.0rc1-tpu-v5e-x4-tp4-gemma4-26b-maxtext-failed-model-load.log": {
    outcome: "failed", version: "0.17.0rc1.dev136+gee8a29511", error: "ValueError: Resource axis: attn_dp of PartitionSpec",
    // The model is built inside the adapter's load_weights (frames).
    present: ["bootstrap", "model_loading"], absent: ["torch_compile", "kv_cache_profiling", "cuda_graph_capture", "server_start"],
    errorPhases: ["model_loading", "load_weights"],
  },
  "v0.20.0-wsl2-blackwell-qwen3.6-27b-nvfp4-enforce-eager-docker-desktop-ok.log": {
    outcome: "ready", version: "0.20.0",
    present: ["bootstrap", "model_loading", "load_weights", "kv_cache_profiling", "server_start"], absent: ["torch_compile", "cuda_graph_capture"],
  },
  "v0.21.0-rtx3090ti-vm-docker-qwen3-0.6b-ok-tail-no-startup-complete.log": {
    // Tail from the engine-init line to the routes; no "Application startup complete".
    outcome: "incomplete", version: null, present: ["server_start"], absent: without("server_start"), running: "server_start",
  },
};

// ---- durations vLLM printed, extracted from the log text --------------------
const PRINTED: [phase: string, re: RegExp][] = [
  ["load_weights", /Loading weights took ([\d.]+) seconds/],
  ["model_loading", /Model loading took [\d.]+ Gi?B (?:memory )?and ([\d.]+) seconds/],
  ["dynamo_transform", /Dynamo bytecode transform time: ([\d.]+) s/],
  ["graph_compile", /Compiling a graph for .* takes ([\d.]+) s|from the cache, took ([\d.]+) s/],
  ["torch_compile", /torch\.compile (?:takes|took) ([\d.]+) s in total/],
  ["profile_run", /Memory profiling takes ([\d.]+) seconds/],
  ["cuda_graph_capture", /Graph capturing finished in ([\d.]+) secs?/],
  ["model_download", /Time spent downloading weights for \S+: ([\d.]+) seconds/],
  ["tokenizer_init", /Init Tokenizer took ([\d.]+) seconds/],
  ["model_init", /Initializing Model took ([\d.]+) seconds/],
];
const RANK = /\(([A-Za-z][\w.\- ]*? pid=\d+)\)/;

/** phase -> per-process printed values (first per process), in log order. */
function printedByPhase(lines: string[]): Map<string, number[]> {
  const out = new Map<string, Map<string, number>>();
  for (const l of lines) {
    for (const [phase, re] of PRINTED) {
      const m = re.exec(l);
      if (!m) continue;
      const v = Number(m[1] ?? m[2]);
      const rank = RANK.exec(l)?.[1] ?? "-";
      let per = out.get(phase);
      if (!per) out.set(phase, (per = new Map()));
      if (!per.has(rank)) per.set(rank, v);
    }
  }
  return new Map([...out].map(([k, v]) => [k, [...v.values()]]));
}

/** The log's start-ups as this test sees them (compose: the 4b service, split at its restart). */
function startupLines(file: string, text: string): string[][] {
  const lines = text.split(/\r?\n|\r/);
  if (!file.startsWith("v0.16.1rc1")) return [lines];
  const own = lines.filter((l) => l.startsWith("qwen3.5-4b  | ") || l.startsWith("qwen3.5-4b exited"));
  const cut = own.findIndex((l) => l.startsWith("qwen3.5-4b exited with code"));
  return [own.slice(0, cut), own.slice(cut + 1)];
}

const sorted = (a: number[]) => [...a].sort((x, y) => x - y);

function checkPrinted(r: TrackerResult, lines: string[]): number {
  let checked = 0;
  for (const [phase, values] of printedByPhase(lines)) {
    const p = r.phases.find((x) => x.name === phase);
    expect(p, `${phase} (printed ${values.join(", ")})`).toBeDefined();
    expect(sorted(p!.rankDurationsS)).toEqual(sorted(values));
    expect(p!.durationS).toBeCloseTo((p!.endMs - p!.startMs) / 1000, 5);
    expect(p!.attrs["vllm.startup.phase.printed_duration_s"]).toBe(p!.printedS!);
    if (values.length === 1) {
      // The printed value is kept; the span is fitted to the markers: a leaf moves by less than
      // the log's one-second resolution, a parent spans its children (README "Phases").
      expect(p!.printedS).toBeCloseTo(values[0], 6);
      const parent = r.phases.some((c) => c.parent === p!.name);
      if (parent) expect(p!.durationS).toBeGreaterThanOrEqual(values[0] - 1);
      else expect(Math.abs(p!.durationS - values[0])).toBeLessThanOrEqual(1 + 1e-6);
    } else {
      // Several ranks: earliest start to latest end, at least the longest rank (within the log's resolution).
      expect(p!.durationS).toBeGreaterThanOrEqual(Math.max(...values) - 1);
      expect(p!.ranks).toBe(values.length);
    }
    checked++;
  }
  return checked;
}

function byName(r: TrackerResult): Map<string, FinalPhase> {
  return new Map(r.phases.map((p) => [p.name, p]));
}

describe("corpus: every real log", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".log")).sort();

  test("the table covers every log in the corpus", () => {
    expect(files.length).toBe(22);
    expect(sorted(files.map((f) => f.length))).toEqual(sorted(Object.keys(EXPECT).map((f) => f.length)));
    for (const f of files) expect(EXPECT[f], f).toBeDefined();
  });

  for (const file of files) {
    const exp = EXPECT[file];
    test(file, () => {
      const text = readFileSync(join(DIR, file), "utf8");
      const r: ImportResult = importLogFile(join(DIR, file));
      expect(r.outcome).toBe(exp.outcome);
      expect(r.engineVersion).toBe(exp.version);
      expect(r.startups).toBe(exp.startups ?? 1);
      const phases = byName(r);
      for (const n of exp.present) expect(phases.has(n), `${n} present`).toBe(true);
      for (const n of exp.absent) expect(phases.has(n), `${n} absent`).toBe(false);

      if (exp.outcome === "failed") {
        expect(r.error).not.toBeNull();
        expect(r.error!.startsWith(exp.error!), `error: ${r.error}`).toBe(true);
        expect(text.includes(r.error!.replace(/…$/, ""))).toBe(true); // the exception line as printed
        const errs = r.phases.filter((p) => p.status === "error").map((p) => p.name);
        expect(sorted(errs.map((n) => n.length))).toEqual(sorted(exp.errorPhases!.map((n) => n.length)));
        for (const n of exp.errorPhases!) expect(phases.get(n)!.status).toBe("error");
        for (const n of exp.errorPhases!) expect(phases.get(n)!.error).toBe(r.error!);
        // The failing top-level phase starts where the last finished one ended, not at 0 by accident.
        const failing = r.phases.find((p) => p.status === "error" && !p.parent)!;
        const before = r.phases.filter((p) => !p.parent && p.status === "ok" && p.startMs < failing.startMs);
        if (before.length) expect(failing.startMs).toBeGreaterThanOrEqual(Math.min(...before.map((p) => p.endMs)));
        if (failing.name !== "bootstrap") expect(failing.startMs).toBeGreaterThan(r.t0);
      } else {
        expect(r.error).toBeNull();
        expect(r.phases.every((p) => p.status !== "error")).toBe(true);
      }
      if (exp.running) expect(phases.get(exp.running)!.status).toBe("running");
      if (exp.outcome === "ready") expect(r.phases.every((p) => p.status === "ok")).toBe(true);

      // Every phase lies inside the start-up; durations are consistent.
      for (const p of r.phases) {
        expect(p.startMs).toBeGreaterThanOrEqual(r.t0);
        expect(p.endMs).toBeLessThanOrEqual(r.endT);
        expect(p.durationS).toBeGreaterThanOrEqual(0);
      }
      expect(r.unexplainedS).toBeGreaterThanOrEqual(0);

      const parts = startupLines(file, text);
      const results = [r, ...r.restarts];
      expect(results.length).toBe(parts.length);
      for (let i = 0; i < parts.length; i++) checkPrinted(results[i], parts[i]);
    });
  }
});

describe("corpus: specific shapes", () => {
  const imp = (f: string) => importLogFile(join(DIR, f));

  test("TP4 x PP2 sampled log: per-rank Dynamo values and the hull (duplicate line counted once)", () => {
    const r = imp("v0.10.x-h100x8-tp4-pp2-ep-qwen3-30b-a3b-thinking-ok-slurm-wrapper-sampled.log");
    const d = byName(r).get("dynamo_transform")!;
    expect(sorted(d.rankDurationsS)).toEqual([9.62, 10.81]);
    expect(d.ranks).toBe(2);
    // PP0_TP2 ended 00:44:15 after 10.81 s, PP1_TP2 ended 00:44:14 after 9.62 s.
    const t = (hms: string) => Date.UTC(r.t0 ? new Date(r.t0).getUTCFullYear() : 0, 8, 24, ...hms.split(":").map(Number) as [number, number, number]);
    expect(d.endMs).toBe(t("00:44:15"));
    expect(d.startMs).toBe(Math.min(t("00:44:15") - 10810, t("00:44:14") - 9620));
    expect(d.durationS).toBeCloseTo(10.81, 6);
    // The first ~43 s (platform detection -> first compile) have no phase: reported, not hidden.
    expect(r.unexplainedS).toBeGreaterThan(40);
  });

  test("TP8 V0: every rank's printed profiling and capture time is kept", () => {
    const r = imp("v0.6.6.post1-l40s-x8-tp8-internvl3-78b-offline-ok.log");
    const p = byName(r);
    expect(p.get("profile_run")!.ranks).toBe(8);
    expect(p.get("cuda_graph_capture")!.rankDurationsS).toEqual([31, 31, 31, 31, 31, 31, 31, 31]);
    expect(p.get("model_loading")!.ranks).toBe(8);
    expect(r.parallel.tensor).toBe(8);
  });

  test("compose log: one service traced, restart after the failure is a second start-up", () => {
    const r = imp("v0.16.1rc1-l40s-2x-compose-qwen3.5-4b-failed-no-kv-memory-then-restart-ok.log");
    expect(r.stream).toBe("qwen3.5-4b");
    expect(r.otherStreams).toEqual(["qwen3.5-9b"]);
    expect(r.model).toBe("/models/cyankiwi/Qwen3.5-4B-AWQ-4bit");
    expect(r.restarts.length).toBe(1);
    const second = r.restarts[0];
    expect(second.outcome).toBe("ready");
    const s = byName(second);
    expect(s.get("graph_compile")!.attrs["vllm.startup.compile_cache.hit"]).toBe(true);
    expect(s.get("torch_compile")!.attrs["vllm.startup.compile_cache.hit"]).toBe(true);
    expect(s.get("load_weights")!.durationS).toBe(5.59);
    expect(s.has("server_start")).toBe(true);
    // First start-up: the compile total with profiling is an attribute, not torch_compile's duration.
    const f = byName(r);
    expect(f.get("torch_compile")!.attrs["vllm.startup.compile.with_profiling_s"]).toBe(32);
    expect(f.get("kv_cache_profiling")!.attrs["vllm.startup.kv_cache.gib"]).toBe(-8.59);
    // The API server's chat-template warm-up (v0.13+) is a step of server_start, with vLLM's 1124.9 ms.
    const chat = s.get("chat_template_warmup")!;
    expect(chat.parent).toBe("server_start");
    expect(chat.printedS).toBeCloseTo(1.1249, 6);
    expect(chat.startMs).toBeGreaterThanOrEqual(s.get("server_start")!.startMs);
  });

  test("compile-cache attribute: miss on GB10, hit in the paper logs", () => {
    const r = imp("v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log");
    expect(byName(r).get("graph_compile")!.attrs["vllm.startup.compile_cache.hit"]).toBe(false);
    expect(byName(r).get("torch_compile")!.attrs["vllm.startup.compile_cache.hit"]).toBe(false);
  });

  test("V0 memory profiling: the profiling run keeps the printed time; kv_cache_profiling holds it and the sizing", () => {
    for (const [f, v] of [["v0.8.5-rocm-gfx906-16gb-qwen3-0.6b-v0-fallback-ok.log", 20.58], ["v0.8.2-a100-80gb-phi4-bnb-4bit-unsloth-v0-fallback-ok-notebook.log", 5.35],
      ["v0.9.0-rtx4090-cosyvoice2-0.5b-v0-embedded-in-app-ok.log", 0.69], ["v0.6.6-rocm-radeon-24gb-opt-125m-serverlessllm-loader-ok-hardwrapped.log", 2.68]] as const) {
      const p = byName(imp(f));
      const kv = p.get("kv_cache_profiling")!;
      const run = p.get("profile_run")!;
      expect(run.printedS).toBe(v);
      expect(run.parent).toBe("kv_cache_profiling");
      expect(Math.abs(run.durationS - v)).toBeLessThanOrEqual(1);
      expect(kv.durationS).toBeGreaterThanOrEqual(run.durationS);
    }
    // v0.6.4 prints no profiling time: kv runs from model loading's end to "# GPU blocks".
    const r = imp("v0.6.4.post1-gtx1080-llama3.2-1b-ok-then-engine-died.log");
    const p = byName(r);
    expect(p.get("kv_cache_profiling")!.startMs).toBe(p.get("model_loading")!.endMs);
    expect(p.get("kv_cache_profiling")!.attrs["vllm.startup.kv_cache.blocks"]).toBe(7366);
  });

  test("tails do not invent phases at 0 s", () => {
    for (const f of ["v0.6.x-cpu-arm64-qwen2.5-0.5b-ok-tail.log", "v0.21.0-rtx3090ti-vm-docker-qwen3-0.6b-ok-tail-no-startup-complete.log",
      "v0.7.3-l40s-granite3.0-3b-a800m-v1-ok-partial.log", "v0.7.1-a100-40g-x8-tp8-deepseek-coder-v2-lite-djl-sagemaker-memprofile-fragment.log",
      "v0.7.1-a100-40g-x8-tp8-deepseek-coder-v2-lite-djl-sagemaker-ok-fragment.log"]) {
      const r = imp(f);
      expect(r.startKnown).toBe(false);
      for (const p of r.phases) {
        // Either vLLM printed its duration, or it starts at a marker or where a printed phase ended.
        const anchored = p.printedS !== undefined || r.phases.some((q) => q !== p && Math.abs(q.endMs - p.startMs) < 1) || p.name === "server_start";
        expect(anchored, `${f}: ${p.name}`).toBe(true);
      }
    }
    const tail = imp("v0.6.x-cpu-arm64-qwen2.5-0.5b-ok-tail.log");
    expect(tail.outcome).toBe("ready");
    expect(byName(tail).get("server_start")!.durationS).toBe(1); // 22:54:40 init engine -> 22:54:41 startup complete
    const v073 = byName(imp("v0.7.3-l40s-granite3.0-3b-a800m-v1-ok-partial.log"));
    expect(v073.get("kv_cache_profiling")!.startMs).toBe(v073.get("torch_compile")!.endMs);
  });

  test("hard-wrapped 213-column log: the same phases as an unwrapped V0 log", () => {
    const r = imp("v0.6.6-rocm-radeon-24gb-opt-125m-serverlessllm-loader-ok-hardwrapped.log");
    const p = byName(r);
    expect(p.get("cuda_graph_capture")!.durationS).toBe(9);
    expect(p.get("model_loading")!.attrs["vllm.startup.weights.gib"]).toBe(0);
    expect(r.model).toBe("/models/facebook/opt-125m");
    expect(r.readyT).not.toBeNull();
  });

  test("CPU back-end: no compile or graph phases; warm-up measured", () => {
    const r = imp("v0.11.0-cpu-arm64-qwen2.5-0.5b-offline-ok.log");
    const p = byName(r);
    expect(p.get("model_warmup")!.durationS).toBe(4); // 18:38:48 -> 18:38:52
    expect(p.get("model_loading")!.endMs).toBe(p.get("load_weights")!.endMs);
    expect(r.readyT! - r.t0).toBe(12_000); // 18:38:40 -> init engine at 18:38:52
  });
});
