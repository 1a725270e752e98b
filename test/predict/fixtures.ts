// Synthetic model directories for the predictor tests: real config.json content
// (public configs of Llama-2-7b-hf, Qwen2-0.5B and a Mixtral-style MoE), a small
// but real tokenizer.json structure, and valid safetensors headers over sparse
// files (the data region is a hole: `truncate` to the full size).

import { closeSync, mkdirSync, openSync, ftruncateSync, writeFileSync, writeSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function tmp(prefix = "st-predict-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const LLAMA2_7B_CONFIG = {
  architectures: ["LlamaForCausalLM"], bos_token_id: 1, eos_token_id: 2, hidden_act: "silu",
  hidden_size: 4096, initializer_range: 0.02, intermediate_size: 11008, max_position_embeddings: 4096,
  model_type: "llama", num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 32,
  pretraining_tp: 1, rms_norm_eps: 1e-5, rope_scaling: null, tie_word_embeddings: false,
  torch_dtype: "float16", transformers_version: "4.31.0.dev0", use_cache: true, vocab_size: 32000,
};

export const QWEN2_05B_CONFIG = {
  architectures: ["Qwen2ForCausalLM"], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151643,
  hidden_act: "silu", hidden_size: 896, initializer_range: 0.02, intermediate_size: 4864,
  max_position_embeddings: 131072, max_window_layers: 24, model_type: "qwen2", num_attention_heads: 14,
  num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000.0,
  sliding_window: 131072, tie_word_embeddings: true, torch_dtype: "bfloat16", transformers_version: "4.40.1",
  use_cache: true, use_sliding_window: false, vocab_size: 151936,
};

/** Mixtral-8x7B's public config, with the layer count cut to 2 to keep the header small. */
export const MIXTRAL_2L_CONFIG = {
  architectures: ["MixtralForCausalLM"], hidden_act: "silu", hidden_size: 4096, intermediate_size: 14336,
  max_position_embeddings: 32768, model_type: "mixtral", num_attention_heads: 32, num_experts_per_tok: 2,
  num_hidden_layers: 2, num_key_value_heads: 8, num_local_experts: 8, rms_norm_eps: 1e-5, rope_theta: 1e6,
  router_aux_loss_coef: 0.02, tie_word_embeddings: false, torch_dtype: "bfloat16", vocab_size: 32000,
};

/** A small but structurally real HF `tokenizers` tokenizer.json (BPE, byte-level). */
export function tokenizerJson(extraVocab = 0): string {
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2, "▁t": 3, "he": 4, "▁the": 5 };
  for (let i = 0; i < extraVocab; i++) vocab[`tok${i}`] = 6 + i;
  return JSON.stringify({
    version: "1.0", truncation: null, padding: null,
    added_tokens: [
      { id: 0, content: "<unk>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: "<s>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: "</s>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: { type: "Sequence", normalizers: [{ type: "Prepend", prepend: "▁" }, { type: "Replace", pattern: { String: " " }, content: "▁" }] },
    pre_tokenizer: null,
    post_processor: { type: "TemplateProcessing", single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }], pair: [], special_tokens: {} },
    decoder: { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }] },
    model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: ["▁ t", "h e", "▁t he"] },
  });
}

export type Tensor = { name: string; dtype: string; shape: number[] };
const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I8: 1, U8: 1, F8_E4M3: 1 };

/** Write a safetensors file: valid header, data region left as a hole (sparse). Returns data bytes. */
export function writeSparseSafetensors(path: string, tensors: Tensor[]): number {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let off = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let h = JSON.stringify(header);
  while ((8 + Buffer.byteLength(h)) % 8 !== 0) h += " ";
  const hb = Buffer.from(h, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  const fd = openSync(path, "w");
  writeSync(fd, len, 0, 8, 0);
  writeSync(fd, hb, 0, hb.length, 8);
  ftruncateSync(fd, 8 + hb.length + off);
  closeSync(fd);
  return off;
}

export function llamaTensors(cfg: { hidden_size: number; intermediate_size: number; num_hidden_layers: number; vocab_size: number; num_attention_heads: number; num_key_value_heads: number; tie_word_embeddings?: boolean }, dtype = "F16"): Tensor[] {
  const H = cfg.hidden_size, F = cfg.intermediate_size, V = cfg.vocab_size;
  const kvDim = (H / cfg.num_attention_heads) * cfg.num_key_value_heads;
  const t: Tensor[] = [{ name: "model.embed_tokens.weight", dtype, shape: [V, H] }];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    t.push(
      { name: `${p}.self_attn.q_proj.weight`, dtype, shape: [H, H] },
      { name: `${p}.self_attn.k_proj.weight`, dtype, shape: [kvDim, H] },
      { name: `${p}.self_attn.v_proj.weight`, dtype, shape: [kvDim, H] },
      { name: `${p}.self_attn.o_proj.weight`, dtype, shape: [H, H] },
      { name: `${p}.mlp.gate_proj.weight`, dtype, shape: [F, H] },
      { name: `${p}.mlp.up_proj.weight`, dtype, shape: [F, H] },
      { name: `${p}.mlp.down_proj.weight`, dtype, shape: [H, F] },
      { name: `${p}.input_layernorm.weight`, dtype, shape: [H] },
      { name: `${p}.post_attention_layernorm.weight`, dtype, shape: [H] },
    );
  }
  t.push({ name: "model.norm.weight", dtype, shape: [H] });
  if (!cfg.tie_word_embeddings) t.push({ name: "lm_head.weight", dtype, shape: [V, H] });
  return t;
}

