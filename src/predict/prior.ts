// The cross-hardware prior: carries the reference linear model (the study's
// H100 NVL machine, coefficients.json) to the hardware and configuration a
// start-up actually runs on, with an uncertainty per phase.
//
//   predicted(phase group g) = reference(g) x era(g) x exp(b[class][g])
//   sigma(g)                 = spread of log(actual / predicted) on the corpus
//
// Groups (hardware-priors.json "groups") are top-level phases with one kind of
// cost: bootstrap (CPU; server and offline engines apart), small steps, weight
// loading (IO), torch.compile (CPU), KV profiling + warm-up (GPU), CUDA-graph
// capture (GPU). b is fitted per hardware class as the median log ratio over
// the corpus logs of that class, shrunk towards the pooled median of all
// non-reference logs with a prior weight of SHRINK_K logs, so a class seen once
// moves little and an unseen class gets the pooled value (with a wider sigma).
// The reference class keeps the linear model as it is.
//
// The corpus (observations) is built from real logs: a log's phases come from
// the phase tracker at run time (so a changed timeline is picked up), and its
// features are only what the log reveals *before* start-up (name, engine
// config line, hardware lines): the prediction is a-priori.

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import priorsJson from "./hardware-priors.json";
import { DEFAULT_COEFFICIENTS, PARENT_SUMS, predict, type Coefficients, type DesignInput, type Prediction } from "./model.ts";
import { captureRuleFor, captureSizes, REFERENCE_VLLM_VERSION } from "./features.ts";
import { LogFactScanner, profileTokensFromFacts, weightsGibFromFacts, type LogFacts } from "./log-hardware.ts";
import { hardwareClass, hardwareFromLog, type Hardware } from "./hardware.ts";
import type { TrackerResult } from "../phases/tracker.ts";

export type Group = "bootstrap" | "small" | "load" | "compile" | "encoder" | "kv" | "warmup" | "graphs";
export interface GroupDef { phases: string[]; bound: "cpu" | "io" | "gpu"; note?: string }

export interface Fitted {
  method: string;
  /** Pooled log factor per group key (bootstrap@server, bootstrap@offline, small, load, ...). */
  pooled: Record<string, number>;
  /** Per class: log factor per group key. */
  classes: Record<string, Record<string, number>>;
  /** Log-normal sigma per group key (pooled spread). */
  sigma: Record<string, number>;
  /** Configuration effects (log factors): "kv@multimodal". */
  effects?: Record<string, number>;
  /** Wall time the phases do not cover (gaps between them), as a factor on the phases' sum. */
  gaps: { factor: number; sigma: number };
  /**
   * Per top-level phase: median over the corpus of (time still to readiness) /
   * (time elapsed) when that phase ended (only phases seen ending in at least
   * ELAPSED_MIN_LOGS logs). The live ETA's second, model-free estimate (./live.ts).
   */
  elapsed?: Record<string, number>;
  logs?: string[];
}

export interface Priors {
  classes: unknown[];
  /** The study's single-factor conditions (./study-conditions.ts): median log ratios, and the sigma floors they give. */
  study_conditions?: { source: string; ratios: Record<string, Record<string, number>>; sigma_floor: Record<string, number> };
  groups: Record<Group, GroupDef>;
  era: { v0_graph_capture_factor: { value: number; source: string } };
  fitted: Fitted;
}

export const PRIORS = priorsJson as unknown as Priors;
export const GROUPS = Object.keys(PRIORS.groups) as Group[];
/** Prior weight (in logs) of the pooled factor when a class's own factor is estimated. */
export const SHRINK_K = 2;
/** Sigma floor and the widening for a GPU nothing names (unknown class). */
export const SIGMA_MIN = 0.2;
export const UNKNOWN_WIDEN = 1.5;
/** The reference class: the study's own spread (leave-one-model-out MAE ~0.9 s of ~40 s). */
export const REFERENCE_SIGMA = 0.15;
/** Sigma of a group key seen in fewer than three logs (no spread to measure): a factor of e either way. */
export const FEW_LOGS_SIGMA = 1.0;
/**
 * The small steps (tokenizer, server start) have no study condition: what they do
 * varies with unmodelled work (chat-template and multimodal warm-up: 0-5 s in the corpus).
 */
