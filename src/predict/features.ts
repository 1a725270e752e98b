// Features for the start-up predictor, read before and while vLLM starts:
// the wrapped `vllm serve` command line and the files it points at. Cheap by
// construction: config/tokenizer/index JSON files, the safetensors *headers*
// (8-byte length + JSON), and a shallow look at the compile cache. Weight files
// are never read beyond their header. Never throws: whatever could not be read
// is reported in `warnings` and left null.

import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";

export interface Features {
  model: string | null;
  model_dir: string | null;
  /** local: a directory on disk; hf-cache: resolved in the Hugging Face cache; not-found: would be downloaded. */
  model_source: "local" | "hf-cache" | "not-found" | null;
  vllm_version: string | null;
  architecture: string | null;
  model_type: string | null;
  layers: number | null;
  /**
   * Tokens of the KV-profiling run's dummy batch (max_num_batched_tokens) when
   * the log or command line says so; absent: the study's 2048 (./model.ts).
   */
  profile_tokens?: number | null;
  /** Layers with attention (hybrid models: fewer than `layers`). */
  attention_layers: number | null;
  hidden_size: number | null;
  num_attention_heads: number | null;
  num_kv_heads: number | null;
  ffn_dim: number | null;
  vocab_size: number | null;
  n_experts: number | null;
  n_active_experts: number | null;
  is_moe: boolean;
  is_hybrid: boolean;
  /** Gated (SwiGLU-style) MLP; false for GELU MLPs (falcon, mpt, opt, ...); null unknown. */
  gated_mlp: boolean | null;
  quantization: string | null;
  dtype: string | null;
  /** Size of tokenizer.json (or the tokenizer's files) in MiB. */
  tokenizer_mb: number | null;
  /** Bytes of all weights, from the safetensors headers (dtype x shape). */
  weights_bytes: number | null;
  weights_gib: number | null;
  /** Bytes of routed-expert tensors (MoE). */
  expert_weights_bytes: number | null;
  /** GiB touched per token: dense part + routed experts x (active / experts). */
  active_weights_gib: number | null;
  weights_source: "safetensors-header" | "file-size" | null;
  weight_files: number;
  /** Fraction of the weights already in the page cache; null = not measured (the model then assumes disk, as on the reference machine). */
  weights_cached_fraction: number | null;
  load_format: string;
  tensor_parallel_size: number;
  pipeline_parallel_size: number;
  data_parallel_size: number;
  enforce_eager: boolean;
  /** torch.compile level / mode (0 = none, 3 = vLLM piecewise compile); null = the version's default. */
  compile_level: number | null;
  compile_enabled: boolean;
  cuda_graphs_enabled: boolean;
  /** Number of CUDA-graph capture sizes implied by the arguments and the version's defaults. */
  cuda_graph_sizes: number;
  max_num_seqs: number | null;
  compile_cache: "warm" | "cold";
  compile_cache_source: string;
  warnings: string[];
}

export interface ExtractOptions {
  model?: string;
  /** The `vllm serve` argv after "serve", or the full command. */
  args: string[];
  env: Record<string, string | undefined>;
  vllmVersion?: string | null;
  compileCache?: "warm" | "cold" | "auto";
}

// ------------------------------------------------------------------ data tables

/** Bytes per element of each safetensors dtype. */
export const DTYPE_BYTES: Record<string, number> = {
  F64: 8, I64: 8, U64: 8, C64: 8,
  F32: 4, I32: 4, U32: 4,
  F16: 2, BF16: 2, I16: 2, U16: 2,
  F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1, F8_E4M3FN: 1, I8: 1, U8: 1, BOOL: 1,
  F6_E2M3: 0.75, F6_E3M2: 0.75, F4: 0.5, I4: 0.5, U4: 0.5,
};

/** Model types whose MLP is not gated (GELU/ReLU two-matrix MLP). */
export const NON_GATED_MLP_TYPES = new Set([
  "falcon", "mpt", "gpt2", "gpt_bigcode", "gptj", "gpt_neox", "opt", "bloom", "phi", "starcoder2",
  "bert", "roberta", "persimmon", "dbrx_plain", "codegen", "stablelm_epoch",
]);

