// Data for the tracker: how bootstrap sub-steps are delimited, and the order in
// which top-level phases follow each other live.
//
// Each bootstrap sub-step runs from the first of its `start` boundaries that
// was seen to the earliest of its `end` boundaries after that. `@t0` is the
// start of the start-up, `@prev` the end of the previous sub-step, `@load` the
// "Starting to load model" line. Boundaries come from rules of kind
// "boundary" in src/logparse/patterns.ts. The study's definitions
// (../shared/study-data/README.md) are the DEBUG-level case.
export const BOOTSTRAP_SEGMENTS = [
  { phase: "detect_platform", start: ["platform_probe", "@t0"], end: ["platform_detected"] },
  { phase: "imports", start: ["@prev"], end: ["imports_done", "api_start", "engine_init"] },
  { phase: "model_info", start: ["@prev"], end: ["model_info_done", "engine_init"] },
  { phase: "worker_init", start: ["engine_init"], end: ["@load"] },
] as const;

/** Top-level phases in the order a start-up goes through them. */
export const LIVE_SEQUENCE = [
  "bootstrap",
  "model_loading",
  "encoder_profiling",
  "torch_compile",
  "kv_cache_profiling",
  "model_warmup",
  "cuda_graph_capture",
  "server_start",
] as const;

/**
 * Live view: the sub-step shown running when a phase starts by expectation
 * (compilation starts with Dynamo, KV-cache profiling with its forward pass).
 * Model loading has none: where weight loading starts is known only when vLLM
 * prints its duration, so until then model_loading itself is what runs.
 */
export const LIVE_FIRST_SUBSTEP: Readonly<Record<string, string>> = {
  torch_compile: "dynamo_transform",
  kv_cache_profiling: "profile_run",
};

/**
 * Live view: a step whose start is placed back from its printed duration, and
 * the step that filled the time from its parent's start until then
 * (`Starting to load model` → weight loading: model_init).
 */
export const LIVE_GAP_BEFORE: Readonly<Record<string, string>> = {
  load_weights: "model_init",
};

/** Live view: the step whose end ends its parent (the compilation ends with its graph compile or cache load). */
export const LIVE_ENDS_PARENT: readonly string[] = ["graph_compile"];

/**
 * Live view: a phase whose begin line shows that a phase started by expectation
 * has not begun yet (after loading, a multimodal model's encoder is profiled
 * before the dummy run that compiles): that one is withdrawn until it begins.
 */
export const LIVE_PREEMPTS: Readonly<Record<string, string>> = {
  encoder_profiling: "torch_compile",
};

/** Live view: the sub-step that follows one that ended. */
export const LIVE_SUBSTEP_AFTER: Readonly<Record<string, string>> = {
  model_init: "load_weights",
  dynamo_transform: "graph_compile",
  profile_run: "kv_cache_allocation",
};

/**
 * Live: a phase whose successor may already run unseen (V1 graph capture shows
 * only a progress bar, and a log or pipe without it reveals the capture only by
 * its printed duration at the end). It is judged on its final duration only:
 * a live alert would charge it with its successor's time.
 */
export const LIVE_MAY_HIDE_NEXT: Readonly<Record<string, string>> = {
  model_warmup: "cuda_graph_capture",
};

/** Phases that start only at their own begin marker, never by expectation. */
export const LIVE_BY_MARKER_ONLY: readonly string[] = ["encoder_profiling"];

/** Phases that eager mode (--enforce-eager) leaves out. */
export const SKIPPED_WHEN_EAGER: readonly string[] = ["torch_compile", "cuda_graph_capture"];

/** Platforms (as in "Automatically detected platform X") without torch.compile and CUDA graphs. */
export const PLATFORMS_WITHOUT_GRAPHS: readonly string[] = ["cpu", "tpu", "xpu", "neuron", "hpu"];

/** Phases the V0 engine does not have (it never runs vLLM's torch.compile). */
export const SKIPPED_BY_V0: readonly string[] = ["torch_compile"];