export const SMALL_SIGMA_FLOOR = 0.7;

export function groupOf(topPhase: string): Group | null {
  for (const g of GROUPS) if (PRIORS.groups[g].phases.includes(topPhase)) return g;
  return null;
}

/** The fitted key of a group: bootstrap differs between a server (two processes) and an offline engine. */
export function groupKey(g: Group, server: boolean, engine: "v0" | "v1" | null = null): string {
  if (g === "bootstrap") return `bootstrap@${server ? "server" : "offline"}`;
  // V0 profiles with one eager forward pass, V1's profiling run is the compiled model's
  // first run; V0 captures whole-model graphs, V1 piecewise (and full) ones
  if (g === "kv" || g === "graphs") return `${g}@${engine === "v0" ? "v0" : "v1"}`;
  return g;
}

export interface PriorContext {
  hwClass: string;
  server: boolean;
  engine: "v0" | "v1" | null;
  /** Multimodal model: vLLM profiles the encoder with the largest inputs too. */
  multimodal?: boolean;
}

/** Top-level phases the reference (study) model has no step for: predicted from 0 s by the group factor alone. */
export const ZERO_REFERENCE = new Set(["model_warmup", "encoder_profiling"]);

/** Groups of those phases: with no corpus log showing them, their sigma is the few-logs one. */
const ZERO_REFERENCE_GROUPS = new Set<Group>(["warmup", "encoder"]);

/** GPU-bound groups: on a CPU back-end their GPU-fitted factors do not apply. */
const GPU_GROUPS = new Set<Group>(["encoder", "kv", "graphs"]);

export interface PriorPrediction extends Prediction {
  /** "history": the phases as this fleet key last measured them (./import-predict.ts fromHistory). */
  basis?: "history";
  /** Log-normal sigma per predicted phase (top-level and sub-steps share their group's). */
  sigma: Record<string, number>;
  /** Sigma of the total. */
  sigma_total: number;
  hw_class: string;
  /** Factor applied per top-level phase (for explanations). */
  factor: Record<string, number>;
}

/** Log factor for a group in a context (class value, else pooled, else 0). */
export function logFactor(fitted: Fitted, ctx: PriorContext, g: Group): number {
  const effect = g === "kv" && ctx.multimodal ? fitted.effects?.["kv@multimodal"] ?? 0 : 0;
  if (ctx.hwClass === "reference") {
    // the study ran an offline engine: a server's second process is configuration, not hardware
    const server = g === "bootstrap" && ctx.server && fitted.pooled["bootstrap@server"] !== undefined && fitted.pooled["bootstrap@offline"] !== undefined
      ? fitted.pooled["bootstrap@server"] - fitted.pooled["bootstrap@offline"] : 0;
    return effect + server;
  }
  if ((ctx.hwClass === "cpu" || ctx.hwClass === "other-accelerator") && GPU_GROUPS.has(g)) return effect;
  const k = groupKey(g, ctx.server, ctx.engine);
  return (fitted.classes[ctx.hwClass]?.[k] ?? fitted.pooled[k] ?? fitted.pooled[g] ?? 0) + effect;
}

export function groupSigma(fitted: Fitted, ctx: PriorContext, g: Group): number {
  if (ctx.hwClass === "reference") return REFERENCE_SIGMA;
  const s = Math.max(SIGMA_MIN, fitted.sigma[groupKey(g, ctx.server, ctx.engine)] ?? (ZERO_REFERENCE_GROUPS.has(g) ? FEW_LOGS_SIGMA : 0.5));
  return ctx.hwClass === "unknown-gpu" ? s * UNKNOWN_WIDEN : s;
}