/** Model types that are hybrid (state-space / linear-attention layers mixed with attention). */
export const HYBRID_TYPES = new Set([
  "granitemoehybrid", "jamba", "nemotron_h", "falcon_h1", "bamba", "zamba2", "qwen3_next",
  "plamo2", "mamba", "mamba2", "lfm2", "minimax_text_01", "minimax_m1", "qwen3_5", "qwen3_5_moe",
]);

/** Config keys, in order of preference, for each feature (HF naming varies by architecture). */
const CONFIG_KEYS = {
  layers: ["num_hidden_layers", "n_layer", "n_layers", "num_layers"],
  hidden_size: ["hidden_size", "d_model", "n_embd", "model_dim"],
  num_attention_heads: ["num_attention_heads", "n_head", "n_heads", "num_heads"],
  num_kv_heads: ["num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num", "n_kv_heads"],
  ffn_dim: ["intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim", "moe_intermediate_size"],
  vocab_size: ["vocab_size", "padded_vocab_size"],
  n_experts: ["num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts", "num_experts_total"],
  n_active_experts: ["num_experts_per_tok", "num_experts_per_token", "moe_top_k", "top_k", "moe_k"],
} as const;

/**
 * How each vLLM version derives CUDA-graph capture sizes when the command line
 * does not list them. `rule`: "v8" = [1,2,4] + 8,16,..,max; "v8_16" = [1,2,4] +
 * 8..248 step 8 + 256..max step 16. `defaultMax`: a number, or "2x_max_num_seqs"
 * = min(2 x max_num_seqs, 512). O0 graphs: whether -O0 (no compile) still
 * captures (FULL) graphs.
 */
export const CAPTURE_RULES: { from: string; rule: "v8" | "v8_16"; defaultMax: number | "2x_max_num_seqs"; o0Graphs: boolean; defaultMaxNumSeqs: number }[] = [
  // V0 and early V1: 1,2,4,8..256 (the study's 0.10.1.1 runs: 35 sizes)
  { from: "0.0.0", rule: "v8", defaultMax: 256, o0Graphs: false, defaultMaxNumSeqs: 256 },
  // 0.10.2 .. 0.11.x: max = min(2 x max_num_seqs, 512) -> 67 sizes (seen in 0.11.0 / 0.11.1rc2 logs)
  { from: "0.10.2", rule: "v8", defaultMax: "2x_max_num_seqs", o0Graphs: true, defaultMaxNumSeqs: 256 },
  // 0.12+: step 16 above 256 -> 51 sizes by default; -O0 means no compile and no graphs
  { from: "0.12.0", rule: "v8_16", defaultMax: "2x_max_num_seqs", o0Graphs: false, defaultMaxNumSeqs: 256 },
];

/** The study's reference version, assumed when the version is unknown. */
export const REFERENCE_VLLM_VERSION = "0.10.1.1";

/** Flags of `vllm serve` that take no value (so the next token is not their value). */
const BOOLEAN_FLAGS = new Set([
  "--enforce-eager", "--trust-remote-code", "--disable-log-stats", "--disable-log-requests",
  "--enable-prefix-caching", "--no-enable-prefix-caching", "--enable-chunked-prefill", "--no-enable-chunked-prefill",
  "--enable-auto-tool-choice", "--disable-custom-all-reduce", "--enable-lora", "--headless", "--disable-frontend-multiprocessing",
  "--enable-expert-parallel", "--skip-tokenizer-init", "--disable-fastapi-docs", "--enable-log-requests", "--no-enforce-eager",
]);

// ------------------------------------------------------------------ helpers

