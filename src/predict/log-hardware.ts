// What a vLLM log says about the machine and the configuration it started on:
// GPU product, count and memory, platform, engine era (V0/V1), compilation
// mode, CUDA-graph capture sizes, eager mode, quantization, parallel sizes,
// speculative decoding, multimodal encoder profiling, and the model's size
// (from its name before the weights are loaded, from "Model loading took" once
// that line arrives). The lead's pattern table (src/logparse/patterns.ts) turns
// lines into phases; this module only reads facts, with its own data table of
// regexes (each with where it comes from), so the predictor can place the host
// in a hardware class when the log is imported.
//
// Everything is best effort and never throws: a fact the log does not print
// stays null.

import { stripAnsi } from "../logparse/anatomy.ts";

export type Platform = "cuda" | "rocm" | "cpu" | "xpu" | "tpu" | "neuron" | "hpu" | "unknown";

export interface LogFacts {
  vllm_version: string | null;
  engine: "v0" | "v1" | null;
  platform: Platform | null;
  /** GPU product names seen (first one is the most specific). */
  gpu_names: string[];
  /** Total memory of one GPU, GiB. */
  gpu_memory_gib: number | null;
  compute_capability: string | null;
  /** AMD architecture (gfx906, gfx1151, ...). */
  gfx_arch: string | null;
  tensor_parallel_size: number;
  pipeline_parallel_size: number;
  data_parallel_size: number;
  /** NCCL/oneCCL/Gloo lines seen: a multi-process start-up. */
  collective_lines: number;
  server_mode: boolean;
  model: string | null;
  dtype: string | null;
  quantization: string | null;
  load_format: string | null;
  kv_cache_dtype: string | null;
  enforce_eager: boolean | null;
  /** torch.compile level/mode from the engine config (0 = none). */
  compile_level: number | null;
  /** Number of CUDA-graph capture sizes in the engine's config line. */
  cuda_graph_sizes: number | null;
  /** Capture sizes a FULL decode pass captures (sizes <= max_num_seqs, 256 by default). */
  decode_graph_sizes: number | null;
  /** cudagraph_mode from the config line (e.g. "FULL_AND_PIECEWISE", "PIECEWISE", "NONE"). */
  cudagraph_mode: string | null;
  speculative: boolean;
  multimodal: boolean;
  max_model_len: number | null;
  /** max_num_batched_tokens as the log states it (scheduler line or config). */
  max_num_batched_tokens: number | null;
  /** chunked_prefill_enabled from the engine config line. */
  chunked_prefill: boolean | null;
  /** Parameter count from the model's name, billions (total; MoE "30B-A3B" gives 30). */
  name_params_b: number | null;
  /** Active parameters from the name (MoE "30B-A3B" gives 3), billions. */
  name_active_params_b: number | null;
  /** Weights GiB on one GPU from "Model loading took" / "Loading model weights took" / "model weights take". */
  loaded_weights_gib: number | null;
  /** Text the log prints about the CPU ("Arm64", "Xeon", ...), when any. */
  cpu_hint: string | null;
}

/** One extraction rule: a regex, what it sets, and where the line comes from. */
interface Rule { id: string; re: RegExp; source: string; apply: (m: RegExpExecArray, f: LogFacts) => void }

const num = (s: string | undefined): number | null => {
  if (s === undefined) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
};

/** GB as vLLM <= 0.8 prints it ("took 21.6682 GB") is GiB in fact (bytes / 2**30). */
const LOAD_RULE_SOURCE = "vllm/model_executor/model_loader + worker model_runner (catalog: load.model_loading_took)";