/** Era multiplier (fixed, from the study's version table): V0's CUDA-graph capture. */
export function eraFactor(ctx: PriorContext, g: Group): number {
  return g === "graphs" && ctx.engine === "v0" ? PRIORS.era.v0_graph_capture_factor.value : 1;
}

/**
 * The reference value a top-level phase's factors apply to. V0's capture factor
 * (era) was measured against V1's compiled, piecewise capture (its source: 9-17 s
 * by V0 against 1 s by 0.10.0's default), so a V0 capture's base is the compiled
 * one: the reference model's eager-capture term (sizes_eager, the study's -O0
 * runs on V1) is left out, else V0's eager capture would count twice.
 */
export function referenceBase(ref: Prediction, ctx: PriorContext, top: string): number | undefined {
  const v = ref.phases[top];
  if (v === undefined || top !== "cuda_graph_capture" || ctx.engine !== "v0") return v;
  const e = ref.explain[top];
  const eager = e?.terms.find((t) => t.feature === "sizes_eager");
  if (!eager) return v;
  return round3(Math.max(0, v - eager.coef * eager.value * (e.scale ?? 1)));
}

/** Apply the prior to a reference prediction. */
export function applyPrior(ref: Prediction, ctx: PriorContext, fitted: Fitted = PRIORS.fitted): PriorPrediction {
  const phases: Record<string, number> = { ...ref.phases };
  const sigma: Record<string, number> = {};
  const factor: Record<string, number> = {};
  let total = 0, var2 = 0;
  for (const g of GROUPS) {
    const f = eraFactor(ctx, g) * Math.exp(logFactor(fitted, ctx, g));
    const s = groupSigma(fitted, ctx, g);
    for (const top of PRIORS.groups[g].phases) {
      // an offline engine (LLM(...)) starts no API server
      if (top === "server_start" && !ctx.server) { delete phases[top]; continue; }
      // only a multimodal model on V1 profiles its encoder as a step of its own
      if (top === "encoder_profiling" && !(ctx.multimodal && ctx.engine !== "v0")) continue;
      // a phase the reference model has no step for (model_warmup) starts from 0 s:
      // its factor is on (0 + 0.5 s), the same smoothing the fit's log ratios use
      const refV = referenceBase(ref, ctx, top) ?? (ZERO_REFERENCE.has(top) ? 0 : undefined);
      if (refV === undefined) continue;
      factor[top] = round3(f);
      const v = ZERO_REFERENCE.has(top) ? Math.max(0, (refV + 0.5) * f - 0.5) : refV * f;
      phases[top] = round3(v);
      sigma[top] = round3(s);
      for (const ch of PARENT_SUMS[top] ?? []) {
        if (ch in ref.phases) { phases[ch] = round3(ref.phases[ch] * f); sigma[ch] = round3(s); }
      }
      total += v;
      var2 += (v * s) ** 2;
    }
  }
  const gaps = ctx.hwClass === "reference" ? 1 : fitted.gaps.factor;
  const totalS = total * gaps;
  const sigmaTotal = total > 0 ? Math.sqrt(var2) / total + (ctx.hwClass === "reference" ? 0 : fitted.gaps.sigma) : SIGMA_MIN;
  return { ...ref, phases, total_s: round3(totalS), sigma, sigma_total: round3(sigmaTotal), hw_class: ctx.hwClass, factor };
}

// ------------------------------------------------------------------ a-priori features from a log