/** Compare dotted versions numerically ("0.10.1.1" vs "0.10.2"); suffixes (rc, dev, +g...) ignored. */
export function compareVersions(a: string, b: string): number {
  const pa = (a.match(/^\d+(?:\.\d+)*/)?.[0] ?? "0").split(".").map(Number);
  const pb = (b.match(/^\d+(?:\.\d+)*/)?.[0] ?? "0").split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function captureRuleFor(version: string | null | undefined) {
  const v = version && /^\d/.test(version) ? version : REFERENCE_VLLM_VERSION;
  let rule = CAPTURE_RULES[0];
  for (const r of CAPTURE_RULES) if (compareVersions(v, r.from) >= 0) rule = r;
  return rule;
}

/** The capture sizes vLLM would use for a given max (and rule). */
export function captureSizes(max: number, rule: "v8" | "v8_16"): number[] {
  const out = [1, 2, 4].filter((s) => s <= max);
  if (rule === "v8") for (let s = 8; s <= max; s += 8) out.push(s);
  else {
    for (let s = 8; s < 256 && s <= max; s += 8) out.push(s);
    for (let s = 256; s <= max; s += 16) out.push(s);
  }
  return out;
}

/** Parsed command line: flag (normalised: dashes, lower case) -> values, plus positionals. */
export interface ParsedArgs { flags: Map<string, string[]>; positionals: string[] }

export function parseServeArgs(argv: string[]): ParsedArgs {
  let args = [...argv];
  const serveAt = args.indexOf("serve");
  if (serveAt >= 0 && serveAt < 3) args = args.slice(serveAt + 1);
  else {
    const ep = args.findIndex((a) => /vllm\.entrypoints\.openai\.api_server|vllm\.entrypoints\.api_server/.test(a));
    if (ep >= 0) args = args.slice(ep + 1);
  }
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  const add = (k: string, v: string) => { const l = flags.get(k) ?? []; l.push(v); flags.set(k, l); };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") { positionals.push(...args.slice(i + 1)); break; }
    if (!a.startsWith("-") || a === "-" || /^-\d/.test(a)) { positionals.push(a); continue; }
    // -O3, -O.level=3 style
    const oShort = /^-O(.+)$/.exec(a);
    if (oShort) { add("-O", oShort[1].replace(/^=/, "")); continue; }
    const eq = a.indexOf("=");
    const rawKey = eq > 0 ? a.slice(0, eq) : a;
    const key = rawKey.startsWith("--") ? "--" + rawKey.slice(2).replace(/_/g, "-").toLowerCase() : rawKey;
    if (eq > 0) { add(key, a.slice(eq + 1)); continue; }
    if (BOOLEAN_FLAGS.has(key)) { add(key, "true"); continue; }
    const next = args[i + 1];
    if (next !== undefined && (!next.startsWith("-") || /^-\d/.test(next))) {
      // list-valued flags (--cuda-graph-sizes 1 2 4) take all following plain numbers
      if (key === "--cuda-graph-sizes" || key === "--cudagraph-capture-sizes") {
        let j = i + 1;
        while (j < args.length && /^[\d,\s\[\]]+$/.test(args[j])) { add(key, args[j]); j++; }
        i = j - 1;
      } else { add(key, next); i++; }
    } else add(key, "true");
  }
  return { flags, positionals };
}

function flag(p: ParsedArgs, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = p.flags.get(n);
    if (v && v.length) return v[v.length - 1];
  }
  return undefined;
}

function intFlag(p: ParsedArgs, warnings: string[], ...names: string[]): number | null {
  const v = flag(p, ...names);
  if (v === undefined) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) { warnings.push(`bad value for ${names[0]}: ${JSON.stringify(v)}`); return null; }
  return n;
}

function readJson(path: string, warnings: string[], what: string): any | null {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    warnings.push(`cannot read ${what} ${path}: ${(e as Error).message.split("\n")[0]}`);
    return null;
  }
}

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}
function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

// ------------------------------------------------------------------ HF cache

/** The Hugging Face hub cache directory for an environment (HF_HUB_CACHE > HF_HOME/hub > XDG_CACHE_HOME/huggingface/hub > ~/.cache/huggingface/hub). */
export function hfHubCacheDir(env: Record<string, string | undefined>): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, "hub");
  const xdg = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(xdg, "huggingface", "hub");
}

