// The canonical phase names: a contract shared by spans, the summary JSON, the
// predictor, the API and the dashboards. Keep the names exactly as they are.

export const TOP_LEVEL_PHASES = [
  "model_download",
  "bootstrap",
  "tokenizer_init",
  "model_loading",
  // Multimodal models: vLLM profiles the encoder before the dummy run that compiles.
  "encoder_profiling",
  "torch_compile",
  "kv_cache_profiling",
  // vLLM's "warmup model" before graph capture (kernel warm-up, autotuning,
  // compiling for specific sizes); on CPU back-ends the whole warm-up.
  "model_warmup",
  "cuda_graph_capture",
  "server_start",
] as const;

export const SUB_STEPS = {
  detect_platform: "bootstrap",
  imports: "bootstrap",
  model_info: "bootstrap",
  worker_init: "bootstrap",
  model_init: "model_loading",
  load_weights: "model_loading",
  dynamo_transform: "torch_compile",
  graph_compile: "torch_compile",
  // The profiling forward pass, then sizing and allocating the KV cache.
  profile_run: "kv_cache_profiling",
  kv_cache_allocation: "kv_cache_profiling",
  // FlashInfer's autotuner ("Autotuning process starts/ends"), JIT kernels (v0.18+).
  autotuning: "model_warmup",
  jit_warmup: "model_warmup",
  // The API server's warm-ups after the engine is up (v0.13+).
  chat_template_warmup: "server_start",
  mm_warmup: "server_start",
  // One step per CUDA-graph capture mode (the progress bars' final states; src/phases/capture-modes.ts).
  capture_mixed_piecewise: "cuda_graph_capture",
  capture_mixed_full: "cuda_graph_capture",
  capture_decode_full: "cuda_graph_capture",
  capture_decode_piecewise: "cuda_graph_capture",
} as const;

/**
 * Top-level phases that vLLM runs *during* another one, as the log shows them:
 * the study's patched tokenizer init happens inside the engine's construction
 * (between model info and worker start), a hub download inside weight loading.
 * The layout makes such a phase a sub-step of the one it lies in.
 */
export const RUNS_INSIDE: Readonly<Record<string, readonly string[]>> = {
  tokenizer_init: ["bootstrap"],
  model_download: ["model_loading"],
};

/** Parents a phase may have in a trace: its catalogue parent, or one it can run inside. */
export function allowedParents(name: string): string[] {
  const p = parentOf(name as PhaseName);
  return [...(p ? [p] : []), ...(RUNS_INSIDE[name] ?? [])];
}

export type TopLevelPhase = (typeof TOP_LEVEL_PHASES)[number];
export type SubStep = keyof typeof SUB_STEPS;
export type PhaseName = TopLevelPhase | SubStep;

export const ALL_PHASES: readonly PhaseName[] = [
  ...TOP_LEVEL_PHASES,
  ...(Object.keys(SUB_STEPS) as SubStep[]),
];

/** Parent of a sub-step, or null for a top-level phase. */
export function parentOf(name: PhaseName): TopLevelPhase | null {
  return (SUB_STEPS as Record<string, TopLevelPhase>)[name] ?? null;
}

/** Order used for display and for "which phase comes next" in the ETA. */
export function phaseOrder(name: PhaseName | string): number {
  const order: string[] = [
    "model_download",
    "bootstrap", "detect_platform", "imports", "model_info", "tokenizer_init", "worker_init",
    "model_loading", "model_init", "load_weights",
    "encoder_profiling",
    "torch_compile", "dynamo_transform", "graph_compile",
    "kv_cache_profiling", "profile_run", "kv_cache_allocation", "model_warmup", "autotuning", "jit_warmup",
    "cuda_graph_capture", "capture_mixed_piecewise", "capture_mixed_full", "capture_decode_full", "capture_decode_piecewise",
    "server_start", "chat_template_warmup", "mm_warmup",
  ];
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}
