// Predictor features that a finished log itself reveals (import mode): weights
// GiB from "Model loading took", capture sizes, eager mode, compile-cache hit,
// parallel sizes. The rest falls back to the model's defaults, so imported
// start-ups get predictions and calibrate the local history.
import type { TrackerResult } from "../phases/tracker.ts";
import type { DesignInput } from "./model.ts";

export function featuresFromLog(r: TrackerResult): Partial<DesignInput> & { vllm_version: string | null } {
  const by = new Map(r.phases.map((p) => [p.name, p]));
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const weights = num(by.get("model_loading")?.attrs["vllm.startup.weights.gib"]);
  const sizes = num(by.get("cuda_graph_capture")?.attrs["vllm.startup.cuda_graph.sizes"]);
  const hit = by.get("graph_compile")?.attrs["vllm.startup.compile_cache.hit"];
  const eager = r.runAttrs["vllm.startup.enforce_eager"] === true;
  const f: Partial<DesignInput> & { vllm_version: string | null } = {
    vllm_version: r.engineVersion,
    compile_enabled: !eager && (by.has("torch_compile") || by.has("dynamo_transform")),
    cuda_graphs_enabled: !eager && by.has("cuda_graph_capture"),
    tensor_parallel_size: r.parallel.tensor ?? 1,
    pipeline_parallel_size: r.parallel.pipeline ?? 1,
  };
  if (weights !== null && weights > 0) f.weights_gib = weights * (r.parallel.tensor ?? 1) * (r.parallel.pipeline ?? 1);
  if (sizes !== null) f.cuda_graph_sizes = sizes;
  if (hit !== undefined) f.compile_cache = hit ? "warm" : "cold";
  return f;
}