/** Resolve a hub id ("org/name") to its snapshot directory in a hub cache, or null. */
export function resolveHubSnapshot(repoId: string, cacheDir: string, revision = "main"): string | null {
  const repoDir = join(cacheDir, `models--${repoId.replace(/\//g, "--")}`);
  if (!isDir(repoDir)) return null;
  const snaps = join(repoDir, "snapshots");
  if (/^[0-9a-f]{40}$/.test(revision) && isDir(join(snaps, revision))) return join(snaps, revision);
  try {
    const ref = readFileSync(join(repoDir, "refs", revision), "utf8").trim();
    if (ref && isDir(join(snaps, ref))) return join(snaps, ref);
  } catch { /* no ref file: fall back to the newest snapshot */ }
  try {
    const entries = readdirSync(snaps).map((e) => join(snaps, e)).filter(isDir);
    entries.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    return entries[0] ?? null;
  } catch { return null; }
}

export function looksLikeHubId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/.test(s) && !s.startsWith(".") && !s.includes("..");
}

// ------------------------------------------------------------------ safetensors

export interface SafetensorsSummary { bytes: number; expertBytes: number; tensors: number }

/** Expert tensors of MoE checkpoints (routed experts; shared experts are always active). */
const EXPERT_TENSOR = /(^|\.)experts?\.(\d+\.)?|\.experts_/;
const SHARED_EXPERT = /shared_expert/;

/** Read one safetensors header (never the data) and sum dtype x shape per tensor. */
export function readSafetensorsHeader(path: string): SafetensorsSummary {
  const fd = openSync(path, "r");
  try {
    const lenBuf = Buffer.alloc(8);
    if (readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new Error("file shorter than 8 bytes");
    const len = Number(lenBuf.readBigUInt64LE(0));
    if (!(len > 1 && len < 200 * 1024 * 1024)) throw new Error(`implausible header length ${len}`);
    const hdr = Buffer.alloc(len);
    if (readSync(fd, hdr, 0, len, 8) !== len) throw new Error("truncated header");
    const j = JSON.parse(hdr.toString("utf8"));
    let bytes = 0, expertBytes = 0, tensors = 0;
    for (const [name, t] of Object.entries<any>(j)) {
      if (name === "__metadata__") continue;
      const per = DTYPE_BYTES[String(t?.dtype).toUpperCase()];
      const shape: unknown = t?.shape;
      let b: number;
      if (per !== undefined && Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0)) {
        b = Math.ceil((shape as number[]).reduce((a, d) => a * d, 1) * per);
      } else if (Array.isArray(t?.data_offsets) && t.data_offsets.length === 2) {
        b = Number(t.data_offsets[1]) - Number(t.data_offsets[0]);
      } else throw new Error(`tensor ${name}: unknown dtype ${t?.dtype}`);
      bytes += b;
      tensors++;
      if (EXPERT_TENSOR.test(name) && !SHARED_EXPERT.test(name)) expertBytes += b;
    }
    return { bytes, expertBytes, tensors };
  } finally {
    closeSync(fd);
  }
}

/** The weight files vLLM would load from a model directory (index first, then all *.safetensors). */
export function weightFiles(dir: string, warnings: string[]): { files: string[]; kind: "safetensors" | "other" | "none" } {
  let entries: string[] = [];
  try { entries = readdirSync(dir); } catch (e) { warnings.push(`cannot list model directory ${dir}: ${(e as Error).message}`); return { files: [], kind: "none" }; }
  const index = entries.find((e) => e === "model.safetensors.index.json") ?? entries.find((e) => e.endsWith(".safetensors.index.json"));
  if (index) {
    const j = readJson(join(dir, index), warnings, "safetensors index");
    const map = j?.weight_map;
    if (map && typeof map === "object") {
      const files = [...new Set(Object.values<string>(map).map(String))].map((f) => join(dir, f));
      return { files, kind: "safetensors" };
    }
    warnings.push(`safetensors index ${join(dir, index)} has no weight_map`);
  }
  let st = entries.filter((e) => e.endsWith(".safetensors"));
  if (st.some((e) => !e.startsWith("consolidated"))) st = st.filter((e) => !e.startsWith("consolidated"));
  if (st.length) return { files: st.sort().map((f) => join(dir, f)), kind: "safetensors" };
  const other = entries.filter((e) => /\.(bin|pt|pth|gguf)$/.test(e) && !/^(training_args|optimizer|scheduler)/.test(e));
  return { files: other.sort().map((f) => join(dir, f)), kind: other.length ? "other" : "none" };
}

