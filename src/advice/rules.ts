// The advice rules, as data: which lever to pull, when this trace shows it
// applies, when it stays silent (the lever is already pulled), how long the
// phase would take afterwards, and where each number comes from. The engine
// (./advise.ts) only evaluates this table; README "Advice" renders it.
//
// Conditions name facts (./facts.ts); templates fill `{fact}` placeholders.

/** The lever vocabulary (a contract: names are never renamed or dropped). */
export const LEVERS = [
  "model_download_cache",
  "parallel_weight_loading",
  "page_cache",
  "compile_cache",
  "cuda_graph_sizes",
  "kv_cache_config",
  "snapshot",
] as const;
export type Lever = (typeof LEVERS)[number];

export const LEVER_MEANING: Record<Lever, string> = {
  model_download_cache: "keep the weights on a volume/cache the pod keeps, instead of downloading them at start",
  parallel_weight_loading: "read the checkpoint with several threads/streams (runai_streamer, multi-thread loading, prefetch)",
  page_cache: "have the weights in the host's page cache (same node, pre-read, local copy) before vLLM reads them",
  compile_cache: "keep vLLM's torch.compile cache on a persistent path so the next start loads instead of compiling",
  cuda_graph_sizes: "capture CUDA graphs for fewer batch sizes",
  kv_cache_config: "a start-up that failed on KV-cache memory: change the memory settings",
  snapshot: "restore an initialised engine (sleep mode / GPU memory snapshots) instead of booting one",
};

/**
 * Measured figures the rules use. Each has its source; the test
 * test/advice/rules-data.test.ts recomputes the study-derived ones from
 * ../shared/study-data/ so they cannot drift from the measurements.
 */
export const FIGURES = {
  /** Weight loading time with parallel streaming / loading time with vLLM's default loader, when the bytes come from storage. */
  parallel_factor_storage: {
    value: 59 / 142,
    source: "DGX Spark write-up: parallel weight streaming took weight loading from 142 s to 59 s",
  },
  /** The same when the bytes already come from the page cache. */
  parallel_factor_cached: {
    value: 0.6,
    source: "study-data other_conditions_per_step.csv fig14: load_weights runai_streamer / safetensors, mean of 4 models (0.58-0.64), weights in page cache",
  },
  /** Seconds per GiB of weights read from the page cache (host DRAM to GPU). */
  page_cache_s_per_gib: {
    value: 0.131,
    source: "study-data other_conditions_per_step.csv fig13_case0: median load_weights / weights_gib_log over 9 models (H100 NVL host)",
  },
  /** load_weights from page cache / from SSD, when the weights' size is unknown. */
  page_cache_ratio: {
    value: 0.066,
    source: "study-data other_conditions_per_step.csv fig13_case0 vs fig13_case1: median ratio over 9 models",
  },
  /** A read throughput above this (GiB/s) did not come from storage in any measurement we have. */
  page_cache_min_gib_s: {
    value: 3,
    source: "study-data fig13: page cache 6.6-7.7 GiB/s, SSD 0.33-0.53 GiB/s; 3 GiB/s sits between with margin",
  },
  /** Fixed part of CUDA-graph capture (s), independent of the number of sizes. */
  capture_fixed_s: {
    value: 0.19,
    source: "study-data graph_capture_vs_num_sizes.csv: mean intercept of the linear fits of the three sweeps (0.26, 0.10, 0.21 s)",
  },
  /** The capture sizes suggested. */
  capture_target_sizes: {
    value: [1, 2, 4, 8, 16, 24, 32, 64],
    source: "Tensorfuse guide: --cuda-graph-sizes 1,2,4,8,16,24,32,64 took graph capture from 54 s to 7 s (67 -> 8 sizes)",
  },
  /** Time to wake an initialised engine from sleep mode (s). */
  snapshot_restore_s: {
    value: 0.59,
    source: "vLLM roadmap #48193 (ecosystem-notes §4.1): resident lifecycle 'wake 0.59 s'",
  },
  /** ... and at least this share of the whole start-up: a snapshot is infrastructure, worth it when the overhead is a big part. */
  snapshot_min_share: {
    value: 0.2,
    source: "the study's reference start-ups spend 8.7-10.8 s of 20-35 s in bootstrap (~30 %); we speak below that share only for a slower host's overhead",
  },
  /** A lever must save at least this much to be shown (s). */
  min_saving_s: {
    value: 1,
    source: "below one second the phase's own run-to-run spread (study std, ~0.1-0.5 s) and the one-second log timestamps dominate",
  },
  /** The fixed overhead (bootstrap or KV-cache profiling) must be at least this long before a snapshot is suggested (s). */
  snapshot_min_bootstrap_s: {
    value: 10,
    source: "study-data h100nvl_fig_rest_22models_mean.csv: framework_bootstrap 8.7-10.8 s, kv_cache_profiling 1.4-2.7 s on the reference host; longer is overhead worth skipping",
  },
} as const;