/** Design input from what a log reveals before start-up (name, config line, hardware lines). */
export function aprioriFeatures(f: LogFacts, r: TrackerResult | null = null, opts: { afterLoading?: boolean } = {}): Partial<DesignInput> {
  const tp = Math.max(1, f.tensor_parallel_size), pp = Math.max(1, f.pipeline_parallel_size);
  const w = weightsGibFromFacts(f);
  // after "Model loading took X GiB": the weights vLLM measured on one GPU replace the name's guess
  if (opts.afterLoading && f.loaded_weights_gib !== null && f.loaded_weights_gib > 0) {
    const share = w.total && w.active ? Math.min(1, w.active / w.total) : 1;
    w.total = f.loaded_weights_gib * tp * pp;
    w.active = w.total * share;
  }
  const gpuPlatform = f.platform === "cuda" || f.platform === "rocm" || f.platform === null || f.platform === "unknown";
  const eager = f.enforce_eager === true;
  const compile = gpuPlatform && !eager && f.engine !== "v0" && f.compile_level !== 0 && !(f.vllm_version && /^0\.[0-6]\./.test(f.vllm_version));
  const graphs = gpuPlatform && !eager && f.cudagraph_mode !== "NONE" && f.cuda_graph_sizes !== 0;
  let sizes = f.cuda_graph_sizes;
  if (sizes === null) {
    const rule = captureRuleFor(f.vllm_version ?? REFERENCE_VLLM_VERSION);
    const max = rule.defaultMax === "2x_max_num_seqs" ? Math.min(2 * rule.defaultMaxNumSeqs, 512) : rule.defaultMax;
    sizes = captureSizes(max, rule.rule).length;
  }
  // FULL_AND_PIECEWISE captures twice: piecewise graphs for every size, then full
  // decode graphs for the sizes up to max_num_seqs (the DGX Spark log: 67 + 35 bars)
  if (sizes !== null && f.cudagraph_mode === "FULL_AND_PIECEWISE") sizes += f.decode_graph_sizes ?? Math.min(sizes, 35);
  const x: Partial<DesignInput> = {
    compile_enabled: compile,
    cuda_graphs_enabled: graphs,
    cuda_graph_sizes: graphs ? sizes : 0,
    tensor_parallel_size: tp,
    pipeline_parallel_size: pp,
    weights_cached_fraction: 0,
    load_format: f.load_format ?? "auto",
  };
  const tokens = profileTokensFromFacts(f);
  if (tokens !== null) x.profile_tokens = tokens;
  // Loading is per GPU (each rank reads its shard at the same time): the design's
  // weights are per rank; KV profiling and capture divide the active weights themselves.
  if (w.total !== null) {
    x.weights_gib = w.total / (tp * pp);
    x.active_weights_gib = w.active ?? w.total;
  }
  if (r) {
    const hit = r.phases.find((p) => p.name === "graph_compile")?.attrs["vllm.startup.compile_cache.hit"];
    if (hit !== undefined) x.compile_cache = hit ? "warm" : "cold";
  }
  if (x.compile_cache === undefined) x.compile_cache = "cold";
  // the layer count is not in the log: estimated from the model's size (capture and
  // compilation scale with layers; a 125M model has 12, a 70B one 80)
  const layers = layersFromSize(f.name_params_b !== null ? (f.name_params_b * 1e9 * 2) / 2 ** 30 : w.total);
  if (layers !== null) x.layers = layers;
  if (x.load_format === "serverless_llm" || x.load_format === "dummy") x.load_format = "dummy";
  return x;
}

/**
 * Decoder layers from the model's size in bf16 GiB: layers = a x GiB^b, a
 * least-squares fit of log(layers) on log(GiB) over the study's 12 dense,
 * non-hybrid models (study-data h100nvl_fig_rest_22models_mean.csv: 0.9 to 26 GiB,
 * 24 to 48 layers). Extrapolates to 18 layers at 0.23 GiB (opt-125m: 12) and
 * 52 at 145 GiB (a 78B model: 80): a trend, not a count.
 */
export const LAYERS_FROM_GIB = { a: 22.9, b: 0.164, source: "least squares of log(layers) on log(weights GiB) over the 12 dense, non-hybrid models of study-data/h100nvl_fig_rest_22models_mean.csv" };
export function layersFromSize(gib: number | null | undefined): number | null {
  if (gib === null || gib === undefined || !(gib > 0)) return null;
  return Math.round(LAYERS_FROM_GIB.a * gib ** LAYERS_FROM_GIB.b);
}

// ------------------------------------------------------------------ corpus observations