// ------------------------------------------------------------------ compile cache

function compileCacheState(env: Record<string, string | undefined>, override: "warm" | "cold" | "auto" | undefined): { state: "warm" | "cold"; source: string } {
  if (override === "warm" || override === "cold") return { state: override, source: "override" };
  if (env.VLLM_DISABLE_COMPILE_CACHE && env.VLLM_DISABLE_COMPILE_CACHE !== "0") return { state: "cold", source: "VLLM_DISABLE_COMPILE_CACHE" };
  const root = env.VLLM_CACHE_ROOT || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "vllm");
  const dir = join(root, "torch_compile_cache");
  try {
    // warm when at least one cache entry holds files (bounded, shallow walk)
    let seen = 0;
    const walk = (d: string, depth: number): boolean => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (++seen > 2000) return false;
        if (e.isFile() && depth > 0) return true;
        if (e.isDirectory() && depth < 4 && walk(join(d, e.name), depth + 1)) return true;
      }
      return false;
    };
    if (isDir(dir) && walk(dir, 0)) return { state: "warm", source: `auto: entries in ${dir}` };
    return { state: "cold", source: `auto: no entries in ${dir}` };
  } catch {
    return { state: "cold", source: `auto: cannot read ${dir}` };
  }
}

// ------------------------------------------------------------------ main

