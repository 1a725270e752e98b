import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { statSync, writeFileSync, mkdirSync } from "node:fs";
import { captureSizes, extractFeatures, parseServeArgs, readSafetensorsHeader, resolveHubSnapshot } from "../../src/predict/features.ts";
import { run as predictCmd } from "../../src/cli/commands/predict.ts";
import { LLAMA2_7B_CONFIG, MIXTRAL_2L_CONFIG, QWEN2_05B_CONFIG, llamaTensors, makeHubCache, makeModelDir, mixtralTensors, tmp, writeSparseSafetensors } from "./fixtures.ts";

const GIB = 1024 ** 3;
const env = (extra: Record<string, string> = {}) => ({ HOME: tmp("st-home-"), VLLM_CACHE_ROOT: tmp("st-vc-"), ...extra });

describe("safetensors headers", () => {
  test("weights bytes come from dtype x shape in the header, not the file size", () => {
    const d = tmp();
    const bytes = writeSparseSafetensors(join(d, "m.safetensors"), [
      { name: "a", dtype: "BF16", shape: [1024, 1024] }, { name: "b", dtype: "F32", shape: [10] },
    ]);
    expect(bytes).toBe(1024 * 1024 * 2 + 40);
    const s = readSafetensorsHeader(join(d, "m.safetensors"));
    expect(s.bytes).toBe(bytes);
    expect(s.tensors).toBe(2);
    // a file padded beyond its data does not change the count
    const big = join(d, "big.safetensors");
    writeSparseSafetensors(big, [{ name: "x", dtype: "F16", shape: [4, 4] }]);
    const fd = require("node:fs").openSync(big, "r+"); require("node:fs").ftruncateSync(fd, 1 << 30); require("node:fs").closeSync(fd);
    expect(readSafetensorsHeader(big).bytes).toBe(32);
  });

  test("bad headers are reported as warnings, not thrown", async () => {
    const d = tmp();
    mkdirSync(join(d, "m"));
    writeFileSync(join(d, "m", "config.json"), JSON.stringify(LLAMA2_7B_CONFIG));
    writeFileSync(join(d, "m", "model.safetensors"), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2]));
    const f = await extractFeatures({ model: join(d, "m"), args: [], env: env() });
    expect(f.weights_bytes).toBeNull();
    expect(f.warnings.some((w) => w.includes("bad safetensors header") && w.includes("model.safetensors"))).toBe(true);
    expect(f.layers).toBe(32);
  });
});

