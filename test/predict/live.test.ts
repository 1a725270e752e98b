import { expect, test } from "bun:test";
import { LivePredictor } from "../../src/predict/live.ts";
import { predict } from "../../src/predict/model.ts";

const llama7 = {
  layers: 32, num_attention_heads: 32, num_kv_heads: 32, tokenizer_mb: 1.8, weights_gib: 12.55, active_weights_gib: 12.55,
  compile_cache: "warm" as const, cuda_graph_sizes: 35,
};

test("predictions before start, frozen at start; ETA counts down and rescales after a phase ends", () => {
  const pred = predict(llama7);
  const lp = new LivePredictor(pred);
  expect(lp.totalPredicted()).toBeCloseTo(pred.total_s, 2);
  expect(lp.eta(0, null, 0)).toBeCloseTo(pred.total_s, 1);

  lp.onPhaseStart("bootstrap", 0);
  lp.onPhaseStart("detect_platform", 0);
  expect(lp.predictedFor("detect_platform")).toBeCloseTo(pred.phases.detect_platform, 3);
  const eta0 = lp.eta(0.01, "detect_platform", 0.01)!;
  expect(eta0).toBeLessThan(pred.total_s);
  lp.onPhaseEnd("detect_platform", pred.phases.detect_platform);
  lp.onPhaseStart("imports", 0.02);
  // this machine is twice as slow at imports: the cpu-class phases still to come get slower
  const beforeModelInfo = lp.predictedFor("model_info")!;
  lp.onPhaseEnd("imports", pred.phases.imports * 2 + 10);
  const after = lp.predictedFor("model_info")!;
  expect(after).toBeGreaterThan(beforeModelInfo);
  // the io class (weights) has no evidence of its own: it takes only part of the cpu evidence
  expect(lp.factor("cpu")).toBeGreaterThan(1);
  expect(lp.factor("io")).toBeGreaterThan(1);
  expect(lp.factor("io")).toBeLessThan(lp.factor("cpu"));
  expect(lp.predictedFor("load_weights")).toBeCloseTo(pred.phases.load_weights * lp.factor("io"), 2);
  // a phase's prediction is frozen once it started
  lp.onPhaseStart("model_info", 12);
  const frozen = lp.predictedFor("model_info");
  lp.onPhaseEnd("worker_init", 100); // not started: still moves the factor
  expect(lp.predictedFor("model_info")).toBe(frozen);
  // ETA decreases as the phase in flight runs
  const e1 = lp.eta(13, "model_info", 1)!, e2 = lp.eta(15, "model_info", 3)!;
  expect(e2).toBeLessThan(e1);
});

test("ETA: skipped phases do not count; finishing the last phase gives ~0; no prediction -> null", () => {
  const pred = predict(llama7);
  const lp = new LivePredictor(pred);
  lp.onPhaseStart("kv_cache_profiling", 40);
  const eta = lp.eta(40, "kv_cache_profiling", 0)!;
  expect(eta).toBeCloseTo(pred.phases.kv_cache_profiling + pred.phases.cuda_graph_capture + pred.phases.server_start, 1);
  lp.onPhaseEnd("kv_cache_profiling", 2);
  lp.onPhaseStart("cuda_graph_capture", 42);
  lp.onPhaseEnd("cuda_graph_capture", 1);
  lp.onPhaseStart("server_start", 43);
  lp.onPhaseEnd("server_start", 1);
  expect(lp.eta(44, null, 0)).toBe(0);
  expect(new LivePredictor(null).eta(1, null, 0)).toBeNull();
  expect(new LivePredictor(null).predictedFor("load_weights")).toBeNull();
});

test("io-class rescaling: slow weight loading does not slow down the CPU phases", () => {
  const pred = predict(llama7);
  const lp = new LivePredictor(pred);
  lp.onPhaseStart("load_weights", 10);
  lp.onPhaseEnd("load_weights", pred.phases.load_weights * 3);
  expect(lp.factor("io")).toBeGreaterThan(2);
  // the GPU and CPU phases have no evidence of their own: part of the io evidence, not all of it
  expect(lp.factor("gpu")).toBeGreaterThan(1);
  expect(lp.factor("gpu")).toBeLessThan(lp.factor("io"));
  expect(lp.predictedFor("kv_cache_profiling")).toBeCloseTo(pred.phases.kv_cache_profiling * lp.factor("gpu"), 2);
});

