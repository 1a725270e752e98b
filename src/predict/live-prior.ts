// The live (wrap/follow) prediction: the reference model on the features of the
// command line and the model's files, carried to the host's hardware class by
// the cross-hardware prior (./prior.ts), or replaced by the fleet history when
// this key started here before. The hardware comes from `--gpu` at once and from
// the host inventory (nvidia-smi) when it answers; phases not yet started are
// then re-based (src/predict/live.ts LivePredictor.rebase).

import type { Features } from "./features.ts";
import { type Coefficients, predict } from "./model.ts";
import { hardwareClass, hardwareFromLog, type Hardware } from "./hardware.ts";
import { weightsGibFromFacts } from "./log-hardware.ts";
import { applyPrior, type PriorPrediction } from "./prior.ts";
import { fleetKey } from "./fleet.ts";
import { fromHistory } from "./import-predict.ts";

/** A server (`vllm serve`, the OpenAI API server module) starts two Python processes; an offline script one. */
export function isServerCommand(argv: string[]): boolean {
  return argv.slice(0, 3).includes("serve") || argv.some((a) => /vllm\.entrypoints\.(openai\.)?api_server/.test(a));
}

export interface LivePrediction { prediction: PriorPrediction; fleet_key: string; hw_class: string; basis: "history" | "reference" | "prior" }

export function livePrediction(features: Features, coefficients: Coefficients, hw: Hardware, argv: string[],
  history?: (key: string) => Record<string, number> | null, logSaysServer = false): LivePrediction {
  const hwClass = hardwareClass(hw);
  // a CPU back-end has no torch.compile/CUDA-graph phases in the reference sense
  const f: Partial<Features> = hw.platform === "cpu" ? { ...features, compile_enabled: false, cuda_graphs_enabled: false } : features;
  const ref = predict(f, coefficients);
  // V1 is the default engine from 0.8 on (and the only one from 0.11); an unknown version is a current one
  const v0 = !!features.vllm_version && /^0\.[0-7]\./.test(features.vllm_version);
  let prediction = applyPrior(ref, { hwClass, server: logSaysServer || isServerCommand(argv), engine: v0 ? "v0" : "v1", multimodal: false });
  const key = fleetKey({
    model: features.model, gpu: hw.gpu ?? (hw.platform === "cpu" ? "cpu" : null), gpu_count: hw.gpu_count, vllm_version: features.vllm_version,
    engine: null, eager: features.enforce_eager, quantization: features.quantization, cuda_graph_sizes: features.cuda_graph_sizes,
    tp: features.tensor_parallel_size, pp: features.pipeline_parallel_size, compile_level: features.compile_level,
  });
  const seen = history?.(key) ?? null;
  if (seen) prediction = fromHistory(prediction, seen);
  return { prediction, fleet_key: key, hw_class: hwClass, basis: seen ? "history" : hwClass === "reference" ? "reference" : "prior" };
}

/**
 * What the log has said so far refines the command line's features: the vLLM
 * version and engine, eager mode, capture sizes, quantization, and the model's
 * size from its name when no model files were readable.
 */
export function refineFeatures(features: Features, facts: import("./log-hardware.ts").LogFacts): Features {
  const f: Features = { ...features };
  if (facts.vllm_version) f.vllm_version = facts.vllm_version;
  if (facts.enforce_eager === true) { f.enforce_eager = true; f.compile_enabled = false; f.cuda_graphs_enabled = false; f.cuda_graph_sizes = 0; }
  if (facts.compile_level === 0) f.compile_enabled = false;
  if (facts.cuda_graph_sizes !== null && f.cuda_graphs_enabled) f.cuda_graph_sizes = facts.cuda_graph_sizes;
  if (facts.cudagraph_mode === "NONE") { f.cuda_graphs_enabled = false; f.cuda_graph_sizes = 0; }
  if (facts.engine === "v0") f.compile_enabled = false;
  if (facts.quantization && !f.quantization) f.quantization = facts.quantization;
  if (!f.model && facts.model) f.model = facts.model;
  // Weights: the model files' bytes, else the name's size; once "Model loading took X GiB"
  // arrived, what vLLM measured on one GPU. Loading is per rank (TP ranks read their
  // shards at the same time), so the design's weights are per rank; KV profiling and
  // capture divide the (total) active weights themselves.
  const ranks = Math.max(1, Math.max(facts.tensor_parallel_size, f.tensor_parallel_size) * Math.max(facts.pipeline_parallel_size, f.pipeline_parallel_size));
  const named = weightsGibFromFacts(facts);
  let total = f.weights_gib ?? named.total;
  let active = f.active_weights_gib ?? named.active ?? total;
  if (facts.loaded_weights_gib !== null && facts.loaded_weights_gib > 0) {
    const share = total && active ? Math.min(1, active / total) : 1;
    total = facts.loaded_weights_gib * ranks;
    active = total * share;
  }
  if (total !== null) { f.weights_gib = total / ranks; f.active_weights_gib = active ?? total; }
  if (facts.tensor_parallel_size > 1) f.tensor_parallel_size = facts.tensor_parallel_size;
  if (facts.pipeline_parallel_size > 1) f.pipeline_parallel_size = facts.pipeline_parallel_size;
  return f;
}

/** The hardware to use: the operator's --gpu, else a GPU the inventory named, else what the log printed, else the inventory. */
export function mergeHardware(inv: Hardware, facts: import("./log-hardware.ts").LogFacts | null): Hardware {
  if (inv.source === "option" || inv.source === "inventory" || !facts) return inv;
  const fromLog = hardwareFromLog(facts);
  if (fromLog.source === "log" || (fromLog.platform && fromLog.platform !== inv.platform)) return { ...fromLog, cpu_model: inv.cpu_model, cpu_cores: inv.cpu_cores };
  return inv;
}
