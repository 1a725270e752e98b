// The canonical phase names: a contract shared by spans, the summary JSON, the
// predictor, the API and the dashboards. Keep the names exactly as they are.

export const TOP_LEVEL_PHASES = [
  "model_download",
  "bootstrap",
  "tokenizer_init",
  "model_loading",
  "torch_compile",
  "kv_cache_profiling",
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
} as const;

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
    "torch_compile", "dynamo_transform", "graph_compile",
    "kv_cache_profiling", "model_warmup", "cuda_graph_capture", "server_start",
  ];
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}
