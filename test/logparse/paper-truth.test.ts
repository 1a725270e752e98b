// The two DEBUG-level paper logs against the study's per-step seconds.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { importLogFile } from "../../src/logparse/import-log.ts";

const DIR = join(process.cwd(), "..", "shared", "vllm-logs", "paper-h100nvl");
const MAP: Record<string, string> = {
  detect_platform: "detect_platform",
  llm_imports: "imports",
  get_model_info: "model_info",
  worker_init: "worker_init",
  tokenizer_init: "tokenizer_init",
  model_init: "model_init",
  load_weights: "load_weights",
  model_loading: "model_loading",
  dynamo_transform_time: "dynamo_transform",
  graph_compile_cached: "graph_compile",
  "torch.compile": "torch_compile",
  kv_cache_profiling: "kv_cache_profiling",
  graph_capturing: "cuda_graph_capture",
};

for (const base of ["v0.10.1.1-h100nvl-llama2-7b-hf", "v0.10.1.1-h100nvl-qwen-0.5b"]) {
  describe(base, () => {
    const truth = JSON.parse(readFileSync(join(DIR, `${base}.truth.json`), "utf8")).steps as Record<string, number>;
    const r = importLogFile(join(DIR, `${base}.log`));
    const phases = new Map(r.phases.map((p) => [p.name, p]));

    test("ready, offline engine, version and parents", () => {
      expect(r.outcome).toBe("ready");
      expect(r.engineVersion).toBe("0.10.1.1");
      for (const n of ["detect_platform", "imports", "model_info", "worker_init"]) expect(phases.get(n)!.parent).toBe("bootstrap");
      for (const n of ["model_init", "load_weights"]) expect(phases.get(n)!.parent).toBe("model_loading");
      for (const n of ["dynamo_transform", "graph_compile"]) expect(phases.get(n)!.parent).toBe("torch_compile");
      expect(phases.get("graph_compile")!.attrs["vllm.startup.compile_cache.hit"]).toBe(true);
      expect(phases.get("torch_compile")!.attrs["vllm.startup.compile_cache.hit"]).toBe(true);
    });

    for (const [step, phase] of Object.entries(MAP)) {
      test(`${step} -> ${phase}`, () => {
        expect(truth[step], `truth has ${step}`).toBeDefined();
        const p = phases.get(phase);
        expect(p, phase).toBeDefined();
        expect(Math.abs(p!.durationS - truth[step])).toBeLessThanOrEqual(0.01);
      });
    }
  });
}
