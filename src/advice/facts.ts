// The facts the advice rules test, read from one recorded start-up: its
// summary (phases, their attributes, sampling summaries), the run's attributes
// (root span), what the log itself said (./log-facts.ts) and the predictor's
// features. Flat names, so rules stay data (./rules.ts).
import type { Attributes, PhaseRecord } from "../state/types.ts";
import type { LogFacts } from "./log-facts.ts";
import type { Coefficients } from "../predict/model.ts";
import type { FactValue } from "./rules.ts";

/** The part of a summary the advice reads (a summary JSON, or one rebuilt from a trace file). */
export interface StartupRecord {
  outcome: string;
  engine_version: string | null;
  model: string | null;
  total_s: number;
  ready_s: number | null;
  error?: string;
  phases: PhaseRecord[];
}

/** Predictor features the advice may use (full Features in wrap mode, what the log reveals otherwise). */
export interface AdviceFeatures {
  load_format?: string;
  enforce_eager?: boolean;
  cuda_graph_sizes?: number;
  [k: string]: unknown;
}

export interface AdviceContext {
  run?: Attributes;
  log?: LogFacts;
  features?: AdviceFeatures;
  /** The predictor's active coefficients (local calibration), for the warm-compile prediction. */
  coefficients?: Coefficients;
}

export type Facts = Record<string, FactValue>;

/** Loader threads vLLM uses by default for each loader (vLLM source defaults). */
const DEFAULT_THREADS: Record<string, number> = {
  "default safetensors loader": 1, multithread: 8, runai_streamer: 16, prefetch: 16, fastsafetensors: 1,
};

/** Top directories a container loses when it is replaced (unless a volume is mounted there). */
const EPHEMERAL_ROOTS = [/^\/root\/\.cache\b/, /^\/home\/.+?\/\.cache\b/, /^~\/\.cache\b/, /^\/root\b/, /^\/home\/[^/]+/, /^~/, /^\/tmp\b/];

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const r2 = (x: number) => Math.round(x * 100) / 100;

export function phaseOf(rec: StartupRecord, name: string): PhaseRecord | undefined {
  return rec.phases.find((p) => p.name === name);
}

