// Loader for the start-up study's tables (../shared/study-data/): turns the
// reference machine's rows into training rows (design input + per-leaf-phase
// targets, in our canonical phase names). Used by scripts/fit-reference.ts and
// bench/predict-accuracy.ts. Only rows measured on the study's H100 NVL node
// "n1" (vLLM 0.10.1.1) are used for the reference coefficients.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DesignInput, LeafPhase } from "./model.ts";

export interface TrainingRow {
  model: string;
  dataset: string;
  condition: string;
  x: Partial<DesignInput>;
  /** Measured seconds per leaf phase; absent when not measured in that row. */
  y: Partial<Record<LeafPhase, number>>;
  /** Study's attributed total (sum of steps) and end-to-end (last - first log line), when known. */
  total_time?: number;
  actual_total_time?: number;
}

/** Architecture traits of the study's models that the tables do not carry (from their public config.json). */
export const STUDY_MODEL_TRAITS: Record<string, { model_type: string; gated_mlp: boolean; hybrid: boolean }> = {
  "qwen-0.5b": { model_type: "qwen2", gated_mlp: true, hybrid: false },
  "qwen-1.8b": { model_type: "qwen2", gated_mlp: true, hybrid: false },
  "qwen-4b": { model_type: "qwen2", gated_mlp: true, hybrid: false },
  "qwen-14b": { model_type: "qwen2", gated_mlp: true, hybrid: false },
  "qwen-14.3b": { model_type: "qwen2_moe", gated_mlp: true, hybrid: false },
  "llama2-7b-hf": { model_type: "llama", gated_mlp: true, hybrid: false },
  "llama2-13b-hf": { model_type: "llama", gated_mlp: true, hybrid: false },
  "llama3.1-8b-instruct": { model_type: "llama", gated_mlp: true, hybrid: false },
  "falcon-7b": { model_type: "falcon", gated_mlp: false, hybrid: false },
  "yi-6b": { model_type: "llama", gated_mlp: true, hybrid: false },
  "yi-9b": { model_type: "llama", gated_mlp: true, hybrid: false },
  "mpt-7b": { model_type: "mpt", gated_mlp: false, hybrid: false },
  "gpt-oss-20b": { model_type: "gpt_oss", gated_mlp: true, hybrid: false },
  "deepseek-v2-lite-16b": { model_type: "deepseek_v2", gated_mlp: true, hybrid: false },
  "deepseek-r1-distill-llama-8b": { model_type: "llama", gated_mlp: true, hybrid: false },
  "deepseek-r1-distill-qwen-7b": { model_type: "qwen2", gated_mlp: true, hybrid: false },
  "granite3.3-8b-instruct": { model_type: "granite", gated_mlp: true, hybrid: false },
  "granite4.0-h-3b": { model_type: "granitemoehybrid", gated_mlp: true, hybrid: true },
  "granite4.0-h-32b": { model_type: "granitemoehybrid", gated_mlp: true, hybrid: true },
  "olmoe-7b": { model_type: "olmoe", gated_mlp: true, hybrid: false },
};

/** Study step column -> our leaf phase. */
export const STEP_MAP: Record<string, LeafPhase> = {
  detect_platform: "detect_platform",
  llm_imports: "imports",
  get_model_info: "model_info",
  worker_init: "worker_init",
  tokenizer_init: "tokenizer_init",
  model_init: "model_init",
  load_weights: "load_weights",
  dynamo_transform_time: "dynamo_transform",
  kv_cache_profiling: "kv_cache_profiling",
  graph_capturing: "cuda_graph_capture",
};

export function parseCsv(text: string): Record<string, string>[] {
  const lines: string[][] = [];
  let field = "", row: string[] = [], q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (q) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') q = false;
      else field += ch;
    } else if (ch === '"') q = true;
    else if (ch === ",") { row.push(field); field = ""; }
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field); field = "";
      if (row.some((c) => c !== "")) lines.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== "" || row.length) { row.push(field); lines.push(row); }
  const [head, ...body] = lines;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ""])));
}

const n = (s: string | undefined): number | null => {
  if (s === undefined || s.trim() === "") return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
};

export interface ModelRow {
  model: string;
  size_b: number | null;
  weights_gib: number | null;
  layers: number | null;
  heads: number | null;
  kv_heads: number | null;
  tokenizer_mb: number | null;
  compiled_graph_kb: number | null;
  is_moe: boolean;
  active_size_b: number | null;
  split: string;
}

export function loadModelFeatures(dir: string): Map<string, ModelRow> {
  const rows = parseCsv(readFileSync(join(dir, "model_features.csv"), "utf8"));
  const m = new Map<string, ModelRow>();
  for (const r of rows) {
    m.set(r.model, {
      model: r.model,
      size_b: n(r.size_b),
      weights_gib: n(r.weights_gib_log),
      layers: n(r.layers),
      heads: n(r.num_attention_heads),
      kv_heads: n(r.num_kv_heads),
      tokenizer_mb: n(r.tokenizer_mb),
      compiled_graph_kb: n(r.compiled_graph_kb),
      is_moe: r.is_moe === "1",
      active_size_b: n(r.active_size_b),
      split: r.figure_rest_split,
    });
  }
  return m;
}