export const LOG_FACT_RULES: Rule[] = [
  { id: "platform", re: /Automatically detected platform ([a-z]+)/, source: "vllm/platforms/__init__.py (catalog: platform.detected.info)",
    apply: (m, f) => { f.platform ??= normPlatform(m[1]); } },
  // Back-end hints that beat device_config (V0 on ROCm prints device_config=cuda; Neuron prints cpu).
  { id: "platform.rocm", re: /ROCm\w*(?:Attention|Backend)|hipBLASLt|\brocm\.py:|HIP error|(?:not )?supported by ROCm/, source: "vllm/platforms/rocm.py warnings, ROCm attention backends, HIP runtime errors",
    apply: (_m, f) => { if (f.platform === null || f.platform === "cuda") f.platform = "rocm"; } },
  { id: "platform.neuron", re: /device='neuron'|not supported on Neuron|NEURON_CACHE|neuronx/i, source: "vLLM Neuron back-end (v0.5)",
    apply: (_m, f) => { f.platform = "neuron"; } },
  { id: "platform.tpu", re: /\bTPU info\b|tpu_inference|platform tpu|\bTPU v\d/, source: "tpu-inference plugin",
    apply: (_m, f) => { if (f.platform === null || f.platform === "unknown") f.platform = "tpu"; } },
  { id: "engine.v1", re: /Initializing a V1 LLM engine \(v([^)\s]+)\)/, source: "vllm/v1/engine/core.py (catalog: engine.init.v1)",
    apply: (m, f) => { f.engine = "v1"; f.vllm_version ??= m[1]; } },
  { id: "engine.v0", re: /Initializing (?:a V0 LLM engine|an LLM engine) \(v([^)\s]+)\)/, source: "vllm/engine/llm_engine.py (catalog: engine.init.v0)",
    apply: (m, f) => { f.engine ??= "v0"; f.vllm_version ??= m[1]; } },
  { id: "v0.fallback", re: /Falling back to V0/, source: "vllm/engine/arg_utils.py (catalog: V0 fallback warning)",
    apply: (_m, f) => { f.engine = "v0"; } },
  { id: "api.version", re: /vLLM API server version ([0-9][^\s]*)/, source: "vllm/entrypoints/openai/api_server.py (catalog: api.version)",
    apply: (m, f) => { f.vllm_version ??= m[1]; f.server_mode = true; } },
  { id: "banner.version", re: /\bversion (\d+\.\d+\.\d+[^\s]*)\s*$/, source: "vLLM ASCII banner (v0.11.1+)",
    apply: (m, f) => { f.vllm_version ??= m[1]; } },
  { id: "serve.args", re: /non-default args: \{'model_tag'|Namespace\(subparser='serve'|Starting vLLM (?:API )?server/, source: "vllm/entrypoints/utils.py (catalog: api.non_default_args)",
    apply: (_m, f) => { f.server_mode = true; } },
  { id: "config.device", re: /device_config=([a-z]+)/, source: "engine config line",
    apply: (m, f) => { if (m[1] !== "None") f.platform ??= normPlatform(m[1]); } },
  { id: "config.model", re: /with config: model='([^']+)'/, source: "engine config line",
    apply: (m, f) => { f.model ??= m[1]; } },
  { id: "config.dtype", re: /\bdtype=torch\.(\w+)/, source: "engine config line",
    apply: (m, f) => { f.dtype ??= m[1]; } },
  { id: "config.quantization", re: /\bquantization=([\w-]+)/, source: "engine config line",
    apply: (m, f) => { if (m[1] !== "None") f.quantization ??= m[1]; } },
  { id: "config.load_format", re: /\bload_format=(?:LoadFormat\.)?([\w-]+)/, source: "engine config line",
    apply: (m, f) => { f.load_format ??= m[1].toLowerCase(); } },
  { id: "config.kv_dtype", re: /\bkv_cache_dtype=([\w-]+)/, source: "engine config line",
    apply: (m, f) => { f.kv_cache_dtype ??= m[1]; } },
  { id: "config.eager", re: /\benforce_eager=(True|False)/, source: "engine config line",
    apply: (m, f) => { f.enforce_eager ??= m[1] === "True"; } },
  { id: "config.tp", re: /\btensor_parallel_size=(\d+)/, source: "engine config line",
    apply: (m, f) => { f.tensor_parallel_size = Math.max(f.tensor_parallel_size, Number(m[1])); } },
  { id: "config.pp", re: /\bpipeline_parallel_size=(\d+)/, source: "engine config line",
    apply: (m, f) => { f.pipeline_parallel_size = Math.max(f.pipeline_parallel_size, Number(m[1])); } },
  { id: "config.dp", re: /\bdata_parallel_size=(\d+)/, source: "engine config line",
    apply: (m, f) => { f.data_parallel_size = Math.max(f.data_parallel_size, Number(m[1])); } },
  { id: "config.max_len", re: /\bmax_seq_len=(\d+)/, source: "engine config line",
    apply: (m, f) => { f.max_model_len ??= Number(m[1]); } },
  { id: "config.batched_tokens", re: /max_num_batched_tokens['"]?\s*[:=]\s*(\d+)/, source: "scheduler line (\"Chunked prefill is enabled with max_num_batched_tokens=N\") or engine config",
    apply: (m, f) => { f.max_num_batched_tokens ??= Number(m[1]); } },
  { id: "config.chunked_prefill", re: /\bchunked_prefill_enabled=(True|False)/, source: "engine config line",
    apply: (m, f) => { f.chunked_prefill ??= m[1] === "True"; } },
  { id: "config.spec", re: /speculative_config=(?!None)\w/, source: "engine config line",
    apply: (_m, f) => { f.speculative = true; } },
  { id: "config.compile_level", re: /["']level["']:\s*(\d)|CompilationMode\.\w+:\s*(\d)|compilation_config=\{"level":(\d)/, source: "engine config line (compilation_config level / mode)",
    apply: (m, f) => { f.compile_level ??= Number(m[1] ?? m[2] ?? m[3]); } },
  { id: "config.capture_sizes", re: /["']cudagraph_capture_sizes["']:\s*\[([\d,\s]*)\]/, source: "engine config line (compilation_config.cudagraph_capture_sizes)",
    apply: (m, f) => {
      if (f.cuda_graph_sizes !== null) return;
      const sizes = m[1].split(",").map((x) => Number(x.trim())).filter((x) => Number.isFinite(x) && x > 0);
      f.cuda_graph_sizes = sizes.length;
      f.decode_graph_sizes = sizes.filter((x) => x <= 256).length;
    } },
  { id: "config.cudagraph_mode", re: /cudagraph_mode["']?\s*[:=]\s*(?:<CUDAGraphMode\.(\w+)|\[(\d+),\s*(\d+)\]|(\d+)\b|(none)\b)/i, source: "engine config line (compilation_config.cudagraph_mode)",
    apply: (m, f) => {
      if (f.cudagraph_mode) return;
      const codes: Record<string, string> = { "0": "NONE", "1": "PIECEWISE", "2": "FULL" };
      f.cudagraph_mode = m[1] ?? (m[2] ? "FULL_AND_PIECEWISE" : m[4] ? codes[m[4]] ?? m[4] : "NONE");
    } },
  { id: "eager.notice", re: /Enforce eager set|Cudagraph is disabled under eager mode|CUDA graph is not supported on|fallback to the eager mode/i, source: "vllm/config/vllm.py, vllm/platforms/* (catalog: config.enforce_eager)",
    apply: (_m, f) => { f.enforce_eager = true; } },
  { id: "mm.encoder", re: /Encoder cache budget|multi-?modal|vision encoder|image processor/i, source: "vllm/v1/worker/gpu_model_runner.py (encoder cache budget), model registry",
    apply: (_m, f) => { f.multimodal = true; } },
  { id: "gpu.device_name", re: /device_name=(NVIDIA_[A-Za-z0-9_]+|AMD_[A-Za-z0-9_]+)/, source: "fused_moe config file names (\"Using default MoE config ... device_name=...\")",
    apply: (m, f) => addGpu(f, m[1].replace(/_/g, " ")) },
  { id: "gpu.name.nvidia", re: /\bNVIDIA[ _]((?:GeForce |Quadro |Tesla |RTX |DGX )?[A-Z]{1,3}\d{1,4}[A-Za-z]*(?:[- _](?:Ti|SUPER|Ada|SXM\d?|PCIe|NVL|Spark|\d+GB|HBM3e?|Laptop|GPU))*)/, source: "nvidia-smi / torch.cuda.get_device_name() as printed by wrappers (Unsloth banner, SLURM nvidia-smi CSV, PyTorch warnings)",
    apply: (m, f) => addGpu(f, "NVIDIA " + m[1].replace(/_/g, " ")) },
  { id: "gpu.name.bare", re: /\b((?:GeForce )?(?:RTX ?\d{4}(?: Ti| SUPER)?|GTX ?\d{3,4}(?: Ti)?)|[AHB]100(?:[- ](?:SXM\d?|PCIe|NVL|\d+GB))*|[HB]200|GH200|GB10|GB200|L40S?|DGX Spark|Tesla [A-Z]\d{1,4}\w*)\b/, source: "hardware names in wrapper output, host names and image tags",
    apply: (m, f) => addGpu(f, m[1]) },
  { id: "gpu.radeon", re: /\b((?:AMD )?(?:Radeon|Instinct)[\w ]{0,30}?(?:\d{3,4}\w*|VII|MI\d+\w*))/, source: "rocm-smi / torch.cuda.get_device_name() on ROCm",
    apply: (m, f) => addGpu(f, m[1]) },
  { id: "gpu.gfx", re: /\b(gfx\d{3,4}[a-z]?)\b/, source: "ROCm architecture names (hipBLASLt warnings, image tags)",
    apply: (m, f) => { f.gfx_arch ??= m[1]; } },
  { id: "gpu.capability", re: /compute capability (\d+\.\d+)|cuda capability (\d+\.\d+)|sm_(\d)(\d)\b/i, source: "PyTorch / wrapper banners",
    apply: (m, f) => { f.compute_capability ??= m[1] ?? m[2] ?? `${m[3]}.${m[4]}`; } },
  { id: "gpu.memory.total", re: /total_gpu_memory(?:=| \()([\d.]+)\s*GiB/, source: "vllm/worker/worker.py memory profiling result (V0)",
    apply: (m, f) => { f.gpu_memory_gib ??= num(m[1]); } },
  { id: "gpu.memory.capacity", re: /total capacity of ([\d.]+) GiB/, source: "torch.OutOfMemoryError text",
    apply: (m, f) => { f.gpu_memory_gib ??= num(m[1]); } },
  { id: "gpu.memory.max", re: /Max memory: ([\d.]+) GB/, source: "Unsloth banner",
    apply: (m, f) => { f.gpu_memory_gib ??= num(m[1]); } },
  { id: "gpu.memory.hbm", re: /hbm[^\n]{0,40}?([\d.]+)\s*GiB/i, source: "tpu-inference worker init",
    apply: (m, f) => { f.gpu_memory_gib ??= num(m[1]); } },
  { id: "collective", re: /\bNCCL\b|nccl==|oneCCL|\bGloo\b|\bRCCL\b/, source: "vllm/distributed (catalog: dist.nccl_version) and the libraries' own lines",
    apply: (_m, f) => { f.collective_lines++; } },
  { id: "weights.loaded", re: /Model loading took ([\d.]+) ?Gi?B|Loading model weights took ([\d.]+) ?GB|model weights take ([\d.]+) ?GiB/, source: LOAD_RULE_SOURCE,
    apply: (m, f) => { f.loaded_weights_gib ??= num(m[1] ?? m[2] ?? m[3]); } },
  { id: "cpu.hint", re: /\b(Arm64|aarch64|Neoverse[\w-]*|Graviton\d?|Xeon[\w ]{0,20}|EPYC[\w ]{0,10}|Ampere Altra)\b/i, source: "vLLM CPU backend warnings, wrapper banners",
    apply: (m, f) => { f.cpu_hint ??= m[1]; } },
];

function normPlatform(s: string): Platform {
  const p = s.toLowerCase();
  if (p.startsWith("cuda")) return "cuda";
  if (p === "rocm" || p === "hip") return "rocm";
  if (p === "cpu" || p === "xpu" || p === "tpu" || p === "neuron" || p === "hpu") return p;
  return "unknown";
}

function addGpu(f: LogFacts, name: string): void {
  const n = name.trim().replace(/\s+/g, " ");
  if (!f.gpu_names.includes(n)) f.gpu_names.push(n);
}

export function emptyFacts(): LogFacts {
  return {
    vllm_version: null, engine: null, platform: null, gpu_names: [], gpu_memory_gib: null, compute_capability: null,
    gfx_arch: null, tensor_parallel_size: 1, pipeline_parallel_size: 1, data_parallel_size: 1, collective_lines: 0,
    server_mode: false, model: null, dtype: null, quantization: null, load_format: null, kv_cache_dtype: null,
    enforce_eager: null, compile_level: null, cuda_graph_sizes: null, decode_graph_sizes: null, cudagraph_mode: null, speculative: false,
    multimodal: false, max_model_len: null, max_num_batched_tokens: null, chunked_prefill: null, name_params_b: null, name_active_params_b: null, loaded_weights_gib: null,
    cpu_hint: null,
  };
}

/** Cheap needles: a line without any of them is skipped before the regexes run. */
const NEEDLE = /ROCm|hip|neuron|TPU|Tesla|platform|engine|Falling back|version|args|config|eager|CUDA graph|Encoder|modal|vision|device_name|NVIDIA|GeForce|RTX|GTX|Radeon|Instinct|gfx|capability|sm_\d|memory|capacity|hbm|NCCL|nccl|CCL|Gloo|weights|Arm64|aarch64|Neoverse|Graviton|Xeon|EPYC|Altra|Spark|Jetson|GB10|GH200|[AHL]\d{2,3}|Starting vLLM|batched_tokens/i;

/** Scan log lines (a whole log, or lines as they arrive) into facts. */
export class LogFactScanner {
  readonly facts = emptyFacts();
  private lines = 0;

  /** Lines after this many are ignored (facts are printed early; a long log is not scanned to the end). */
  constructor(private readonly maxLines = 20000) {}

  push(raw: string): void {
    if (++this.lines > this.maxLines) return;
    const line = stripAnsi(raw).slice(0, 20000);
    if (!NEEDLE.test(line)) return;
    for (const r of LOG_FACT_RULES) {
      const m = r.re.exec(line);
      if (m) {
        try { r.apply(m, this.facts); } catch { /* a rule never breaks the scan */ }
      }
    }
  }

  finish(): LogFacts {
    const f = this.facts;
    if (f.model) {
      const s = paramsFromName(f.model);
      f.name_params_b = s.total;
      f.name_active_params_b = s.active;
    }
    if (!f.platform && f.gfx_arch) f.platform = "rocm";
    if (!f.platform && f.gpu_names.some((g) => /NVIDIA|GeForce|RTX|GTX/.test(g))) f.platform = "cuda";
    return f;
  }
}

export function scanLogText(text: string): LogFacts {
  const s = new LogFactScanner();
  for (const line of text.split(/\r\n|\n|\r/)) s.push(line);
  return s.finish();
}

/**
 * The parameter count a model's name states: "Llama-3.2-1B" -> 1, "opt-125m" -> 0.125,
 * "Qwen3-30B-A3B" -> 30 (active 3), "Mixtral-8x7B" -> 56 (active 14, two of eight experts).
 */
export function paramsFromName(model: string): { total: number | null; active: number | null } {
  const base = model.replace(/\/+$/, "").split("/").pop() ?? model;
  const moe = /(\d+(?:\.\d+)?)[Bb][-_][Aa](\d+(?:\.\d+)?)[Bb](?![a-z])/.exec(base);
  if (moe) return { total: Number(moe[1]), active: Number(moe[2]) };
  const xN = /(\d+)x(\d+(?:\.\d+)?)[Bb](?![a-z])/.exec(base);
  if (xN) return { total: Number(xN[1]) * Number(xN[2]), active: 2 * Number(xN[2]) };
  const b = /(?:^|[-_.])(\d+(?:\.\d+)?)[Bb](?![a-z])/.exec(base);
  if (b) return { total: Number(b[1]), active: null };
  const m = /(?:^|[-_.])(\d+(?:\.\d+)?)[Mm](?![a-z])/.exec(base);
  if (m) return { total: Number(m[1]) / 1000, active: null };
  return { total: null, active: null };
}

/**
 * Bytes per parameter from the quantization (or the model's name) and the dtype.
 * 4-bit formats carry scales and unquantized embeddings: ~0.6 byte/param in practice
 * (TheBloke Mistral-7B GPTQ: 3.88 GiB for 7.24 B params = 0.58).
 */
export const BYTES_PER_PARAM: { re: RegExp; bytes: number; why: string }[] = [
  { re: /gptq|awq|bitsandbytes|bnb|4bit|int4|w4a16|q4|nvfp4|fp4|mxfp4|marlin/i, bytes: 0.6, why: "4-bit weights + scales (Mistral-7B-GPTQ 3.88 GiB / 7.24 B)" },
  { re: /fp8|int8|w8a8|8bit|q8/i, bytes: 1.05, why: "8-bit weights + scales" },
  { re: /float32|fp32/i, bytes: 4, why: "fp32" },
];

export function bytesPerParam(quantization: string | null, model: string | null, dtype: string | null): number {
  for (const s of [quantization, model, dtype]) {
    if (!s) continue;
    for (const r of BYTES_PER_PARAM) if (r.re.test(s)) return r.bytes;
  }
  return 2;
}

/** Weights GiB the name and quantization imply (null when the name states no size). */
export function weightsGibFromFacts(f: LogFacts): { total: number | null; active: number | null } {
  if (f.name_params_b === null) return { total: null, active: null };
  const bpp = bytesPerParam(f.quantization, f.model, f.dtype);
  const g = (b: number) => Math.round(((b * 1e9 * bpp) / 2 ** 30) * 1000) / 1000;
  return { total: g(f.name_params_b), active: f.name_active_params_b !== null ? g(f.name_active_params_b) : null };
}

/**
 * Tokens of the KV-profiling run's dummy batch: max_num_batched_tokens when the
 * log states it; V0 without chunked prefill: max(max_model_len, 2048) (vLLM's
 * SchedulerConfig default); else unknown (null).
 */
export function profileTokensFromFacts(f: LogFacts): number | null {
  if (f.max_num_batched_tokens !== null && f.max_num_batched_tokens > 0) return f.max_num_batched_tokens;
  if (f.engine === "v0" && f.chunked_prefill === false && f.max_model_len !== null) return Math.max(f.max_model_len, 2048);
  return null;
}