describe("extractFeatures on synthetic model directories", () => {
  test("Llama-2-7b, sharded via index, sparse files: geometry, bytes, tokenizer size", async () => {
    const root = tmp();
    const { dir, bytes } = makeModelDir(join(root, "llama2-7b"), LLAMA2_7B_CONFIG, llamaTensors(LLAMA2_7B_CONFIG), { shards: 3 });
    const f = await extractFeatures({ model: dir, args: [], env: env(), vllmVersion: "0.10.1.1" });
    expect(f.warnings).toEqual([]);
    expect(f.model_source).toBe("local");
    expect(f.architecture).toBe("LlamaForCausalLM");
    expect([f.layers, f.hidden_size, f.num_attention_heads, f.num_kv_heads, f.ffn_dim, f.vocab_size]).toEqual([32, 4096, 32, 32, 11008, 32000]);
    expect(f.weight_files).toBe(3);
    expect(f.weights_bytes).toBe(bytes);
    // the study logged 12.5524 GiB for llama2-7b-hf on the GPU
    expect(f.weights_gib!).toBeCloseTo(12.55, 2);
    expect(f.weights_source).toBe("safetensors-header");
    expect(f.tokenizer_mb!).toBeCloseTo(statSync(join(dir, "tokenizer.json")).size / 2 ** 20, 3);
    expect(f.cuda_graph_sizes).toBe(35);
    expect(f.compile_enabled).toBe(true);
    expect(f.compile_cache).toBe("cold"); // empty VLLM_CACHE_ROOT
  });

  test("MoE: active weights = dense part + experts x top-k / experts", async () => {
    const { dir, bytes } = makeModelDir(join(tmp(), "mixtral"), MIXTRAL_2L_CONFIG, mixtralTensors(MIXTRAL_2L_CONFIG));
    const f = await extractFeatures({ model: dir, args: [], env: env() });
    expect(f.is_moe).toBe(true);
    expect(f.n_experts).toBe(8);
    expect(f.n_active_experts).toBe(2);
    const expert = 2 * 8 * 3 * 14336 * 4096 * 2;
    expect(f.expert_weights_bytes).toBe(expert);
    expect(f.weights_bytes).toBe(bytes);
    expect(f.active_weights_gib!).toBeCloseTo((bytes - expert + expert / 4) / GIB, 3);
  });

  test("command-line flags: eager, -O0, TP/PP, load format, capture sizes per version", async () => {
    const { dir } = makeModelDir(join(tmp(), "qwen2-0.5b"), QWEN2_05B_CONFIG, llamaTensors({ ...QWEN2_05B_CONFIG }, "BF16"));
    const e = env();
    const eager = await extractFeatures({ args: ["vllm", "serve", dir, "--enforce-eager"], env: e, vllmVersion: "0.11.0" });
    expect(eager.model).toBe(dir);
    expect([eager.compile_enabled, eager.cuda_graphs_enabled, eager.cuda_graph_sizes]).toEqual([false, false, 0]);
    const v11 = await extractFeatures({ args: [dir, "-tp", "2", "--pipeline-parallel-size=2", "--load-format", "runai_streamer"], env: e, vllmVersion: "0.11.0" });
    expect([v11.tensor_parallel_size, v11.pipeline_parallel_size, v11.load_format]).toEqual([2, 2, "runai_streamer"]);
    expect(v11.cuda_graph_sizes).toBe(67); // 1,2,4,8..512 (as the 0.11.0 logs show)
    const v12 = await extractFeatures({ args: [dir], env: e, vllmVersion: "0.12.0" });
    expect(v12.cuda_graph_sizes).toBe(51);
    const seqs = await extractFeatures({ args: [dir, "--max-num-seqs", "8"], env: e, vllmVersion: "0.11.0" });
    expect(seqs.cuda_graph_sizes).toBe(captureSizes(16, "v8").length);
    const sizes = await extractFeatures({ args: [dir, "--cuda-graph-sizes", "128"], env: e, vllmVersion: "0.10.1.1" });
    expect(sizes.cuda_graph_sizes).toBe(19);
    const o0 = await extractFeatures({ args: [dir, "-O0"], env: e, vllmVersion: "0.10.1.1" });
    expect([o0.compile_enabled, o0.cuda_graphs_enabled]).toEqual([false, false]);
    const cc = await extractFeatures({ args: [dir, "--compilation-config", '{"level":3,"cudagraph_capture_sizes":[1,2,4,8]}'], env: e, vllmVersion: "0.10.1.1" });
    expect([cc.compile_enabled, cc.cuda_graph_sizes]).toEqual([true, 4]);
  });

  test("compile cache: VLLM_CACHE_ROOT with entries is warm; override and VLLM_DISABLE_COMPILE_CACHE", async () => {
    const { dir } = makeModelDir(join(tmp(), "m"), QWEN2_05B_CONFIG, llamaTensors(QWEN2_05B_CONFIG, "BF16"));
    const root = tmp("st-vc-");
    mkdirSync(join(root, "torch_compile_cache", "abc123", "rank_0_0"), { recursive: true });
    writeFileSync(join(root, "torch_compile_cache", "abc123", "rank_0_0", "vllm_compile_cache.py"), "{}");
    const e = { HOME: tmp(), VLLM_CACHE_ROOT: root };
    expect((await extractFeatures({ model: dir, args: [], env: e })).compile_cache).toBe("warm");
    expect((await extractFeatures({ model: dir, args: [], env: e, compileCache: "cold" })).compile_cache).toBe("cold");
    expect((await extractFeatures({ model: dir, args: [], env: { ...e, VLLM_DISABLE_COMPILE_CACHE: "1" } })).compile_cache).toBe("cold");
  });

  test("never throws on bad input; names the bad value or path", async () => {
    const f = await extractFeatures({ model: "/nonexistent/model/dir", args: ["-tp", "two", "--cuda-graph-sizes", "x"], env: env() });
    expect(f.model_source).toBe("not-found");
    expect(f.warnings.some((w) => w.includes("/nonexistent/model/dir"))).toBe(true);
    expect(f.warnings.some((w) => w.includes("two"))).toBe(true);
    const g = await extractFeatures({ args: null as unknown as string[], env: undefined as any });
    expect(Array.isArray(g.warnings)).toBe(true);
    const d = tmp();
    writeFileSync(join(d, "config.json"), "{ not json");
    const h = await extractFeatures({ model: d, args: [], env: env() });
    expect(h.warnings.some((w) => w.includes("config.json"))).toBe(true);
  });
});

describe("hub ids in a local Hugging Face cache", () => {
  const repo = "meta-llama/Llama-2-7b-hf";
  test("resolved under HF_HOME/hub", async () => {
    const home = tmp("st-hfhome-");
    const snap = makeHubCache(join(home, "hub"), repo, (s) => makeModelDir(s, LLAMA2_7B_CONFIG, llamaTensors(LLAMA2_7B_CONFIG), { shards: 2 }));
    const f = await extractFeatures({ model: repo, args: [], env: { ...env(), HF_HOME: home } });
    expect(f.model_source).toBe("hf-cache");
    expect(f.model_dir).toBe(snap);
    expect(f.weights_gib!).toBeCloseTo(12.55, 2);
  });
  test("HF_HUB_CACHE wins over HF_HOME; --revision picks a ref", async () => {
    const hub = tmp("st-hubcache-");
    const sha = "fedcba9876543210fedcba9876543210fedcba98";
    const snap = makeHubCache(hub, "Qwen/Qwen2-0.5B", (s) => makeModelDir(s, QWEN2_05B_CONFIG, llamaTensors(QWEN2_05B_CONFIG, "BF16")), sha);
    writeFileSync(join(hub, "models--Qwen--Qwen2-0.5B", "refs", "v1"), sha);
    const f = await extractFeatures({ args: ["serve", "Qwen/Qwen2-0.5B", "--revision", "v1"], env: { ...env(), HF_HUB_CACHE: hub, HF_HOME: tmp() } });
    expect(f.model_dir).toBe(snap);
    expect(f.layers).toBe(24);
    expect(f.num_kv_heads).toBe(2);
    expect(resolveHubSnapshot("Qwen/Qwen2-0.5B", hub)).toBe(snap);
    const missing = await extractFeatures({ model: "org/absent", args: [], env: { ...env(), HF_HUB_CACHE: hub } });
    expect(missing.model_source).toBe("not-found");
    expect(missing.warnings.join(" ")).toContain("org/absent");
  });
});