function baseInput(mf: ModelRow): Partial<DesignInput> {
  const t = STUDY_MODEL_TRAITS[mf.model];
  const w = mf.weights_gib;
  const active = w !== null && mf.is_moe && mf.active_size_b && mf.size_b ? (w * mf.active_size_b) / mf.size_b : w;
  return {
    layers: mf.layers,
    num_attention_heads: mf.heads,
    num_kv_heads: mf.kv_heads,
    is_moe: mf.is_moe,
    is_hybrid: t?.hybrid ?? false,
    gated_mlp: t?.gated_mlp ?? true,
    tokenizer_mb: mf.tokenizer_mb,
    weights_gib: w,
    active_weights_gib: active,
    weights_cached_fraction: 0,
    load_format: "auto",
    compile_enabled: true,
    cuda_graphs_enabled: true,
    compile_cache: "warm",
    cuda_graph_sizes: 35,
    tensor_parallel_size: 1,
    pipeline_parallel_size: 1,
  };
}

function targets(r: Record<string, string>, opts: { bootstrap: boolean }): Partial<Record<LeafPhase, number>> {
  const y: Partial<Record<LeafPhase, number>> = {};
  for (const [col, phase] of Object.entries(STEP_MAP)) {
    const v = n(r[col]);
    if (v === null) continue;
    if (!opts.bootstrap && ["detect_platform", "imports", "model_info", "worker_init", "tokenizer_init", "model_init"].includes(phase)) continue;
    y[phase] = v;
  }
  if (y.load_weights === undefined) {
    const ml = n(r.model_loading), mi = n(r.model_init);
    if (ml !== null && mi !== null) y.load_weights = ml - mi;
  }
  const cold = n(r.graph_compile_general_shape), warm = n(r.graph_compile_cached);
  if (cold !== null) y.graph_compile = cold;
  else if (warm !== null) y.graph_compile = warm;
  return y;
}

/**
 * All reference-machine rows. The main 17-model table gives every phase; the
 * other n1 conditions add variation the main table lacks (page cache vs disk,
 * load formats, cold compile cache, compile disabled, capture-size sweep). The
 * constant phases (bootstrap sub-steps, tokenizer, model init) are fitted on the
 * main table only: the other conditions were run on other days and differ by
 * ~0.7 s in bootstrap.
 */
export function loadReferenceRows(dir: string): TrainingRow[] {
  const mfs = loadModelFeatures(dir);
  const out: TrainingRow[] = [];
  for (const r of parseCsv(readFileSync(join(dir, "h100nvl_fig_rest_22models_mean.csv"), "utf8"))) {
    const mf = mfs.get(r.model);
    if (!mf) continue;
    const x = baseInput(mf);
    x.weights_gib = n(r.weights_gib_log) ?? x.weights_gib;
    x.weights_cached_fraction = /page cache \(DRAM\)/.test(r.weights_read_from) ? 1 : 0;
    x.cuda_graph_sizes = n(r.cudagraph_capture_sizes_count) ?? 35;
    out.push({
      model: r.model, dataset: "fig_rest", condition: r.condition, x,
      y: targets(r, { bootstrap: true }),
      total_time: n(r.total_time) ?? undefined,
      actual_total_time: n(r.actual_total_time_repo_avg) ?? undefined,
    });
  }
  for (const r of parseCsv(readFileSync(join(dir, "other_conditions_per_step.csv"), "utf8"))) {
    if (!/\(n1\)/.test(r.machine)) continue;
    const mf = mfs.get(r.model);
    if (!mf) continue;
    const x = baseInput(mf);
    x.cuda_graph_sizes = n(r.cudagraph_capture_sizes_count) ?? 35;
    const ds = r.dataset;
    const cond = r.condition;
    // Storage state as described by each experiment: fig13 case1 drops the page
    // cache; the other small-model-set experiments (fig7, fig9, fig13 case0,
    // fig14, fig15) read weights from the page cache.
    x.weights_cached_fraction = ds === "fig13_case1" ? 0 : 1;
    const lf = /load-format=([a-z_]+)/.exec(cond);
    if (lf) x.load_format = lf[1];
    if (/TORCH_COMPILE_DISABLE=1/.test(cond)) x.compile_enabled = false;
    if (/VLLM_DISABLE_COMPILE_CACHE=1/.test(cond)) x.compile_cache = "cold";
    const y = targets(r, { bootstrap: false });
    if (x.compile_enabled === false) { delete y.dynamo_transform; delete y.graph_compile; }
    out.push({ model: r.model, dataset: ds, condition: cond, x, y });
  }
  return out;
}

/** Rows of the compiled-graph size table (architecture -> KB) for the graph-size estimator. */
export function loadGraphKbRows(dir: string): { model: string; x: Partial<DesignInput>; kb: number }[] {
  const out: { model: string; x: Partial<DesignInput>; kb: number }[] = [];
  for (const mf of loadModelFeatures(dir).values()) {
    if (mf.compiled_graph_kb === null) continue;
    out.push({ model: mf.model, x: baseInput(mf), kb: mf.compiled_graph_kb });
  }
  return out;
}
