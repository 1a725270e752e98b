// The phase pattern table: every start-up log marker vLLM has printed from
// v0.6 to main@2026-08-21, as data. Sources: ../shared/vllm-log-catalog.json
// (ids in `catalog`) and the real logs in ../shared/vllm-logs/. A rule fires
// when its `needle` (a plain substring, checked first because it is cheap)
// occurs in the message and its regex then matches.
//
// Event kinds understood by the tracker (src/phases/tracker.ts):
//   version   engine version (group 1)        model     model id (group 1)
//   server    an API-server marker (the start-up ends at HTTP readiness)
//   boundary  a named instant that delimits bootstrap sub-steps
//   begin     a phase starts now               end       a phase ends now
//             (`dur`: group holding the printed duration in seconds)
//   attr      attributes for a phase           parallel  parallel sizes
//   engine_ready  engine initialised (offline readiness, server_start begins)
//   ready     the HTTP server is ready         fatal     the start-up failed
//   traceback / exception   a Python traceback and its exception line
//   mark      a named instant only (with `mark`), for the layout step

export type EventKind =
  | "version" | "model" | "server" | "boundary" | "begin" | "end" | "attr"
  | "parallel" | "engine_ready" | "ready" | "fatal" | "traceback" | "exception" | "mark";

export type AttrType = "num" | "int" | "str" | "bool";

export interface Rule {
  id: string;
  /** Catalogue ids (or "log:<file>") this rule covers, for traceability. */
  catalog: string[];
  /** vLLM versions the wording exists in (informational; matching is version-free). */
  versions: string;
  needle: string;
  re: RegExp;
  kind: EventKind;
  phase?: string;
  boundary?: string;
  /** Capture group with the printed duration (seconds unless `durUnit`). */
  dur?: number;
  durUnit?: "s" | "ms";
  /** attribute name -> [capture group, type] or a constant. */
  attrs?: Record<string, [number, AttrType] | { const: string | number | boolean }>;
  /** Only for lines at this level (e.g. DEBUG-only duplicates). */
  level?: string;
  /** Also record this instant under a name (layout data: src/phases/layout.ts). Kind "mark" records only. */
  mark?: string;
  /** A later end marker of the same process moves the phase's end (the last one wins). */
  extend?: boolean;
  /** Attributes go to this phase instead of `phase`. */
  attrPhase?: string;
  /** Capture group with the line's own time of day ("HH:MM:SS,mmm"), for foreign formats without vLLM's header. */
  at?: number;
}

const NUM = "(-?[0-9][0-9,]*(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?|nan|inf)";