export function mixtralTensors(cfg: typeof MIXTRAL_2L_CONFIG, dtype = "BF16"): Tensor[] {
  const H = cfg.hidden_size, F = cfg.intermediate_size, V = cfg.vocab_size, E = cfg.num_local_experts;
  const kvDim = (H / cfg.num_attention_heads) * cfg.num_key_value_heads;
  const t: Tensor[] = [{ name: "model.embed_tokens.weight", dtype, shape: [V, H] }];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    t.push(
      { name: `${p}.self_attn.q_proj.weight`, dtype, shape: [H, H] },
      { name: `${p}.self_attn.k_proj.weight`, dtype, shape: [kvDim, H] },
      { name: `${p}.self_attn.v_proj.weight`, dtype, shape: [kvDim, H] },
      { name: `${p}.self_attn.o_proj.weight`, dtype, shape: [H, H] },
      { name: `${p}.block_sparse_moe.gate.weight`, dtype, shape: [E, H] },
      { name: `${p}.input_layernorm.weight`, dtype, shape: [H] },
      { name: `${p}.post_attention_layernorm.weight`, dtype, shape: [H] },
    );
    for (let e = 0; e < E; e++) {
      t.push(
        { name: `${p}.block_sparse_moe.experts.${e}.w1.weight`, dtype, shape: [F, H] },
        { name: `${p}.block_sparse_moe.experts.${e}.w2.weight`, dtype, shape: [H, F] },
        { name: `${p}.block_sparse_moe.experts.${e}.w3.weight`, dtype, shape: [F, H] },
      );
    }
  }
  t.push({ name: "model.norm.weight", dtype, shape: [H] }, { name: "lm_head.weight", dtype, shape: [V, H] });
  return t;
}

/** A model directory; `shards` > 1 writes model-0000i-of-0000n.safetensors + model.safetensors.index.json. */
export function makeModelDir(dir: string, cfg: object, tensors: Tensor[], opts: { shards?: number; tokenizerExtra?: number } = {}): { dir: string; bytes: number } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(cfg, null, 2));
  writeFileSync(join(dir, "tokenizer.json"), tokenizerJson(opts.tokenizerExtra ?? 0));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ add_bos_token: true, bos_token: "<s>", eos_token: "</s>", model_max_length: 4096, tokenizer_class: "LlamaTokenizer" }));
  const shards = opts.shards ?? 1;
  let bytes = 0;
  if (shards === 1) bytes = writeSparseSafetensors(join(dir, "model.safetensors"), tensors);
  else {
    const per = Math.ceil(tensors.length / shards);
    const weight_map: Record<string, string> = {};
    for (let s = 0; s < shards; s++) {
      const name = `model-${String(s + 1).padStart(5, "0")}-of-${String(shards).padStart(5, "0")}.safetensors`;
      const part = tensors.slice(s * per, (s + 1) * per);
      bytes += writeSparseSafetensors(join(dir, name), part);
      for (const t of part) weight_map[t.name] = name;
    }
    writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: bytes }, weight_map }, null, 2));
  }
  return { dir, bytes };
}

/** Lay a model out as the HF hub cache does: models--org--name/{refs/main, snapshots/<sha>/...}. */
export function makeHubCache(cacheDir: string, repoId: string, build: (snapshotDir: string) => void, sha = "0123456789abcdef0123456789abcdef01234567"): string {
  const repo = join(cacheDir, `models--${repoId.replace(/\//g, "--")}`);
  mkdirSync(join(repo, "refs"), { recursive: true });
  mkdirSync(join(repo, "blobs"), { recursive: true });
  writeFileSync(join(repo, "refs", "main"), sha);
  const snap = join(repo, "snapshots", sha);
  mkdirSync(snap, { recursive: true });
  build(snap);
  return snap;
}