export interface Observation {
  id: string;
  hwClass: string;
  server: boolean;
  engine: "v0" | "v1" | null;
  hardware: Hardware;
  /** Reference prediction (a-priori features). */
  ref: Prediction;
  /** Seconds per top-level phase, as the tracker measured them. */
  actual: Record<string, number>;
  /** Start of each top-level phase (s from the start). */
  start: Record<string, number>;
  /** Time to readiness. */
  total: number;
  facts: LogFacts;
}

/** Every log under a folder (recursively), sorted. */
export function corpusLogFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith(".log")) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

export function factsOfFile(path: string): LogFacts {
  const s = new LogFactScanner();
  for (const line of readFileSync(path, "utf8").split(/\r\n|\n|\r/)) s.push(line);
  return s.finish();
}

/**
 * One observation per log that shows a whole start-up: ready, its start in the
 * log (not a tail or a fragment), on hardware with a predicted phase set.
 */
export function observationOf(id: string, r: TrackerResult, facts: LogFacts, coefs: Coefficients = DEFAULT_COEFFICIENTS, gpuOption: string | null = null): Observation | null {
  if (r.outcome !== "ready" || !r.startKnown || r.readyT === null) return null;
  const hw = hardwareFromLog(facts, gpuOption);
  const ref = predict(aprioriFeatures(facts, r), coefs);
  const actual: Record<string, number> = {};
  const start: Record<string, number> = {};
  for (const p of r.phases) {
    if (p.parent !== null) continue;
    actual[p.name] = (actual[p.name] ?? 0) + p.durationS;
    start[p.name] ??= (p.startMs - r.t0) / 1000;
  }
  return {
    id, hwClass: hardwareClass(hw), server: facts.server_mode || !!r.runAttrs["vllm.startup.server"], engine: facts.engine, hardware: hw,
    ref, actual, start, total: (r.readyT - r.t0) / 1000, facts,
  };
}

export function contextOf(o: Observation): PriorContext {
  return { hwClass: o.hwClass, server: o.server, engine: o.engine, multimodal: o.facts.multimodal };
}

const lr = (a: number, p: number) => Math.log((a + 0.5) / (p + 0.5));

/** Per-group log ratios actual / (reference x era) of one observation. */
export function groupRatios(o: Observation): Partial<Record<string, number>> {
  const out: Partial<Record<string, number>> = {};
  const ctx: PriorContext = { hwClass: o.hwClass, server: o.server, engine: o.engine, multimodal: o.facts.multimodal };
  for (const g of GROUPS) {
    let a = 0, p = 0, any = false;
    for (const top of PRIORS.groups[g].phases) {
      if (o.actual[top] === undefined) continue;
      a += o.actual[top];
      const refV = referenceBase(o.ref, ctx, top) ?? (ZERO_REFERENCE.has(top) ? 0 : undefined);
      if (refV !== undefined) { p += refV * eraFactor(ctx, g); any = true; }
    }
    if (any) out[groupKey(g, o.server, o.engine)] = lr(a, p);
  }
  return out;
}

