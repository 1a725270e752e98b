// The predictor's torch.compile prediction for this model with a warm cache:
// what the compile phases would take once the cache is kept. A thin addition
// over src/predict (its public `predict`), kept here so the predictor's files
// stay as they are.
import { DEFAULT_COEFFICIENTS, predict, type Coefficients, type DesignInput } from "../predict/model.ts";
import type { StartupRecord } from "./facts.ts";

export interface WarmCompile {
  dynamo_transform: number;
  graph_compile: number;
  /** The same model's cold prediction, for the explanation. */
  cold_graph_compile: number;
}

export function predictWarmCompile(features: Partial<DesignInput>, coefficients: Coefficients = DEFAULT_COEFFICIENTS): WarmCompile {
  const base = { ...features, compile_enabled: true };
  const warm = predict({ ...base, compile_cache: "warm" }, coefficients).phases;
  const cold = predict({ ...base, compile_cache: "cold" }, coefficients).phases;
  return {
    dynamo_transform: warm.dynamo_transform ?? 0,
    graph_compile: warm.graph_compile ?? 0,
    cold_graph_compile: cold.graph_compile ?? 0,
  };
}

/** Features a recorded start-up reveals by itself (weights, parallel sizes), for a summary or trace file. */
export function featuresFromRecord(rec: StartupRecord, run: Record<string, unknown> = {}): Partial<DesignInput> {
  const gib = rec.phases.find((p) => p.name === "model_loading")?.attributes?.["vllm.startup.weights.gib"];
  const tp = typeof run["vllm.startup.parallel.tensor_size"] === "number" ? (run["vllm.startup.parallel.tensor_size"] as number) : 1;
  const pp = typeof run["vllm.startup.parallel.pipeline_size"] === "number" ? (run["vllm.startup.parallel.pipeline_size"] as number) : 1;
  const f: Partial<DesignInput> = { tensor_parallel_size: tp, pipeline_parallel_size: pp };
  if (typeof gib === "number" && gib > 0) f.weights_gib = gib * tp * pp;
  return f;
}