export const RULES: Rule[] = [
  // ---- version, model, server mode -------------------------------------
  { id: "api.version", catalog: ["api.version"], versions: "v0.5–v0.14.1", needle: "API server version",
    re: /vLLM API server version (\S+)/, kind: "version" },
  { id: "api.version_banner.plain", catalog: ["api.version_banner.plain"], versions: "v0.15.0–main", needle: "server version",
    re: /vLLM server version (\S+), serving model (\S+)/, kind: "version" },
  { id: "api.version_banner.logo", catalog: ["api.version_banner.logo"], versions: "v0.15.0–main", needle: "█  version",
    re: /█\s+version\s+(\S+)/, kind: "version" },
  { id: "api.banner.model", catalog: ["api.version_banner.logo"], versions: "v0.15.0–main", needle: "█  model",
    re: /█\s+model\s+(\S+)/, kind: "model" },
  { id: "engine.init.version", catalog: ["engine.init.v0", "engine.init.v1"], versions: "v0.5–main", needle: "LLM engine (v",
    re: /Initializing an? (?:V[01] )?LLM engine \(v([^)\s]+)\)/, kind: "version" },
  { id: "engine.init.model", catalog: ["engine.init.v1"], versions: "v0.5–main", needle: "with config: model=",
    re: /with config: model='([^']+)'/, kind: "model" },
  { id: "engine.init.parallel", catalog: ["engine.init.v1"], versions: "v0.5–main", needle: "tensor_parallel_size=",
    re: /tensor_parallel_size=(\d+), pipeline_parallel_size=(\d+)(?:.*?data_parallel_size=(\d+))?/, kind: "parallel" },
  { id: "load.start.model", catalog: ["load.start"], versions: "v0.5–main", needle: "Starting to load model ",
    re: /Starting to load model (\S+?)(?:\.\.\.)?$/, kind: "model" },
  { id: "api.args.model", catalog: ["api.args", "api.non_default_args"], versions: "v0.5–main", needle: "model_tag",
    re: /model_tag'?[=:] ?'([^']+)'/, kind: "model" },
  // Not "args: ...": offline `LLM(...)` prints "non-default args" too (v0.11 CPU log).
  { id: "api.routes.server", catalog: ["api.routes.header"], versions: "v0.5–main", needle: "Available routes are",
    re: /^Available routes are/, kind: "server" },
  { id: "api.version.server", catalog: ["api.version", "api.version_banner.plain"], versions: "v0.5–main", needle: "server version",
    re: /vLLM (?:API )?server version/, kind: "server" },
  { id: "api.banner.server", catalog: ["api.version_banner.logo"], versions: "v0.15.0–main", needle: "█  version",
    re: /█\s+version/, kind: "server" },

  // ---- bootstrap boundaries (sub-steps detect_platform, imports, model_info, worker_init)
  { id: "platform.probe", catalog: ["log:paper-h100nvl"], versions: "DEBUG", needle: "plugins for group vllm.platform_plugins",
    re: /No plugins for group vllm\.platform_plugins found|Available plugins for group vllm\.platform_plugins/, kind: "boundary", boundary: "platform_probe" },
  { id: "platform.detected", catalog: ["platform.detected.info", "platform.detected.debug"], versions: "v0.6–main", needle: "Automatically detected platform",
    re: /Automatically detected platform (\S+?)\.?$/, kind: "boundary", boundary: "platform_detected",
    attrs: { "vllm.startup.platform": [1, "str"] } },
  { id: "platform.plugin", catalog: ["platform.plugin"], versions: "v0.8.5–main", needle: "Platform plugin",
    re: /Platform plugin (\S+) is activated/, kind: "boundary", boundary: "platform_detected",
    attrs: { "vllm.startup.platform": [1, "str"] } },
  { id: "plugins.general", catalog: ["log:paper-h100nvl"], versions: "DEBUG", needle: "plugins for group vllm.general_plugins",
    re: /(?:Available|No) plugins for group vllm\.general_plugins/, kind: "boundary", boundary: "imports_done" },
  { id: "api.version.boundary", catalog: ["api.version", "api.version_banner.plain"], versions: "v0.5–main", needle: "server version",
    re: /vLLM (?:API )?server version/, kind: "boundary", boundary: "api_start" },
  { id: "api.banner.boundary", catalog: ["api.version_banner.logo"], versions: "v0.15.0–main", needle: "█",
    re: /█/, kind: "boundary", boundary: "api_start" },
  { id: "api.args.boundary", catalog: ["api.args", "api.non_default_args"], versions: "v0.5–main", needle: "args: ",
    re: /^(?:non-default )?args: /, kind: "boundary", boundary: "api_start" },
  { id: "config.chunked_prefill", catalog: ["config.chunked_prefill"], versions: "v0.6–main", needle: "Chunked prefill is enabled with",
    re: /Chunked prefill is enabled with max_num_batched_tokens=/, kind: "boundary", boundary: "model_info_done" },
  { id: "engine.waiting_init", catalog: ["engine.waiting_init_message.info", "engine.waiting_init_message.debug"], versions: "v0.9.0–main", needle: "Waiting for init message",
    re: /Waiting for init message from front-end/, kind: "boundary", boundary: "engine_init" },
  { id: "engine.init", catalog: ["engine.init.v0", "engine.init.v1"], versions: "v0.5–main", needle: "LLM engine (v",
    re: /Initializing an? (?:V[01] )?LLM engine \(v/, kind: "boundary", boundary: "engine_init" },

  // ---- tokenizer (patched study builds only) and download --------------
  { id: "study.tokenizer", catalog: ["log:paper-h100nvl"], versions: "study patch", needle: "Init Tokenizer took",
    re: new RegExp(`Init Tokenizer took ${NUM} seconds`), kind: "end", phase: "tokenizer_init", dur: 1 },
  { id: "load.download_time", catalog: ["load.download_time"], versions: "v0.8.5–main", needle: "Time spent downloading weights",
    re: new RegExp(`Time spent downloading weights for (\\S+): ${NUM} seconds`), kind: "end", phase: "model_download", dur: 2 },

  // ---- model loading ----------------------------------------------------
  { id: "load.start", catalog: ["load.start"], versions: "v0.5–main", needle: "Starting to load model",
    re: /Starting to load model/, kind: "begin", phase: "model_loading" },
  // tpu-inference (JAX) loads the model without "Starting to load model" (v0.17 TPU log).
  { id: "load.start.tpu", catalog: ["log:v0.17.0rc1-tpu"], versions: "tpu-inference", needle: "Loading model with MODEL_IMPL_TYPE",
    re: /^Loading model with MODEL_IMPL_TYPE=/, kind: "begin", phase: "model_loading" },
  { id: "study.model_init", catalog: ["log:paper-h100nvl"], versions: "study patch", needle: "Initializing Model took",
    re: new RegExp(`Initializing Model took ${NUM} seconds`), kind: "end", phase: "model_init", dur: 1 },
  { id: "load.weights_took", catalog: ["load.weights_took"], versions: "v0.7–main", needle: "Loading weights took",
    re: new RegExp(`Loading weights took ${NUM} seconds`), kind: "end", phase: "load_weights", dur: 1 },
  { id: "load.model_took", catalog: ["load.model_took.v0", "load.model_took.v1.r1", "load.model_took.v1.r2", "load.model_took.v2", "load.model_took.v3", "load.model_took.v2runner"],
    versions: "v0.7–main", needle: "Model loading took",
    re: new RegExp(`Model loading took ${NUM} Gi?B (?:memory )?and ${NUM} seconds`), kind: "end", phase: "model_loading", dur: 2,
    attrs: { "vllm.startup.weights.gib": [1, "num"] } },
  // V0 (≤ v0.6.x) and early V1 print only the memory, in "GB".
  { id: "load.model_weights_took", catalog: ["log:v0.6.4.post1", "log:v0.7.3"], versions: "v0.5–v0.7", needle: "Loading model weights took",
    re: new RegExp(`Loading model weights took ${NUM} G(?:i)?B`), kind: "end", phase: "model_loading",
    attrs: { "vllm.startup.weights.gib": [1, "num"] } },
  { id: "load.prefetch_done", catalog: ["load.prefetch_done"], versions: "v0.18.0–main", needle: "Prefetching checkpoint files into page cache finished",
    re: new RegExp(`finished in ${NUM}s`), kind: "attr", phase: "load_weights",
    attrs: { "vllm.startup.weights.prefetch_s": [1, "num"] } },
  { id: "load.fs_info", catalog: ["load.fs_info"], versions: "v0.20.0–main", needle: "Filesystem type for checkpoints",
    re: new RegExp(`Filesystem type for checkpoints: (\\S+)\\. Checkpoint size: ${NUM} GiB`), kind: "attr", phase: "load_weights",
    attrs: { "vllm.startup.weights.filesystem": [1, "str"], "vllm.startup.weights.checkpoint_gib": [2, "num"] } },

  // ---- multimodal encoder profiling (V1 profile_run profiles the encoder before the
  // model's dummy run, which is what triggers torch.compile; vLLM v1 gpu_model_runner.py)
  { id: "mm.encoder_profiling", catalog: ["log:v0.16.1rc1"], versions: "v0.9–main", needle: "Encoder cache will be initialized",
    re: /Encoder cache will be initialized with a budget of ([0-9][0-9,]*) tokens, and profiled with (\d+) (\w+) items/, kind: "begin", phase: "encoder_profiling",
    attrs: { "vllm.startup.encoder_cache.tokens": [1, "int"], "vllm.startup.encoder_profiling.items": [2, "int"], "vllm.startup.encoder_profiling.modality": [3, "str"] } },

  // ---- torch.compile ----------------------------------------------------
  { id: "compile.cache_dir", catalog: ["compile.cache_dir"], versions: "v0.7–main", needle: "for vLLM's torch.compile",
    re: /Using cache directory: (\S+) for vLLM's torch\.compile/, kind: "attr", phase: "torch_compile",
    attrs: { "vllm.startup.compile_cache.dir": [1, "str"] } },
  { id: "compile.dynamo", catalog: ["compile.dynamo"], versions: "v0.7–main", needle: "Dynamo bytecode transform time",
    re: new RegExp(`Dynamo bytecode transform time: ${NUM} s`), kind: "end", phase: "dynamo_transform", dur: 1 },
  { id: "compile.miss", catalog: ["compile.general_shape", "compile.dynamic_shape", "compile.compile_range"], versions: "v0.7–main", needle: "Compiling a graph for ",
    re: new RegExp(`Compiling a graph for (?:general shape|dynamic shape|compile range .*?) takes ${NUM} s`), kind: "end", phase: "graph_compile", dur: 1,
    attrs: { "vllm.startup.compile_cache.hit": { const: false } } },
  { id: "compile.hit", catalog: ["compile.load.shape", "compile.load.dynamic", "compile.load.range"], versions: "v0.8.5–main", needle: "from the cache, took",
    re: new RegExp(`Directly load the compiled graph\\(s\\) for .*? from the cache, took ${NUM} s`), kind: "end", phase: "graph_compile", dur: 1,
    attrs: { "vllm.startup.compile_cache.hit": { const: true } } },
  // An attribute, not an end: the graph load that follows prints its own duration.
  { id: "compile.aot.load", catalog: ["compile.aot.load"], versions: "v0.11.1–main", needle: "Directly load AOT compilation",
    re: /Directly load AOT compilation from path/, kind: "attr", phase: "graph_compile",
    attrs: { "vllm.startup.compile_cache.hit": { const: true }, "vllm.startup.compile_cache.aot": { const: true } } },
  { id: "compile.total", catalog: ["compile.total.v1", "compile.total.v2"], versions: "v0.7–main", needle: "s in total",
    re: new RegExp(`torch\\.compile (?:takes|took) ${NUM} s in total`), kind: "end", phase: "torch_compile", dur: 1 },
  // "torch.compile and initial profiling run took" (v0.16 log) / "... profiling/warmup run together took"
  // (v0.18+): the value includes the first profiling run, so it is not torch.compile's own
  // duration; torch_compile then spans its sub-steps and the rest counts to kv_cache_profiling.
  { id: "compile.total_with_profiling", catalog: ["compile.total_with_warmup", "log:v0.16.1rc1"], versions: "v0.16–main", needle: "s in total",
    re: new RegExp(`torch\\.compile and initial profiling(?:/warmup)? run (?:together )?took ${NUM} s in total`), kind: "attr", phase: "torch_compile",
    attrs: { "vllm.startup.compile.with_profiling_s": [1, "num"] } },

  // ---- KV-cache profiling -------------------------------------------------
  // The profiling forward pass ends at "Memory profiling takes" (V0 INFO, V1 DEBUG) or
  // "Available KV cache memory"; the KV cache is then sized and allocated, and
  // kv_cache_profiling ends at the last sizing line (the last one wins: `extend`).
  { id: "kv.memory_profiling", catalog: ["kv.v0.memory_profiling"], versions: "v0.6–v0.10.2 INFO; V1 DEBUG", needle: "Memory profiling takes",
    re: new RegExp(`Memory profiling takes ${NUM} seconds`), kind: "end", phase: "profile_run", dur: 1 },
  // Non-negative only: a negative value ("-8.59 GiB", v0.16 compose log) is the failure
  // that follows, not the end of profiling.
  { id: "kv.available", catalog: ["kv.available.v1", "kv.available.v2"], versions: "v0.9.1–main", needle: "Available KV cache memory",
    re: /Available KV cache memory: ([0-9][0-9,]*(?:\.[0-9]+)?) GiB/, kind: "end", phase: "profile_run", attrPhase: "kv_cache_profiling",
    attrs: { "vllm.startup.kv_cache.gib": [1, "num"] } },
  { id: "kv.available.negative", catalog: ["kv.available.v1", "kv.available.v2"], versions: "v0.9.1–main", needle: "Available KV cache memory",
    re: /Available KV cache memory: (-[0-9][0-9,]*(?:\.[0-9]+)?) GiB/, kind: "end", phase: "profile_run", attrPhase: "kv_cache_profiling",
    attrs: { "vllm.startup.kv_cache.gib": [1, "num"] } },
  { id: "kv.gpu_cache_size", catalog: ["kv.gpu_cache_size", "kv.cache_size_and_concurrency"], versions: "v0.8.5–main", needle: "KV cache size:",
    re: new RegExp(`(?:GPU|CPU) KV cache size: ${NUM} tokens`), kind: "end", phase: "kv_cache_profiling", extend: true,
    attrs: { "vllm.startup.kv_cache.tokens": [1, "int"] } },
  { id: "kv.v0.blocks", catalog: ["kv.v0.blocks"], versions: "v0.5–v0.11.0", needle: " blocks: ",
    re: new RegExp(`# (?:GPU|CPU|NPU|XPU|TPU|HPU|\\w+) blocks: ${NUM}`), kind: "end", phase: "kv_cache_profiling", extend: true,
    attrs: { "vllm.startup.kv_cache.blocks": [1, "int"] } },
  { id: "kv.max_concurrency", catalog: ["kv.max_concurrency", "log:v0.6.6.post1", "log:paper-h100nvl"], versions: "v0.6.4–main", needle: "Maximum concurrency for",
    re: new RegExp(`Maximum concurrency for ${NUM} tokens per request: ${NUM}`), kind: "end", phase: "kv_cache_profiling", extend: true,
    attrs: { "vllm.startup.kv_cache.max_concurrency": [2, "num"] } },
  { id: "kv.initial_profiling_run", catalog: ["compile.initial_profiling_run"], versions: "v0.18.0–main", needle: "Initial profiling/warmup run took",
    re: new RegExp(`Initial profiling/warmup run took ${NUM} s`), kind: "attr", phase: "kv_cache_profiling",
    attrs: { "vllm.startup.kv_cache.profile_run_s": [1, "num"] } },
  { id: "kv.cudagraph_estimate", catalog: ["kv.cudagraph_estimate"], versions: "v0.18.0–main", needle: "Estimated CUDA graph memory",
    re: new RegExp(`Estimated CUDA graph memory: ${NUM} GiB`), kind: "attr", phase: "kv_cache_profiling",
    attrs: { "vllm.startup.cuda_graph.estimated_gib": [1, "num"] } },

  // ---- CUDA graphs --------------------------------------------------------
  { id: "cg.bar", catalog: ["cg.bar.modes", "cg.bar.shapes", "cg.bar.v2runner.plain", "cg.bar.shapes.v0"], versions: "v0.9.2–main", needle: "Capturing CUDA graph",
    re: /Capturing CUDA graph[^:]*:\s+\d+%.*?\|\s*\d+\/(\d+)/, kind: "attr", phase: "cuda_graph_capture",
    attrs: { "vllm.startup.cuda_graph.sizes": [1, "int"] } },
  // Each bar state, for one step per capture mode (label in parentheses, done/total, elapsed).
  { id: "cg.bar.state", catalog: ["cg.bar.modes", "cg.bar.shapes", "cg.bar.shapes.v0", "log:v0.11.0-gb10"], versions: "v0.9.2–main", needle: "Capturing CUDA graph",
    re: /Capturing CUDA graphs?(?: shapes)?(?: \(([^)]*)\))?:\s+(\d+)%[^|]*\|[^|]*\|\s*(\d+)\/(\d+) \[(?:(\d+):)?(\d+):(\d+)/, kind: "mark", mark: "capture_bar" },
  // V0 announces the capture (once per rank); V1 shows only its tqdm bar.
  { id: "cg.begin.v0", catalog: ["cg.capturing.v0", "log:v0.6.4.post1"], versions: "v0.5–v0.10.2 (V0)", needle: "Capturing cudagraphs for decoding",
    re: /^Capturing cudagraphs for decoding/, kind: "begin", phase: "cuda_graph_capture" },
  { id: "cg.finished", catalog: ["cg.finished"], versions: "v0.5–main", needle: "Graph capturing finished in",
    re: new RegExp(`Graph capturing finished in ${NUM} secs?(?:, took ${NUM} GiB)?`), kind: "end", phase: "cuda_graph_capture", dur: 1,
    attrs: { "vllm.startup.cuda_graph.gib": [2, "num"] } },

  // ---- warm-up before graph capture (FlashInfer's own log format, with its own clock) ----
  { id: "warmup.autotune.start", catalog: ["log:v0.11.0-gb10", "log:v0.20.0-wsl2"], versions: "flashinfer", needle: "Autotuning process start",
    re: /^(?:.*?(\d\d:\d\d:\d\d,\d{3}) - \w+ - )?.*\[Autotuner\]: Autotuning process starts/, kind: "mark", mark: "autotune_start", at: 1 },
  { id: "warmup.autotune.end", catalog: ["log:v0.11.0-gb10", "log:v0.20.0-wsl2"], versions: "flashinfer", needle: "Autotuning process end",
    re: /^(?:.*?(\d\d:\d\d:\d\d,\d{3}) - \w+ - )?.*\[Autotuner\]: Autotuning process ends/, kind: "mark", mark: "autotune_end", at: 1 },

  // ---- warm-up steps of newer releases (catalogue "warmup.*", "api.*_warmup.*") ----------
  { id: "warmup.jit.start", catalog: ["warmup.jit.start"], versions: "v0.18–main", needle: "JIT kernel warmup starting",
    re: /^JIT kernel warmup starting/, kind: "begin", phase: "jit_warmup" },
  { id: "warmup.jit.done", catalog: ["warmup.jit.done"], versions: "v0.18–main", needle: "JIT kernel warmup finished in",
    re: new RegExp(`JIT kernel warmup finished in ${NUM}s`), kind: "end", phase: "jit_warmup", dur: 1 },
  // Warm-up compiles for specific sizes run after the KV cache, inside "warmup model".
  { id: "warmup.compile_size", catalog: ["warmup.compile_size"], versions: "v0.10–main", needle: "Compile and warming up model for size",
    re: /Compile and warming up model for size (\d+)/, kind: "mark", mark: "warmup_compile_size" },
  { id: "api.chat_warmup.start", catalog: ["api.chat_warmup.start"], versions: "v0.13–main", needle: "Warming up chat template processing",
    re: /Warming up chat template processing/, kind: "begin", phase: "chat_template_warmup" },
  { id: "api.chat_warmup.done.ms", catalog: ["api.chat_warmup.done.v1", "log:v0.16.1rc1"], versions: "v0.13–v0.17", needle: "Chat template warmup completed in",
    re: new RegExp(`Chat template warmup completed in ${NUM}ms`), kind: "end", phase: "chat_template_warmup", dur: 1, durUnit: "ms" },
  { id: "api.chat_warmup.done.s", catalog: ["api.chat_warmup.done.v2"], versions: "v0.18–main", needle: "Chat template warmup completed in",
    re: new RegExp(`Chat template warmup completed in ${NUM}s`), kind: "end", phase: "chat_template_warmup", dur: 1 },
  { id: "api.mm_warmup.done", catalog: ["api.mm_warmup.done.v1", "api.mm_warmup.done.v2"], versions: "v0.15–main", needle: "warmup completed in",
    re: new RegExp(`(?:Multi-modal|\\w+) warmup completed in ${NUM}s`), kind: "end", phase: "mm_warmup", dur: 1 },

  // ---- CPU back-end warm-up (replaces CUDA-graph capture there; v0.11 CPU log) ----
  { id: "cpu.warmup.start", catalog: ["log:v0.11.0-cpu"], versions: "v0.10–main", needle: "Warming up model for the compilation",
    re: /^Warming up model for the compilation/, kind: "begin", phase: "model_warmup" },
  { id: "cpu.warmup.done", catalog: ["log:v0.11.0-cpu"], versions: "v0.10–main", needle: "Warming up done",
    re: /^Warming up done\.?$/, kind: "end", phase: "model_warmup" },

  // ---- readiness ----------------------------------------------------------
  { id: "engine.init_took", catalog: ["engine.init_took.v0", "engine.init_took.v1", "engine.init_took.v2", "engine.init_took.v2.compile", "engine.init_took.v2.encoder"],
    versions: "v0.6–main", needle: "init engine (profile, create kv cache, warmup model) took",
    re: new RegExp(`init engine \\(profile, create kv cache, warmup model\\) took ${NUM} s(?:econds)?`), kind: "engine_ready",
    attrs: { "vllm.startup.engine.init_s": [1, "num"] } },
  { id: "api.starting", catalog: ["api.starting.v1", "api.starting.v2", "api.starting.v3"], versions: "v0.5–main", needle: "Starting vLLM ",
    re: /Starting vLLM (?:API )?server(?: \d+)? on (\S+)/, kind: "server" },
  { id: "uvicorn.complete", catalog: ["uvicorn.complete"], versions: "all", needle: "Application startup complete",
    re: /Application startup complete/, kind: "ready" },

  // ---- failures -------------------------------------------------------------
  { id: "engine.failed", catalog: ["engine.failed"], versions: "v0.8.5–main", needle: "failed to start",
    re: /(?:EngineCore|WorkerProc|Engine core|Worker) failed to start/, kind: "fatal" },
  { id: "engine.init_failed", catalog: ["log:INDEX failure endings"], versions: "v0.8–main", needle: "Engine core initialization failed",
    re: /Engine core initialization failed/, kind: "fatal" },
  { id: "hip.memfault", catalog: ["log:v0.11.1rc2-rocm-strixhalo"], versions: "ROCm", needle: "Memory access fault",
    re: /Memory access fault by GPU/, kind: "fatal" },
  { id: "engine.died", catalog: ["log:v0.6.4.post1"], versions: "V0", needle: "Engine process",
    re: /Engine process (?:failed to start|died)/, kind: "fatal" },
  { id: "py.traceback", catalog: [], versions: "all", needle: "Traceback (most recent call last)",
    re: /Traceback \(most recent call last\)/, kind: "traceback" },
];

// Exception line closing a traceback: `SomeError: text`, possibly behind a
// rank/process prefix. Checked only while a traceback is open.
export const EXCEPTION_LINE =
  /(?:^|[\s|:\]])((?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt|Failure|Fault))(?::\s?(.*))?$/;

// Run-level facts (attributes of the root span, and which phases to expect).
RULES.push(
  { id: "config.enforce_eager", catalog: ["config.enforce_eager", "config.cudagraph_eager"], versions: "v0.10.1–main", needle: "eager",
    re: /Enforce eager set|Cudagraph is disabled under eager mode|[ ,(]enforce_eager=True/, kind: "attr", phase: "@run",
    attrs: { "vllm.startup.enforce_eager": { const: true } } },
  { id: "engine.v0", catalog: ["engine.init.v0"], versions: "v0.5–v0.10.2", needle: "LLM engine (v",
    re: /Initializing an? (?:V0 )?LLM engine \(v/, kind: "attr", phase: "@run",
    attrs: { "vllm.startup.engine.v0": { const: true } } },
  { id: "compile.cache_disabled", catalog: ["compile.cache_disabled"], versions: "v0.8.5–main", needle: "torch.compile cache is disabled",
    re: /torch\.compile cache is disabled/, kind: "attr", phase: "@run",
    attrs: { "vllm.startup.compile_cache.disabled": { const: true } } },
);