// ---------------------------------------------------------------- conditions

export type FactValue = string | number | boolean | null;

/** One test on one fact. A missing fact (null) fails every test except `absent`. */
export type Condition =
  | { fact: string; is: FactValue }
  | { fact: string; in: FactValue[] }
  | { fact: string; gte: number }
  | { fact: string; gt: number }
  | { fact: string; present: true }
  | { fact: string; absent: true };

/** How long the phase would take once the lever is pulled. */
export type AfterModel =
  /** The phase disappears (the bytes are already there). */
  | { kind: "gone" }
  /** A measured factor on the phase's duration; `factorFigure` picked by a fact. */
  | { kind: "factor"; by: { when: Condition[]; figure: keyof typeof FIGURES }[] }
  /** Bytes x seconds per GiB, else a ratio of the duration. */
  | { kind: "page_cache" }
  /** The predictor's warm-cache prediction for this model, at this machine's speed. */
  | { kind: "warm_compile" }
  /** Fixed part + per-size part scaled to the suggested number of sizes. */
  | { kind: "capture_sizes" }
  /** Restoring an initialised engine. */
  | { kind: "restore" }
  /** A failed start-up: the failed phase's time is lost (and the whole attempt is repeated). */
  | { kind: "failed_attempt" };

/** A piece of text shown only when its conditions hold. */
export interface Part { text: string; when?: Condition[] }

export interface Rule {
  lever: Lever;
  /** The phase the saving comes from: the first of these present in the trace (`pick: "longest"`: the longest). */
  phases: string[];
  pick?: "first" | "longest";
  /** Levers on the same phase are applied in this order; a later one saves only on what remains. */
  order: number;
  /** Every condition must hold. */
  when: Condition[];
  /** Any of these silences the rule: the lever is already pulled, or nothing would be gained. */
  unless: Condition[][];
  after: AfterModel;
  evidence: Part[];
  action: Part[];
  /** Where the saving's numbers come from. */
  source: string;
}

const STREAMERS = ["runai_streamer", "runai_streamer_sharded", "fastsafetensors", "tensorizer", "serverless_llm", "sharded_state", "multithread", "prefetch"];
/** Formats a parallel streamer cannot read (quantised on load, other file formats). */
const NOT_STREAMABLE = ["bitsandbytes", "gguf", "dummy"];
const EPHEMERAL = { fact: "compile_cache.ephemeral", is: true } as const;