function attr(rec: StartupRecord, phases: string[], key: string): unknown {
  for (const n of phases) {
    const v = phaseOf(rec, n)?.attributes?.[key];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Whether `version` is at least `min` (unknown versions count as new: advice then names today's flags). */
function atLeast(version: string | null, min: string): boolean {
  const m = version?.match(/^(\d+)\.(\d+)(?:\.(\d+))?/);
  if (!m) return true;
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  const [x, y, z] = min.split(".").map(Number);
  if (a === 0 && b === 1 && /dev/.test(version ?? "")) return true; // a source build's placeholder version (0.1.devN)
  return a !== x ? a > x : b !== y ? b > y : c >= (z ?? 0);
}

/** Run-level facts (one start-up), shared by every rule. */
export function runFacts(rec: StartupRecord, ctx: AdviceContext = {}): Facts {
  const run = ctx.run ?? {};
  const log = ctx.log ?? {};
  const feat = ctx.features ?? {};
  const f: Facts = {};
  f["run.outcome"] = rec.outcome;
  f["run.total_s"] = r2(rec.total_s);
  f["run.enforce_eager"] = run["vllm.startup.enforce_eager"] === true || log.enforceEager === true || feat.enforce_eager === true;
  f["engine.version"] = rec.engine_version;
  f["engine.at_least_0_10_2"] = atLeast(rec.engine_version, "0.10.2");
  f["engine.at_least_0_12"] = atLeast(rec.engine_version, "0.12.0");
  f["engine.at_least_0_18"] = atLeast(rec.engine_version, "0.18.0");

  // torch.compile cache
  const hit = attr(rec, ["graph_compile", "torch_compile"], "vllm.startup.compile_cache.hit");
  f["compile_cache.hit"] = typeof hit === "boolean" ? hit : null;
  const dir = str(attr(rec, ["torch_compile", "graph_compile"], "vllm.startup.compile_cache.dir"));
  f["compile_cache.dir"] = dir;
  const eph = dir ? EPHEMERAL_ROOTS.map((re) => re.exec(dir)?.[0]).find(Boolean) ?? null : null;
  f["compile_cache.ephemeral"] = dir ? eph !== null : null;
  f["compile_cache.ephemeral_root"] = eph;
  f["compile_cache.dir_root"] = dir ? dir.replace(/\/torch_compile_cache\/.*$/, "") : null;
  f["compile_cache.disabled"] = run["vllm.startup.compile_cache.disabled"] === true || log.compileCacheDisabled === true;

  // CUDA graphs: the config line's list first (the bar shows one mode's count), then the bar, then the predictor's count.
  const bar = num(attr(rec, ["cuda_graph_capture"], "vllm.startup.cuda_graph.sizes"));
  const cfg = num(attr(rec, ["cuda_graph_capture"], "vllm.startup.cuda_graph.config_sizes")) ?? num(run["vllm.startup.cuda_graph.config_sizes"]) ?? log.captureSizes ?? null;
  const sizes: [number | null, string] = cfg !== null ? [cfg, "engine config line"] : bar !== null ? [bar, "capture progress bar"]
    : num(feat.cuda_graph_sizes) !== null ? [num(feat.cuda_graph_sizes), "this version's default for these arguments"] : [null, ""];
  f["capture.sizes"] = sizes[0];
  f["capture.sizes_source"] = sizes[0] !== null ? sizes[1] : null;

  // Weights: size, rate, where the bytes came from, the loader.
  const loadPhase = phaseOf(rec, "load_weights") ?? phaseOf(rec, "model_loading");
  const gib = num(attr(rec, ["load_weights"], "vllm.startup.weights.checkpoint_gib")) ?? num(attr(rec, ["model_loading"], "vllm.startup.weights.gib"));
  f["weights.gib"] = gib !== null && gib > 0 ? r2(gib) : null;
  const d = num(loadPhase?.duration_s);
  f["weights.loaded"] = !!loadPhase && loadPhase.status === "ok";
  // The sampler's measured read rate of the process tree when there is one, else bytes / duration.
  const sampled = num(attr(rec, ["load_weights", "model_loading"], "vllm.startup.process.io.read_throughput"));
  f["weights.gib_s"] = sampled !== null && sampled > 0 ? r2(sampled / 2 ** 30)
    : gib !== null && gib > 0 && d !== null && d > 0 ? r2(gib / d) : null;
  const src = str(attr(rec, ["load_weights", "model_loading"], "vllm.startup.io.read_source"));
  f["weights.read_source"] = src;
  f["weights.from_page_cache"] = src !== null ? src === "page_cache"
    : f["weights.gib_s"] !== null ? (f["weights.gib_s"] as number) >= 3 : null;
  const fmt = str(log.loadFormat) ?? str(attr(rec, ["load_weights", "model_loading"], "vllm.startup.weights.load_format"))
    ?? str(run["vllm.startup.weights.load_format"]) ?? str(feat.load_format);
  f["weights.load_format"] = fmt;
  const loader = str(log.loader) ?? str(attr(rec, ["load_weights"], "vllm.startup.weights.loader"))
    ?? (num(attr(rec, ["load_weights"], "vllm.startup.weights.prefetch_s")) !== null ? "prefetch" : null)
    ?? (fmt && fmt !== "auto" && fmt !== "safetensors" ? fmt : "default safetensors loader");
  f["weights.loader"] = loader;
  f["weights.loader_threads"] = log.loaderThreads ?? num(attr(rec, ["load_weights"], "vllm.startup.weights.loader_threads")) ?? DEFAULT_THREADS[loader] ?? null;
  f["weights.filesystem"] = str(attr(rec, ["load_weights"], "vllm.startup.weights.filesystem"));

  const dl = phaseOf(rec, "model_download");
  f["download.gib_s"] = dl && gib && dl.duration_s ? r2(gib / dl.duration_s) : null;

  // A failure on KV-cache memory, and what vLLM said it needed.
  const err = rec.error ?? "";
  const failed = rec.phases.filter((p) => p.status === "error");
  const kvGib = num(attr(rec, ["kv_cache_profiling"], "vllm.startup.kv_cache.gib"));
  f["kv.gib"] = kvGib;
  // An OOM after the weights were in place: while compiling, profiling, sizing the KV cache, warming
  // up or capturing graphs (an OOM while loading the weights is the model not fitting, not KV config).
  const memPhase = (p: PhaseRecord) => !BEFORE_KV.includes(p.name) && !(p.parent !== null && BEFORE_KV.includes(p.parent));
  const oomInKv = /out of memory/i.test(err) && failed.some(memPhase);
  f["failure.kv_memory"] = rec.outcome === "failed" && (KV_FAILURE.test(err) || oomInKv || (kvGib !== null && kvGib <= 0));
  f["failure.error"] = err ? (err.length > 200 ? `${err.slice(0, 200)}…` : err) : null;
  const need = KV_TOKENS.exec(err);
  f["failure.kv_tokens_needed"] = need ? Number(need[1].replace(/,/g, "")) : null;
  f["failure.kv_tokens_available"] = need ? Number(need[2].replace(/,/g, "")) : (ESTIMATED_LEN.exec(err) ? Number(ESTIMATED_LEN.exec(err)![1]) : null);
  const kvNeed = KV_GIB.exec(err);
  f["failure.kv_gib_needed"] = kvNeed ? Number(kvNeed[1]) : null;
  f["failure.kv_gib_available"] = kvNeed ? Number(kvNeed[2]) : null;
  f["failure.max_seq_len"] = MAX_SEQ.exec(err) ? Number(MAX_SEQ.exec(err)![1].replace(/,/g, "")) : null;
  const oom = OOM.exec(err);
  f["failure.oom_tried_gib"] = oom ? Number(oom[1]) : null;
  f["failure.oom_free"] = oom && oom[2] ? `${oom[2]} ${oom[3]}` : null;
  f["config.gpu_memory_utilization"] = log.gpuMemoryUtilization ?? null;
  f["config.max_model_len"] = log.maxModelLen ?? null;
  return f;
}

/** vLLM's KV-cache memory errors (v0.6-main wordings). */
const KV_FAILURE = /No available memory for the cache blocks|KV cache is needed, which is larger than the available KV cache memory|larger than the maximum number of tokens that can be stored in KV cache|Insufficient memory for KV cache|not enough KV cache|num_gpu_blocks.*(?:<=|must be) 0/i;
const KV_TOKENS = /max (?:seq|model) len(?:gth)? \(([\d,]+)\) is larger than the maximum number of tokens that can be stored in KV cache \(([\d,]+)\)/i;
const ESTIMATED_LEN = /estimated maximum model length is (\d+)/i;
const KV_GIB = /\(([\d.]+) GiB KV cache is needed, which is larger than the available KV cache memory \(([\d.]+) GiB\)/i;
const MAX_SEQ = /max seq len \(([\d,]+)\)/i;
const OOM = /Tried to allocate ([\d.]+) GiB(?:.*?of which ([\d.]+) (GiB|MiB) is free)?/i;
/** Phases (and their sub-steps) before any KV-cache memory is sized: an OOM there is not a KV-cache setting. */
const BEFORE_KV = ["model_download", "bootstrap", "tokenizer_init", "model_loading"];

/** Phase-level facts for the phase a rule acts on. */
export function phaseFacts(p: PhaseRecord, rec?: StartupRecord): Facts {
  const d = num(p.duration_s);
  const total = rec ? (num(rec.ready_s) ?? num(rec.total_s)) : null;
  return {
    "phase.name": p.name, "phase.duration_s": d !== null ? r2(d) : null, "phase.status": p.status,
    "phase.share": d !== null && total !== null && total > 0 ? r2(Math.min(1, d / total)) : null,
    "phase.share_pct": d !== null && total !== null && total > 0 ? Math.round(Math.min(1, d / total) * 100) : null,
  };
}
