// Facts the advice needs that the phase timeline does not keep: read from a
// vLLM log's own lines (import, `advise <log>`). Each fact is the first
// occurrence in the traced stream, so a restart later in the log does not
// overwrite the first start-up's configuration. Patterns as data, with the
// vLLM versions and log files they were seen in.
import { parseLine } from "../logparse/anatomy.ts";

export interface LogFacts {
  /** Number of CUDA-graph capture sizes in the engine's config line (cudagraph_capture_sizes). */
  captureSizes?: number;
  /** load_format from the engine's config line (auto, runai_streamer, bitsandbytes, ...). */
  loadFormat?: string;
  /** A parallel loader vLLM used: multithread, runai_streamer, fastsafetensors, prefetch. */
  loader?: string;
  loaderThreads?: number;
  /** The start-up downloaded weights (hub / ModelScope download lines). */
  downloaded?: boolean;
  gpuMemoryUtilization?: number;
  maxModelLen?: number;
  enforceEager?: boolean;
  compileCacheDisabled?: boolean;
}

type Setter = (f: LogFacts, m: RegExpExecArray) => void;

/** needle (cheap substring test) -> regex -> what it sets. Sources: ../shared/vllm-logs and the log catalogue ids. */
export const LOG_FACT_PATTERNS: { needle: string; re: RegExp; set: Setter; seen: string }[] = [
  { needle: "cudagraph_capture_sizes", re: /cudagraph_capture_sizes['"]?:\s*\[([^\]]*)\]/,
    set: (f, m) => { f.captureSizes ??= m[1].split(",").filter((s) => s.trim() !== "").length; },
    seen: "engine config line, v0.8.2-v0.16 logs (0.11.0 DGX Spark: 67 sizes; 0.16.1 compose: 5)" },
  { needle: "load_format=", re: /load_format=(?:LoadFormat\.)?'?([A-Za-z_]+)'?/,
    set: (f, m) => { f.loadFormat ??= m[1].toLowerCase(); },
    seen: "engine config line, every version (auto, serverless_llm, LoadFormat.BITSANDBYTES)" },
  { needle: "Multi-thread loading shards", re: /Multi-thread loading shards/,
    set: (f) => { f.loader ??= "multithread"; },
    seen: "catalogue load.bar.multithread (v0.10.2-main)" },
  { needle: "num_threads", re: /enable_multithread_load['"]?:\s*True.*?num_threads['"]?:\s*(\d+)/,
    set: (f, m) => { f.loaderThreads ??= Number(m[1]); },
    seen: "model_loader_extra_config in the args line" },
  { needle: "Runai Model Streamer", re: /Runai Model Streamer|\[RunAI Streamer\]/,
    set: (f) => { f.loader ??= "runai_streamer"; },
    seen: "catalogue load.bar.runai (v0.8.5-main)" },
  { needle: "Fastsafetensor", re: /Loading safetensors using Fastsafetensor/,
    set: (f) => { f.loader ??= "fastsafetensors"; },
    seen: "catalogue load.bar.fastsafetensors (v0.8.5-v0.23)" },
  { needle: "Prefetching checkpoint files", re: /Prefetching checkpoint files into page cache started(?:.*?num_threads=(\d+))?/,
    set: (f, m) => { f.loader ??= "prefetch"; if (m[1]) f.loaderThreads ??= Number(m[1]); },
    seen: "catalogue load.prefetch_start.v1/v2 (v0.18-main)" },
  { needle: "ownloading", re: /Time spent downloading weights|Downloading Model from|^Downloading \[|Downloading shards/,
    set: (f) => { f.downloaded = true; },
    seen: "catalogue load.download_time; ModelScope lines in the v0.10.1 XPU log" },
  { needle: "gpu_memory_utilization", re: /gpu_memory_utilization['"]?\s*[:=]\s*([0-9.]+)/,
    set: (f, m) => { f.gpuMemoryUtilization ??= Number(m[1]); },
    seen: "args / config lines (v0.5 '=0.96', v0.16 ': 0.3')" },
  { needle: "max model len", re: /Using max model len (\d+)/,
    set: (f, m) => { f.maxModelLen ??= Number(m[1]); },
    seen: "config.max_model_len (v0.6-main)" },
  { needle: "max_model_len", re: /'max_model_len':\s*(\d+)/,
    set: (f, m) => { f.maxModelLen ??= Number(m[1]); },
    seen: "non-default args line (v0.16 compose log)" },
  { needle: "enforce_eager=True", re: /[ ,(]enforce_eager=True/,
    set: (f) => { f.enforceEager ??= true; },
    seen: "engine config line" },
  { needle: "torch.compile cache is disabled", re: /torch\.compile cache is disabled/,
    set: (f) => { f.compileCacheDisabled = true; },
    seen: "catalogue compile.cache_disabled" },
];

/** Scans a log's text. `stream`: only lines of that compose service (the one the import traced). */
export function scanLogFacts(text: string, stream: string | null = null): LogFacts {
  const f: LogFacts = {};
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (stream !== null) {
      const own = parseLine(line).stream;
      if (own !== null && own !== stream) continue;
    }
    for (const p of LOG_FACT_PATTERNS) {
      if (!line.includes(p.needle)) continue;
      const m = p.re.exec(line);
      if (m) p.set(f, m);
    }
  }
  return f;
}

/**
 * The log facts the advice used, as phase attributes (on the summary's phases and the spans), so
 * `advise <summary|trace>` later sees what the end of the start-up saw.
 */
export function adviceAttributes(phase: string, f: LogFacts): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (phase === "cuda_graph_capture" && f.captureSizes !== undefined) out["vllm.startup.cuda_graph.config_sizes"] = f.captureSizes;
  if (phase === "load_weights") {
    if (f.loadFormat !== undefined) out["vllm.startup.weights.load_format"] = f.loadFormat;
    if (f.loader !== undefined) out["vllm.startup.weights.loader"] = f.loader;
    if (f.loaderThreads !== undefined) out["vllm.startup.weights.loader_threads"] = f.loaderThreads;
  }
  return out;
}