function pick(cfg: any, keys: readonly string[]): number | null {
  for (const k of keys) {
    const v = cfg?.[k];
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return null;
}

function emptyFeatures(): Features {
  return {
    model: null, model_dir: null, model_source: null, vllm_version: null,
    architecture: null, model_type: null, layers: null, attention_layers: null, hidden_size: null,
    num_attention_heads: null, num_kv_heads: null, ffn_dim: null, vocab_size: null,
    n_experts: null, n_active_experts: null, is_moe: false, is_hybrid: false, gated_mlp: null,
    quantization: null, dtype: null, tokenizer_mb: null,
    weights_bytes: null, weights_gib: null, expert_weights_bytes: null, active_weights_gib: null,
    weights_source: null, weight_files: 0, weights_cached_fraction: null,
    load_format: "auto", tensor_parallel_size: 1, pipeline_parallel_size: 1, data_parallel_size: 1,
    enforce_eager: false, compile_level: null, compile_enabled: true, cuda_graphs_enabled: true,
    cuda_graph_sizes: 35, max_num_seqs: null, compile_cache: "warm", compile_cache_source: "", warnings: [],
  };
}

const GIB = 1024 ** 3;

function applyConfig(f: Features, cfgIn: any): void {
  // multimodal wrappers keep the language model's numbers in text_config / llm_config
  const inner = cfgIn?.text_config ?? cfgIn?.llm_config ?? cfgIn?.language_config ?? null;
  const cfg = inner && typeof inner === "object" ? { ...cfgIn, ...inner } : cfgIn;
  f.architecture = Array.isArray(cfgIn?.architectures) ? String(cfgIn.architectures[0]) : null;
  f.model_type = typeof cfg?.model_type === "string" ? cfg.model_type : null;
  f.layers = pick(cfg, CONFIG_KEYS.layers);
  f.hidden_size = pick(cfg, CONFIG_KEYS.hidden_size);
  f.num_attention_heads = pick(cfg, CONFIG_KEYS.num_attention_heads);
  f.num_kv_heads = pick(cfg, CONFIG_KEYS.num_kv_heads);
  if (f.num_kv_heads === null && f.num_attention_heads !== null) f.num_kv_heads = cfg?.multi_query === true ? 1 : f.num_attention_heads;
  f.ffn_dim = pick(cfg, CONFIG_KEYS.ffn_dim);
  if (f.ffn_dim === null && f.hidden_size !== null) {
    const ratio = pick(cfg, ["expansion_ratio", "mlp_ratio"]) ?? (cfg?.model_type === "falcon" || cfg?.model_type === "mpt" ? 4 : null);
    if (ratio !== null) f.ffn_dim = f.hidden_size * ratio;
  }
  f.vocab_size = pick(cfg, CONFIG_KEYS.vocab_size);
  f.n_experts = pick(cfg, CONFIG_KEYS.n_experts);
  f.n_active_experts = pick(cfg, CONFIG_KEYS.n_active_experts);
  f.is_moe = (f.n_experts ?? 0) > 1;
  if (!f.is_moe) { f.n_experts = null; f.n_active_experts = null; }
  const layerTypes: unknown = cfg?.layer_types ?? cfg?.layers_block_type ?? cfg?.hybrid_override_pattern;
  let attn: number | null = null;
  if (Array.isArray(layerTypes)) {
    attn = layerTypes.filter((t) => /attention|attn/i.test(String(t)) && !/linear/i.test(String(t))).length;
    if (layerTypes.some((t) => /mamba|linear|ssm|conv/i.test(String(t)))) f.is_hybrid = true;
  } else if (typeof layerTypes === "string") {
    attn = (layerTypes.match(/\*/g) ?? []).length;
    if (/M/.test(layerTypes)) f.is_hybrid = true;
  }
  if (f.model_type && HYBRID_TYPES.has(f.model_type)) f.is_hybrid = true;
  f.attention_layers = attn !== null && f.is_hybrid ? attn : f.layers;
  if (f.model_type) f.gated_mlp = !NON_GATED_MLP_TYPES.has(f.model_type);
  const q = cfgIn?.quantization_config ?? cfg?.quantization_config;
  if (q && typeof q === "object") f.quantization = String(q.quant_method ?? q.quant_algo ?? "unknown");
  const dt = cfg?.torch_dtype ?? cfg?.dtype;
  if (typeof dt === "string") f.dtype = dt;
}

/** Extract the predictor's features. Never throws. */
export async function extractFeatures(opts: ExtractOptions): Promise<Features> {
  const f = emptyFeatures();
  const w = f.warnings;
  try {
    const env = opts.env ?? {};
    const p = parseServeArgs(Array.isArray(opts.args) ? opts.args.map(String) : []);
    f.vllm_version = opts.vllmVersion ?? null;
    if (!f.vllm_version) w.push(`vLLM version unknown: assuming ${REFERENCE_VLLM_VERSION} defaults`);
    const rule = captureRuleFor(f.vllm_version);

    // ---- command line
    f.model = opts.model ?? flag(p, "--model") ?? p.positionals[0] ?? null;
    f.load_format = (flag(p, "--load-format") ?? "auto").toLowerCase();
    f.tensor_parallel_size = intFlag(p, w, "--tensor-parallel-size", "-tp") || 1;
    f.pipeline_parallel_size = intFlag(p, w, "--pipeline-parallel-size", "-pp") || 1;
    f.data_parallel_size = intFlag(p, w, "--data-parallel-size", "-dp") || 1;
    f.max_num_seqs = intFlag(p, w, "--max-num-seqs");
    const eagerFlag = flag(p, "--enforce-eager");
    f.enforce_eager = eagerFlag !== undefined && eagerFlag !== "false" && eagerFlag !== "False";
    const qArg = flag(p, "--quantization", "-q");
    const dtypeArg = flag(p, "--dtype");

    // compilation config: -O <n>, -O3, --optimization-level n, -O / --compilation-config <json>
    let ccJson: any = null;
    for (const raw of [...(p.flags.get("-O") ?? []), ...(p.flags.get("--compilation-config") ?? []), ...(p.flags.get("-cc") ?? [])]) {
      const s = raw.trim();
      if (/^\d+$/.test(s)) f.compile_level = Number(s);
      else if (/^\.?(level|mode)=\d+$/.test(s)) f.compile_level = Number(s.split("=")[1]);
      else if (s.startsWith("{")) {
        try { ccJson = { ...(ccJson ?? {}), ...JSON.parse(s) }; } catch { w.push(`bad --compilation-config JSON: ${s.slice(0, 80)}`); }
      } else w.push(`bad -O / --compilation-config value: ${JSON.stringify(s)}`);
    }
    const optLevel = intFlag(p, w, "--optimization-level");
    if (optLevel !== null) f.compile_level = optLevel;
    if (ccJson) {
      const lv = ccJson.level ?? ccJson.mode;
      if (typeof lv === "number") f.compile_level = lv;
      else if (typeof lv === "string" && /none|no_compilation/i.test(lv)) f.compile_level = 0;
    }
    f.compile_enabled = !f.enforce_eager && (f.compile_level === null || f.compile_level > 0);
    f.cuda_graphs_enabled = !f.enforce_eager && (f.compile_enabled || rule.o0Graphs);
    const cgMode = ccJson?.cudagraph_mode;
    if (cgMode !== undefined && (cgMode === 0 || /^none$/i.test(String(cgMode)))) f.cuda_graphs_enabled = false;

    // capture sizes
    const listArg = [...(p.flags.get("--cuda-graph-sizes") ?? []), ...(p.flags.get("--cudagraph-capture-sizes") ?? [])]
      .flatMap((s) => s.replace(/[\[\]]/g, "").split(/[,\s]+/)).filter(Boolean);
    const listNums = listArg.map(Number);
    if (listNums.some((x) => !Number.isInteger(x) || x <= 0)) w.push(`bad CUDA-graph sizes: ${listArg.join(",")}`);
    const good = listNums.filter((x) => Number.isInteger(x) && x > 0);
    const ccSizes: unknown = ccJson?.cudagraph_capture_sizes;
    const maxArg = intFlag(p, w, "--max-cudagraph-capture-size") ?? (typeof ccJson?.max_cudagraph_capture_size === "number" ? ccJson.max_cudagraph_capture_size : typeof ccJson?.max_capture_size === "number" ? ccJson.max_capture_size : null);
    let nSizes: number;
    if (Array.isArray(ccSizes)) nSizes = new Set(ccSizes.map(Number)).size;
    else if (good.length > 1 || (good.length === 1 && p.flags.has("--cudagraph-capture-sizes"))) nSizes = new Set(good).size;
    else {
      const seqs = f.max_num_seqs ?? rule.defaultMaxNumSeqs;
      let max = good.length === 1 ? good[0] : maxArg ?? (rule.defaultMax === "2x_max_num_seqs" ? Math.min(2 * seqs, 512) : Math.min(rule.defaultMax, f.max_num_seqs ?? rule.defaultMax));
      if (max < 1) max = 1;
      nSizes = captureSizes(max, rule.rule).length;
    }
    f.cuda_graph_sizes = f.cuda_graphs_enabled ? nSizes : 0;

    // ---- model directory
    if (!f.model) w.push("no model given (--model or the first positional argument of vllm serve)");
    else if (isDir(f.model)) { f.model_dir = f.model; f.model_source = "local"; }
    else if (isFile(f.model)) { f.model_dir = dirname(f.model); f.model_source = "local"; }
    else if (looksLikeHubId(f.model)) {
      const dl = flag(p, "--download-dir");
      const caches = [dl, hfHubCacheDir(env)].filter((x): x is string => !!x);
      const rev = flag(p, "--revision") ?? "main";
      for (const c of caches) {
        const snap = resolveHubSnapshot(f.model, c, rev);
        if (snap) { f.model_dir = snap; f.model_source = "hf-cache"; break; }
      }
      if (!f.model_dir) { f.model_source = "not-found"; w.push(`model ${f.model} not found locally or in the HF cache ${caches.join(", ")} (vLLM would download it)`); }
    } else { f.model_source = "not-found"; w.push(`model path ${f.model} does not exist`); }

    if (f.model_dir) {
      const cfgPath = join(f.model_dir, "config.json");
      if (existsSync(cfgPath)) {
        const cfg = readJson(cfgPath, w, "config.json");
        if (cfg && typeof cfg === "object") applyConfig(f, cfg);
      } else w.push(`no config.json in ${f.model_dir}`);

      // tokenizer size (tokenizer.json, else the files a slow tokenizer reads)
      const tokArg = flag(p, "--tokenizer");
      let tokDir = f.model_dir;
      if (tokArg && tokArg !== f.model) {
        if (isDir(tokArg)) tokDir = tokArg;
        else {
          const snap = looksLikeHubId(tokArg) ? resolveHubSnapshot(tokArg, hfHubCacheDir(env)) : null;
          if (snap) tokDir = snap; else w.push(`tokenizer ${tokArg} not found locally`);
        }
      }
      const tokFiles = isFile(join(tokDir, "tokenizer.json")) ? ["tokenizer.json"]
        : ["tokenizer.model", "vocab.json", "merges.txt", "tiktoken.model", "vocab.txt"].filter((x) => isFile(join(tokDir, x)));
      if (tokFiles.length) f.tokenizer_mb = round(tokFiles.reduce((s, x) => s + statSync(join(tokDir, x)).size, 0) / 2 ** 20, 3);
      else w.push(`no tokenizer files in ${tokDir}`);

      // weights bytes from the safetensors headers
      const wf = weightFiles(f.model_dir, w);
      f.weight_files = wf.files.length;
      if (wf.kind === "safetensors") {
        let bytes = 0, expert = 0, ok = 0;
        for (const file of wf.files) {
          try {
            const s = readSafetensorsHeader(file);
            bytes += s.bytes; expert += s.expertBytes; ok++;
          } catch (e) {
            w.push(`bad safetensors header ${file}: ${(e as Error).message}`);
          }
        }
        if (ok > 0) {
          if (ok < wf.files.length) bytes = (bytes * wf.files.length) / ok, expert = (expert * wf.files.length) / ok;
          f.weights_bytes = Math.round(bytes);
          f.expert_weights_bytes = Math.round(expert);
          f.weights_source = "safetensors-header";
        }
      } else if (wf.kind === "other") {
        let bytes = 0;
        for (const file of wf.files) { try { bytes += statSync(file).size; } catch { /* skip */ } }
        f.weights_bytes = bytes;
        f.weights_source = "file-size";
        w.push(`no safetensors in ${f.model_dir}: weights bytes from file sizes (${wf.files.map((x) => basename(x)).join(", ")})`);
      } else w.push(`no weight files in ${f.model_dir}`);
      if (f.weights_bytes !== null) {
        f.weights_gib = round(f.weights_bytes / GIB, 4);
        let active = f.weights_bytes;
        if (f.is_moe && f.n_experts && f.n_active_experts && f.expert_weights_bytes) {
          active = f.weights_bytes - f.expert_weights_bytes + (f.expert_weights_bytes * f.n_active_experts) / f.n_experts;
        }
        f.active_weights_gib = round(active / GIB, 4);
      }
    }
    if (qArg) f.quantization = qArg;
    if (dtypeArg && dtypeArg !== "auto") f.dtype = dtypeArg;
    if (f.load_format === "dummy") f.weights_cached_fraction = null;

    const cc = compileCacheState(env, opts.compileCache);
    f.compile_cache = cc.state;
    f.compile_cache_source = cc.source;
  } catch (e) {
    w.push(`feature extraction stopped early: ${(e as Error).message}`);
  }
  return f;
}

function round(x: number, d: number): number {
  const m = 10 ** d;
  return Math.round(x * m) / m;
}