export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Fit the prior from observations (the reference class's logs count for the CPU-bound groups only). */
export function fitPriors(obs: Observation[], method = "corpus", floors: Record<string, number> = PRIORS.study_conditions?.sigma_floor ?? {}): Fitted {
  // the reference class's logs count for the CPU-bound groups only (its GPU factor is 1 by definition,
  // but bootstrap and compilation run on the host's CPU whatever the GPU)
  const train = obs;
  const by: Record<string, { cls: string; r: number }[]> = {};
  const mmKv: { k: string; r: number }[] = [];
  for (const o of train) {
    for (const [k, r] of Object.entries(groupRatios(o))) {
      if (o.hwClass === "reference" && PRIORS.groups[k.split("@")[0] as Group]?.bound !== "cpu") continue;
      if (k.startsWith("kv") && o.facts.multimodal) { mmKv.push({ k, r: r! }); continue; } // a configuration effect, fitted below
      if ((o.hwClass === "cpu" || o.hwClass === "other-accelerator") && (k.startsWith("kv") || k.startsWith("graphs"))) continue; // not a GPU's speed
      (by[k] ??= []).push({ cls: o.hwClass, r: r! });
    }
  }
  const pooled: Record<string, number> = {}, sigma: Record<string, number> = {}, classes: Record<string, Record<string, number>> = {};
  // bootstrap@X with no data of its own borrows the other bootstrap key
  for (const [k, rs] of Object.entries(by)) {
    const m = median(rs.map((x) => x.r));
    pooled[k] = round3(m);
    const mad = median(rs.map((x) => Math.abs(x.r - m))) * 1.4826;
    const floor = floors[k.split("@")[0]] ?? (k === "small" ? SMALL_SIGMA_FLOOR : 0);
    sigma[k] = round3(Math.max(SIGMA_MIN, floor, rs.length >= 3 ? mad : FEW_LOGS_SIGMA));
    const perClass: Record<string, number[]> = {};
    for (const x of rs) (perClass[x.cls] ??= []).push(x.r);
    for (const [cls, xs] of Object.entries(perClass)) {
      (classes[cls] ??= {})[k] = round3((xs.reduce((a, b) => a + b, 0) + SHRINK_K * m) / (xs.length + SHRINK_K));
    }
  }
  for (const [a, b] of [["bootstrap@server", "bootstrap@offline"], ["bootstrap@offline", "bootstrap@server"], ["kv@v0", "kv@v1"], ["kv@v1", "kv@v0"], ["graphs@v0", "graphs@v1"], ["graphs@v1", "graphs@v0"]]) {
    // a key with no logs of its own borrows its sibling's factor, with at least the few-logs sigma
    if (pooled[a] === undefined && pooled[b] !== undefined) { pooled[a] = pooled[b]; sigma[a] = Math.max(sigma[b], FEW_LOGS_SIGMA); }
  }
  // gaps: wall time between phases, as a factor on the phases' own sum
  const g = train.map((o) => {
    const covered = Object.values(o.actual).reduce((s, v) => s + v, 0);
    return covered > 0 ? Math.log(o.total / covered) : NaN;
  }).filter(Number.isFinite);
  const gm = g.length ? median(g) : 0;
  const gs = g.length >= 3 ? median(g.map((x) => Math.abs(x - gm))) * 1.4826 : 0.2;
  // multimodal models: their KV profiling runs the encoder too (mean residual, shrunk towards 0 with one pseudo-log)
  const effects: Record<string, number> = {};
  const mmRes = mmKv.filter((x) => pooled[x.k] !== undefined).map((x) => x.r - pooled[x.k]);
  if (mmRes.length) effects["kv@multimodal"] = round3(mmRes.reduce((a, r) => a + r, 0) / (mmRes.length + 1));
  return { method, pooled, classes, sigma, effects, gaps: { factor: round3(Math.exp(gm)), sigma: round3(Math.max(0.05, gs)) }, elapsed: elapsedRatios(train), logs: train.map((o) => o.id) };
}

/** Logs a phase must be seen ending in before its elapsed ratio is used. */
export const ELAPSED_MIN_LOGS = 3;

/**
 * (time to readiness) / (time elapsed) at the end of each top-level phase, the
 * median over the logs (every log: how much of a start-up is still ahead once
 * bootstrap and loading are behind does not depend on the GPU class alone; what
 * runs on top of vLLM, the storage and the host slow both parts).
 */
export function elapsedRatios(obs: Observation[]): Record<string, number> {
  const by: Record<string, number[]> = {};
  for (const o of obs) {
    for (const [p, st] of Object.entries(o.start)) {
      const end = st + (o.actual[p] ?? 0);
      if (end < 1 || end >= o.total) continue;
      (by[p] ??= []).push((o.total - end) / end);
    }
  }
  const out: Record<string, number> = {};
  for (const [p, xs] of Object.entries(by)) if (xs.length >= ELAPSED_MIN_LOGS) out[p] = round3(median(xs));
  return out;
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
