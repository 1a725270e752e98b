// The interpretable per-phase start-up model.
//
// Every phase (and sub-step) is predicted by one small linear model:
//     predicted_s = intercept + sum_i coef_i * value_i
// over a handful of named, physically meaningful design values derived from the
// Features (weights GiB, estimated compiled-graph KB, capture sizes x layers, ...).
// The design values are computed here, in one place (`designRow`), so every
// prediction can be explained as "feature = value, coefficient = c".
//
// Phases that do not happen in a run are absent from the result (not zero):
// --enforce-eager / -O0 remove torch_compile (and CUDA-graph capture where the
// vLLM version needs compilation for graphs), `cuda_graphs_enabled=false`
// removes cuda_graph_capture.

import type { Features } from "./features.ts";
import defaultCoefficientsJson from "./coefficients.json";

export interface LinearModel {
  intercept: number;
  coef: Record<string, number>;
}

export interface Coefficients {
  schema: "startup-tracer.coefficients/v1";
  /** "reference" (shipped, study's H100 NVL machine) or "local" (refitted from this machine's history). */
  calibration: "reference" | "local";
  source: string;
  fitted_at?: string;
  /** Compiled-graph size estimator (KB), from the architecture (before the graph exists). */
  graph_kb: LinearModel;
  /** One model per predicted leaf phase. */
  phases: Record<string, LinearModel>;
  /** Multiplier on weight-loading bytes per --load-format (data, not code). */
  load_format_factor: Record<string, number>;
  /** Values used when a feature could not be read (medians of the reference data). */
  feature_defaults: Record<string, number>;
  /** Per-phase scale factors applied on top of the linear models (local calibration with few runs). */
  scale?: Record<string, number>;
  /** Fit diagnostics (rows, residual RMS per phase), informative only. */
  diagnostics?: Record<string, unknown>;
}

export const DEFAULT_COEFFICIENTS = defaultCoefficientsJson as unknown as Coefficients;

/** Leaf phases, each with its own linear model. */
export const LEAF_PHASES = [
  "detect_platform", "imports", "model_info", "worker_init",
  "tokenizer_init",
  "model_init", "load_weights",
  "dynamo_transform", "graph_compile",
  "kv_cache_profiling", "cuda_graph_capture",
  "server_start",
] as const;
export type LeafPhase = (typeof LEAF_PHASES)[number];

/** Parents whose prediction is the sum of their children. */
export const PARENT_SUMS: Record<string, readonly LeafPhase[]> = {
  bootstrap: ["detect_platform", "imports", "model_info", "worker_init"],
  model_loading: ["model_init", "load_weights"],
  torch_compile: ["dynamo_transform", "graph_compile"],
};

/** Top-level phases summed into total_s. */
export const TOTAL_PARTS = [
  "bootstrap", "tokenizer_init", "model_loading", "torch_compile",
  "encoder_profiling", "kv_cache_profiling", "model_warmup", "cuda_graph_capture", "server_start",
] as const;

export interface Term { feature: string; coef: number; value: number }
export interface Explanation { terms: Term[]; intercept: number; scale?: number }
export interface Prediction {
  total_s: number;
  phases: Record<string, number>;
  explain: Record<string, Explanation>;
}

/** The subset of Features the design needs (lets the fitter build rows from study tables). */
export type DesignInput = Pick<Features,
  | "layers" | "num_attention_heads" | "num_kv_heads" | "is_moe" | "is_hybrid" | "gated_mlp"
  | "tokenizer_mb" | "weights_gib" | "active_weights_gib" | "weights_cached_fraction"
  | "load_format" | "compile_enabled" | "cuda_graphs_enabled" | "compile_cache" | "cuda_graph_sizes"
  | "tensor_parallel_size" | "pipeline_parallel_size" | "profile_tokens"
>;

/**
 * Tokens of the study's KV-profiling batch: its logs print "Chunked prefill is
 * enabled with max_num_batched_tokens=2048" (study-data logs, vllm-logs/paper-h100nvl).
 * The profiling forward pass's compute (the active-weights term) scales with the
 * batch's tokens: V0 without chunked prefill profiles max(max_model_len, 2048).
 */
export const REFERENCE_PROFILE_TOKENS = 2048;

function num(v: number | null | undefined, dflt: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : dflt;
}

/** Design values of the compiled-graph size estimator (all "layers x trait" products). */
export function graphDesign(f: Partial<DesignInput>, c: Coefficients): Record<string, number> {
  const d = c.feature_defaults;
  const layers = num(f.layers, d.layers ?? 32) / Math.max(1, num(f.pipeline_parallel_size, 1));
  const heads = num(f.num_attention_heads, 32);
  const kv = num(f.num_kv_heads, heads);
  return {
    layers,
    layers_gqa: kv < heads ? layers : 0,
    layers_moe: f.is_moe ? layers : 0,
    layers_hybrid: f.is_hybrid ? layers : 0,
    layers_plain_mlp: f.gated_mlp === false ? layers : 0,
  };
}

export function applyLinear(m: LinearModel, x: Record<string, number>): { value: number; terms: Term[] } {
  let v = m.intercept;
  const terms: Term[] = [];
  for (const [k, coef] of Object.entries(m.coef)) {
    const value = x[k] ?? 0;
    v += coef * value;
    terms.push({ feature: k, coef, value });
  }
  return { value: v, terms };
}