describe("predict command", () => {
  async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
    let out = "", err = "";
    const w = process.stdout.write.bind(process.stdout);
    const ce = console.error;
    (process.stdout as any).write = (s: string) => { out += s; return true; };
    console.error = (...a: unknown[]) => { err += a.join(" ") + "\n"; };
    try { return { code: await fn(), out, err }; } finally { (process.stdout as any).write = w; console.error = ce; }
  }

  test("--json on a synthetic Llama-2-7b directory: canonical phases, features, reference calibration", async () => {
    const { dir } = makeModelDir(join(tmp(), "llama2-7b"), LLAMA2_7B_CONFIG, llamaTensors(LLAMA2_7B_CONFIG), { shards: 2 });
    process.env.STARTUP_TRACER_STATE_DIR = tmp("st-state-");
    // the study's machine (--gpu): the H100 model itself
    const r = await capture(() => predictCmd(["--model", dir, "--json", "--compile-cache", "warm", "--vllm-version", "0.10.1.1", "--gpu", "H100 NVL"]));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.calibration).toBe("reference");
    expect(j.features.weights_source).toBe("safetensors-header");
    for (const p of ["bootstrap", "tokenizer_init", "model_loading", "load_weights", "torch_compile", "dynamo_transform", "graph_compile", "kv_cache_profiling", "cuda_graph_capture", "server_start"]) {
      expect(typeof j.phases[p]).toBe("number");
    }
    // the study measured 24.7 s load_weights (disk) and a 46.5 s attributed total for llama2-7b-hf
    expect(Math.abs(j.phases.load_weights - 24.74)).toBeLessThan(1.5);
    // `vllm serve` starts two processes where the study's offline engine started one: only bootstrap differs
    expect(j.phases.bootstrap).toBeGreaterThan(1.5 * 8.1);
    expect(Math.abs(j.total_s - j.phases.server_start - j.phases.bootstrap - (46.52 - 8.11))).toBeLessThan(3);
    expect(j.hardware.class).toBe("reference");
    const eager = JSON.parse((await capture(() => predictCmd(["--model", dir, "--json", "--gpu", "H100 NVL", "--", "--enforce-eager"]))).out);
    expect(eager.phases.torch_compile).toBeUndefined();
    expect(eager.phases.cuda_graph_capture).toBeUndefined();
    expect(eager.total_s).toBeLessThan(j.total_s);
    // an L4 (another class): slower, with a wider uncertainty than the study's own GPU
    const l4 = JSON.parse((await capture(() => predictCmd(["--model", dir, "--json", "--compile-cache", "warm", "--vllm-version", "0.10.1.1", "--gpu", "L4"]))).out);
    expect(l4.hardware.class).toBe("datacenter");
    expect(l4.total_s).toBeGreaterThan(j.total_s);
    expect(l4.sigma_total).toBeGreaterThan(j.sigma_total);
    expect((await capture(() => predictCmd(["--model", dir, "--gpu", ""]))).code).toBe(2);
  });

  test("human output, --help, bad options", async () => {
    const { dir } = makeModelDir(join(tmp(), "q"), QWEN2_05B_CONFIG, llamaTensors(QWEN2_05B_CONFIG, "BF16"));
    const r = await capture(() => predictCmd(["--model", dir]));
    expect(r.code).toBe(0);
    expect(r.out).toContain("load_weights");
    expect(r.out).toContain("total");
    expect((await capture(() => predictCmd(["--help"]))).code).toBe(0);
    const bad = await capture(() => predictCmd(["--model", dir, "--compile-cache", "lukewarm"]));
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split("\n")).toHaveLength(1);
    expect((await capture(() => predictCmd(["--bogus"]))).code).toBe(2);
    expect((await capture(() => predictCmd([]))).code).toBe(2);
  });
});

test("parseServeArgs handles = forms, underscores and the full command", () => {
  const p = parseServeArgs(["python", "-m", "vllm.entrypoints.openai.api_server", "--model=/m", "--tensor_parallel_size", "4", "--enforce-eager", "--port", "8000"]);
  expect(p.flags.get("--model")).toEqual(["/m"]);
  expect(p.flags.get("--tensor-parallel-size")).toEqual(["4"]);
  expect(p.flags.get("--enforce-eager")).toEqual(["true"]);
});