test("median of per-phase ratios: one outlier phase does not blow up the rest; bound-by moves a phase's evidence", () => {
  const pred = predict(llama7);
  const lp = new LivePredictor(pred);
  // three cpu phases: two as predicted, one ten times slower
  for (const [name, x] of [["detect_platform", 1], ["imports", 1], ["model_info", 10]] as const) {
    lp.onPhaseStart(name, 0);
    lp.onPhaseEnd(name, pred.phases[name] * x);
  }
  expect(lp.factor("cpu")).toBeLessThan(1.2);
  // the sampler says worker_init waited on the GPU: its (slow) evidence counts for the gpu class
  lp.setBoundBy("worker_init", "GPU");
  lp.onPhaseStart("worker_init", 5);
  lp.onPhaseEnd("worker_init", pred.phases.worker_init * 3);
  expect(lp.classOf("worker_init")).toBe("gpu");
  expect(lp.factor("gpu")).toBeGreaterThan(1.5);
  expect(lp.factor("cpu")).toBeLessThan(1.2);
});

test("eta_s: the ETA as it stood when each phase began is recorded and moves as phases finish", () => {
  const pred = predict(llama7);
  const lp = new LivePredictor(pred);
  lp.onPhaseStart("bootstrap", 0);
  expect(lp.etaAt("bootstrap")).toBeCloseTo(pred.total_s, 1);
  lp.onPhaseEnd("bootstrap", pred.phases.bootstrap * 3);
  lp.onPhaseStart("model_loading", pred.phases.bootstrap * 3);
  const remainingPredicted = pred.total_s - pred.phases.bootstrap;
  // the host was slow at bootstrap: the ETA at model_loading is above what the phases' plain sum says
  expect(lp.etaAt("model_loading")!).toBeGreaterThan(remainingPredicted);
  expect(lp.etaAt("cuda_graph_capture")).toBeNull();
});

test("the elapsed-time blend, once the start-up has run past it, leaves the ETA to the model (the demo at 85 s of 124 read 3 s)", () => {
  // A prior-based prediction (an unknown GPU class), the demo's predicted phases.
  const pred = { hw_class: "unknown-gpu", basis: "prior", phases: { bootstrap: 8.7, model_loading: 4.7, torch_compile: 19.6,
    kv_cache_profiling: 35.7, model_warmup: 2.5, cuda_graph_capture: 10.3, server_start: 1.2 } };
  const lp = new LivePredictor(pred, { elapsed: { torch_compile: 0.121 } });
  for (const [name, s, e] of [["bootstrap", 0, 19.6], ["model_loading", 19.6, 40], ["torch_compile", 40, 54.1]] as const) {
    lp.onPhaseStart(name, s);
    lp.onPhaseEnd(name, e - s);
  }
  lp.onPhaseStart("kv_cache_profiling", 54.1);
  // Just after compilation: the blend of the model and 0.121 x 54 s of elapsed time.
  const early = lp.eta(55, "kv_cache_profiling", 0.9)!;
  expect(early).toBeGreaterThan(0);
  // 31 s into the profiling run the elapsed-time estimate is spent: what the model still expects
  // (the rest of kv_cache_profiling, warm-up, capture, server) is the ETA, not a fraction of it.
  const late = lp.eta(85.5, "kv_cache_profiling", 31.4)!;
  const stillAhead = Math.max(0, lp.predictedFor("kv_cache_profiling")! - 31.4) + lp.predictedFor("model_warmup")! + lp.predictedFor("cuda_graph_capture")! + lp.predictedFor("server_start")!;
  expect(late).toBeCloseTo(stillAhead, 1);
  expect(late).toBeGreaterThan(10);
});