export function estimateGraphKb(f: Partial<DesignInput>, c: Coefficients): number {
  return Math.max(0, applyLinear(c.graph_kb, graphDesign(f, c)).value);
}

/**
 * Design values per leaf phase. A phase missing from the returned map does not
 * happen in this run.
 */
export function designRow(f: Partial<DesignInput>, c: Coefficients): Partial<Record<LeafPhase, Record<string, number>>> {
  const d = c.feature_defaults;
  const tp = Math.max(1, num(f.tensor_parallel_size, 1));
  const pp = Math.max(1, num(f.pipeline_parallel_size, 1));
  const weightsGib = num(f.weights_gib, d.weights_gib ?? 14);
  const activeGib = num(f.active_weights_gib, weightsGib);
  const perGpuActiveGib = activeGib / (tp * pp);
  const layersPerStage = num(f.layers, d.layers ?? 32) / pp;
  const cached = Math.min(1, Math.max(0, num(f.weights_cached_fraction, 0)));
  const fmt = (f.load_format ?? "auto").toLowerCase();
  const fmtFactor = c.load_format_factor[fmt] ?? c.load_format_factor.auto ?? 1;
  const compileOn = f.compile_enabled !== false;
  const graphsOn = f.cuda_graphs_enabled !== false;
  const cold = f.compile_cache === "cold";
  const kb = estimateGraphKb(f, c);
  const sizes = num(f.cuda_graph_sizes, 35);

  const row: Partial<Record<LeafPhase, Record<string, number>>> = {
    detect_platform: {},
    imports: {},
    model_info: {},
    worker_init: {},
    tokenizer_init: { tokenizer_mb: num(f.tokenizer_mb, d.tokenizer_mb ?? 4) },
    model_init: {},
    load_weights: {
      weights_gib_disk: weightsGib * fmtFactor * (1 - cached),
      weights_gib_cached: weightsGib * fmtFactor * cached,
    },
    kv_cache_profiling: {
      active_gib: perGpuActiveGib * (num(f.profile_tokens, REFERENCE_PROFILE_TOKENS) / REFERENCE_PROFILE_TOKENS),
      compile_cold: compileOn && cold ? 1 : 0,
      compile_off: compileOn ? 0 : 1,
    },
    server_start: {},
  };
  if (compileOn) {
    const hybridLayers = f.is_hybrid ? layersPerStage : 0;
    row.dynamo_transform = { graph_kb: kb, layers_hybrid: hybridLayers };
    row.graph_compile = cold
      ? { graph_kb_cold: kb, cold: 1, graph_kb_warm: 0, layers_hybrid: hybridLayers }
      : { graph_kb_cold: 0, cold: 0, graph_kb_warm: kb, layers_hybrid: hybridLayers };
  }
  if (graphsOn && sizes > 0) {
    row.cuda_graph_capture = {
      capture_sizes: sizes,
      sizes_x_layers: (sizes * layersPerStage) / 100,
      sizes_x_gib: (sizes * perGpuActiveGib) / 100,
      sizes_eager: compileOn ? 0 : sizes,
      sizes_x_moe_layers: f.is_moe ? (sizes * layersPerStage) / 100 : 0,
      sizes_x_hybrid_layers: f.is_hybrid ? (sizes * layersPerStage) / 100 : 0,
    };
  }
  return row;
}

/** Predict every phase of one start-up. */
export function predict(features: Partial<DesignInput>, coefficients: Coefficients = DEFAULT_COEFFICIENTS): Prediction {
  const rows = designRow(features, coefficients);
  const phases: Record<string, number> = {};
  const explain: Record<string, Explanation> = {};
  for (const phase of LEAF_PHASES) {
    const x = rows[phase];
    const m = coefficients.phases[phase];
    if (!x || !m) continue;
    const { value, terms } = applyLinear(m, x);
    const scale = coefficients.scale?.[phase] ?? 1;
    phases[phase] = round3(Math.max(0, value * scale));
    explain[phase] = scale !== 1 ? { terms, intercept: m.intercept, scale } : { terms, intercept: m.intercept };
  }
  for (const [parent, children] of Object.entries(PARENT_SUMS)) {
    const present = children.filter((ch) => ch in phases);
    if (present.length === 0) continue;
    phases[parent] = round3(present.reduce((s, ch) => s + phases[ch], 0));
  }
  let total = 0;
  for (const p of TOTAL_PARTS) total += phases[p] ?? 0;
  return { total_s: round3(total), phases, explain };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Human-readable one-line explanation of a phase's prediction. */
export function explainLine(phase: string, e: Explanation, predicted: number): string {
  const parts = [`${e.intercept.toFixed(3)}`];
  for (const t of e.terms) {
    if (t.coef === 0 || t.value === 0) continue;
    parts.push(`${t.coef.toPrecision(4)}×${t.feature}(${round3(t.value)})`);
  }
  const scale = e.scale && e.scale !== 1 ? ` ×${e.scale.toFixed(3)} (local scale)` : "";
  return `${phase} = ${parts.join(" + ")}${scale} = ${predicted.toFixed(2)} s`;
}