export const RULES: Rule[] = [
  {
    lever: "model_download_cache",
    phases: ["model_download"],
    order: 0,
    when: [{ fact: "phase.duration_s", gt: 0 }],
    unless: [],
    after: { kind: "gone" },
    evidence: [
      { text: "the start-up downloaded the weights ({phase.duration_s} s)" },
      { text: " of {weights.gib} GiB, {download.gib_s} GiB/s", when: [{ fact: "download.gib_s", present: true }] },
    ],
    action: [
      { text: "keep the model on a volume the pod keeps (a PVC / node cache with HF_HOME or --download-dir on it) and point vLLM at it; pre-fetch it once with `huggingface-cli download`" },
    ],
    source: "Tensorfuse guide: cache the model in a volume instead of downloading it at each start (the download disappears; reading it back is counted in load_weights)",
  },
  {
    lever: "parallel_weight_loading",
    phases: ["load_weights", "model_loading"],
    order: 1,
    when: [{ fact: "phase.duration_s", gt: 0 }, { fact: "weights.loaded", is: true }],
    unless: [
      [{ fact: "weights.loader", in: STREAMERS }],
      [{ fact: "weights.load_format", in: STREAMERS }],
      [{ fact: "weights.load_format", in: NOT_STREAMABLE }],
    ],
    after: {
      kind: "factor",
      by: [
        { when: [{ fact: "weights.from_page_cache", is: true }], figure: "parallel_factor_cached" },
        { when: [], figure: "parallel_factor_storage" },
      ],
    },
    evidence: [
      { text: "weights loaded in {phase.duration_s} s" },
      { text: " ({weights.gib} GiB", when: [{ fact: "weights.gib_s", present: true }, { fact: "weights.gib", present: true }] },
      { text: " (", when: [{ fact: "weights.gib_s", present: true }, { fact: "weights.gib", absent: true }] },
      { text: " at {weights.gib_s} GiB/s", when: [{ fact: "weights.gib_s", present: true }] },
      { text: ", read from {weights.read_source}", when: [{ fact: "weights.gib_s", present: true }, { fact: "weights.read_source", present: true }] },
      { text: ")", when: [{ fact: "weights.gib_s", present: true }] },
      { text: " with {weights.loader_threads} loader thread(s) ({weights.loader})" },
      { text: " from {weights.filesystem}", when: [{ fact: "weights.filesystem", present: true }] },
    ],
    action: [
      { text: "stream the checkpoint in parallel: `--load-format runai_streamer` (concurrency via --model-loader-extra-config '{\"concurrency\": 16}')" },
      { text: ", or `--model-loader-extra-config '{\"enable_multithread_load\": true, \"num_threads\": 8}'`", when: [{ fact: "engine.at_least_0_10_2", is: true }] },
      { text: "; on a network file system also `--safetensors-load-strategy=prefetch`", when: [{ fact: "engine.at_least_0_18", is: true }] },
    ],
    source: "DGX Spark write-up (142 s -> 59 s, storage); study fig14 runai_streamer vs safetensors (x0.6, page cache)",
  },
  {
    lever: "page_cache",
    phases: ["load_weights", "model_loading"],
    order: 2,
    when: [{ fact: "phase.duration_s", gt: 0 }, { fact: "weights.loaded", is: true }],
    unless: [
      [{ fact: "weights.from_page_cache", is: true }],
    ],
    after: { kind: "page_cache" },
    evidence: [
      { text: "weights loaded in {phase.duration_s} s" },
      { text: " at {weights.gib_s} GiB/s", when: [{ fact: "weights.gib_s", present: true }] },
      { text: ", from storage (the sampler saw {weights.read_source} reads)", when: [{ fact: "weights.read_source", present: true }] },
      { text: " (where the bytes came from was not sampled; this rate is storage's, not the page cache's)", when: [{ fact: "weights.read_source", absent: true }] },
    ],
    action: [
      { text: "start where the weights are already cached: schedule restarts on the same node, read the files once before starting (`cat <model>/*.safetensors > /dev/null`, vmtouch), or copy them to local NVMe; the host needs free RAM for the checkpoint" },
      { text: " ({weights.gib} GiB)", when: [{ fact: "weights.gib", present: true }] },
    ],
    source: "study fig13: the same 9 models from page cache vs after drop_caches (SSD): 0.13 s/GiB vs 1.9 s/GiB",
  },
  {
    lever: "compile_cache",
    phases: ["graph_compile", "torch_compile"],
    order: 0,
    when: [{ fact: "compile_cache.hit", is: false }, { fact: "phase.duration_s", gt: 0 }],
    unless: [],
    after: { kind: "warm_compile" },
    evidence: [
      { text: "torch.compile missed its cache (\"Compiling a graph\"): {phase.name} took {phase.duration_s} s" },
      { text: "; with a warm cache the predictor puts it at {lever.after_s} s for this model" },
      { text: "; cache directory {compile_cache.dir}", when: [{ fact: "compile_cache.dir", present: true }] },
      { text: ", under {compile_cache.ephemeral_root}: lost with the container unless that path is a volume", when: [EPHEMERAL] },
      { text: "; the cache was disabled (VLLM_DISABLE_COMPILE_CACHE)", when: [{ fact: "compile_cache.disabled", is: true }] },
    ],
    action: [
      { text: "unset VLLM_DISABLE_COMPILE_CACHE; ", when: [{ fact: "compile_cache.disabled", is: true }] },
      { text: "set VLLM_CACHE_ROOT to a persistent volume (e.g. VLLM_CACHE_ROOT=/cache/vllm on a PVC) so the next start loads the compiled graphs", when: [EPHEMERAL] },
      { text: "keep {compile_cache.dir_root} between starts (mount it from a volume, or move it with VLLM_CACHE_ROOT) so the next start loads the compiled graphs", when: [{ fact: "compile_cache.ephemeral", is: false }] },
      { text: "keep vLLM's cache (~/.cache/vllm, moved with VLLM_CACHE_ROOT) on a persistent volume so the next start loads the compiled graphs", when: [{ fact: "compile_cache.dir", absent: true }] },
    ],
    source: "the predictor's warm-cache prediction for this model (study: cold vs warm compile, fig15 vs fig-rest), scaled by this machine's Dynamo speed; DGX Spark write-up 39 s -> 10 s",
  },
  {
    lever: "cuda_graph_sizes",
    phases: ["cuda_graph_capture"],
    order: 0,
    when: [{ fact: "phase.duration_s", gt: 0 }, { fact: "phase.status", is: "ok" }, { fact: "capture.sizes", gt: 8 }],
    unless: [[{ fact: "run.enforce_eager", is: true }]],
    after: { kind: "capture_sizes" },
    evidence: [
      { text: "captured CUDA graphs for {capture.sizes} batch sizes ({capture.sizes_source}) in {phase.duration_s} s" },
      { text: "; 8 sizes would take about {lever.after_s} s" },
    ],
    action: [
      { text: "capture fewer sizes: `--cuda-graph-sizes 1 2 4 8 16 24 32 64`", when: [{ fact: "engine.at_least_0_12", is: false }] },
      { text: "capture fewer sizes: `--compilation-config '{\"cudagraph_capture_sizes\": [1,2,4,8,16,24,32,64]}'` (or `--max-cudagraph-capture-size 64`)", when: [{ fact: "engine.at_least_0_12", is: true }] },
      { text: ". Caveat: batches above 64 then run without CUDA graphs and batches between sizes are padded, so decode throughput at high concurrency drops; keep the sizes up to the concurrency you serve (--max-num-seqs)" },
    ],
    source: "capture time scales with the number of sizes: study sweep (graph_capture_vs_num_sizes.csv, fixed part 0.19 s) and the Tensorfuse guide (54 s -> 7 s for 67 -> 8 sizes)",
  },
  {
    lever: "kv_cache_config",
    phases: ["@failed"],
    order: 0,
    when: [{ fact: "failure.kv_memory", is: true }],
    unless: [],
    after: { kind: "failed_attempt" },
    evidence: [
      { text: "the start-up failed on KV-cache memory after {run.total_s} s: {failure.error}" },
      { text: "; available KV cache memory {kv.gib} GiB", when: [{ fact: "kv.gib", present: true }] },
      { text: "; gpu_memory_utilization was {config.gpu_memory_utilization}", when: [{ fact: "config.gpu_memory_utilization", present: true }] },
      { text: "; max_model_len {config.max_model_len}", when: [{ fact: "config.max_model_len", present: true }] },
      { text: "; vLLM needed {failure.kv_tokens_needed} tokens of KV cache and had room for {failure.kv_tokens_available}", when: [{ fact: "failure.kv_tokens_needed", present: true }] },
      { text: "; one request at max seq len {failure.max_seq_len} needs {failure.kv_gib_needed} GiB of KV cache, {failure.kv_gib_available} GiB were available", when: [{ fact: "failure.kv_gib_needed", present: true }] },
      { text: "; vLLM estimated the longest model length that fits as {failure.kv_tokens_available}", when: [{ fact: "failure.kv_gib_needed", present: true }, { fact: "failure.kv_tokens_available", present: true }] },
      { text: "; out of GPU memory asking for {failure.oom_tried_gib} GiB", when: [{ fact: "failure.oom_tried_gib", present: true }] },
      { text: " with {failure.oom_free} free", when: [{ fact: "failure.oom_tried_gib", present: true }, { fact: "failure.oom_free", present: true }] },
    ],
    action: [
      { text: "the GPU ran out while vLLM profiled or captured: free it from other processes, or lower --gpu-memory-utilization, --max-num-seqs or --max-num-batched-tokens, or --enforce-eager (graphs need memory too)", when: [{ fact: "failure.oom_tried_gib", present: true }] },
      { text: "raise --gpu-memory-utilization (another process on the GPU counts against it: lower that one's share or give this server its own GPU)", when: [{ fact: "failure.oom_tried_gib", absent: true }] },
      { text: ", or lower --max-model-len to at most {failure.kv_tokens_available}", when: [{ fact: "failure.kv_tokens_available", present: true }] },
      { text: ", or lower --max-model-len", when: [{ fact: "failure.kv_tokens_available", absent: true }, { fact: "failure.oom_tried_gib", absent: true }] },
      { text: ", --max-num-seqs, use --kv-cache-dtype fp8, or spread the model over more GPUs (--tensor-parallel-size)", when: [{ fact: "failure.oom_tried_gib", absent: true }] },
    ],
    source: "the failed attempt itself: its time is lost and the retry repeats it",
  },
  {
    lever: "snapshot",
    phases: ["bootstrap", "kv_cache_profiling"],
    pick: "longest",
    order: 0,
    when: [
      { fact: "phase.duration_s", gte: FIGURES.snapshot_min_bootstrap_s.value },
      { fact: "phase.share", gte: FIGURES.snapshot_min_share.value },
      { fact: "run.outcome", is: "ready" },
    ],
    unless: [],
    after: { kind: "restore" },
    evidence: [
      { text: "{phase.name} took {phase.duration_s} s ({phase.share_pct} % of the start-up), fixed engine overhead that no flag shortens" },
      { text: " (imports, platform and model config, worker start)", when: [{ fact: "phase.name", is: "bootstrap" }] },
      { text: " (the profiling forward pass and KV-cache sizing)", when: [{ fact: "phase.name", is: "kv_cache_profiling" }] },
    ],
    action: [
      { text: "restore an initialised engine instead: vLLM sleep mode (--enable-sleep-mode, /sleep and /wake_up) on a kept-warm pod, or a GPU memory snapshot of it (Modal, CRIU/cuda-checkpoint); a restore also skips compile, KV profiling and graph capture" },
    ],
    source: "vLLM roadmap #48193: wake from sleep 0.59 s; RunPod/Modal notes: snapshots cut the part no flag touches",
  },
];
