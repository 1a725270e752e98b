// Hardware and configuration facts read from named real logs (expected values are
// what vLLM or the wrapper printed in those logs).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { paramsFromName, profileTokensFromFacts, scanLogText, weightsGibFromFacts } from "../../src/predict/log-hardware.ts";
import { hardwareClass, hardwareFromLog, parseGpuOption } from "../../src/predict/hardware.ts";
import { fleetKey } from "../../src/predict/fleet.ts";

const LOGS = join(import.meta.dir, "..", "..", "..", "shared", "vllm-logs");
const facts = (name: string) => scanLogText(readFileSync(join(LOGS, name), "utf8"));

test("DGX Spark log: V1 0.11.0, cuda, GPTQ, 67 capture sizes FULL_AND_PIECEWISE, served, 7B from the name", () => {
  const f = facts("v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log");
  expect(f.engine).toBe("v1");
  expect(f.vllm_version).toBe("0.11.0+582e4e37.nv25.11");
  expect(f.platform).toBe("cuda");
  expect(f.quantization).toBe("gptq");
  expect(f.cuda_graph_sizes).toBe(67);
  expect(f.cudagraph_mode).toBe("FULL_AND_PIECEWISE");
  expect(f.server_mode).toBe(true);
  expect(f.name_params_b).toBe(7);
  expect(f.loaded_weights_gib).toBeCloseTo(3.8844, 4);
  // 4-bit: the name-based size is close to what vLLM then loads
  expect(Math.abs(weightsGibFromFacts(f).total! - 3.8844)).toBeLessThan(0.5);
  expect(hardwareClass(hardwareFromLog(f, "GB10"))).toBe("edge-unified");
});

test("A100 notebook: GPU name, memory and compute capability from the Unsloth banner; V0 fallback; bitsandbytes", () => {
  const f = facts("v0.8.2-a100-80gb-phi4-bnb-4bit-unsloth-v0-fallback-ok-notebook.log");
  expect(f.gpu_names[0]).toBe("NVIDIA A100-SXM4-80GB");
  expect(f.gpu_memory_gib).toBeCloseTo(79.15, 1);
  expect(f.compute_capability).toBe("8.0");
  expect(f.engine).toBe("v0");
  expect(f.quantization).toBe("bitsandbytes");
  expect(hardwareClass(hardwareFromLog(f))).toBe("datacenter");
});

test("GTX 1080 log: V0, total_gpu_memory 7.92 GiB -> small-gpu class without a name", () => {
  const f = facts("v0.6.4.post1-gtx1080-llama3.2-1b-ok-then-engine-died.log");
  expect(f.engine).toBe("v0");
  expect(f.gpu_memory_gib).toBeCloseTo(7.92, 2);
  expect(f.name_params_b).toBe(1);
  expect(hardwareClass(hardwareFromLog(f))).toBe("small-gpu");
  expect(hardwareClass(hardwareFromLog(f, "GTX 1080"))).toBe("legacy");
});

test("ROCm logs: V0 on ROCm prints device_config=cuda, the platform is still rocm", () => {
  expect(facts("v0.6.6-rocm-radeon-24gb-opt-125m-serverlessllm-loader-ok-hardwrapped.log").platform).toBe("rocm");
  expect(facts("v0.8.5-rocm-gfx906-16gb-qwen3-0.6b-v0-fallback-ok.log").platform).toBe("rocm");
});

test("H100 x8 sampled log: GPU from the MoE config file name; L40S TP8: tensor parallel 8, multimodal, 44.39 GiB", () => {
  expect(facts("v0.10.x-h100x8-tp4-pp2-ep-qwen3-30b-a3b-thinking-ok-slurm-wrapper-sampled.log").gpu_names[0]).toBe("NVIDIA H100 80GB HBM3");
  const l = facts("v0.6.6.post1-l40s-x8-tp8-internvl3-78b-offline-ok.log");
  expect(l.tensor_parallel_size).toBe(8);
  expect(l.gpu_memory_gib).toBeCloseTo(44.39, 2);
  expect(l.name_params_b).toBe(78);
  expect(hardwareClass(hardwareFromLog(l))).toBe("datacenter");
});

test("CPU, TPU, Neuron and eager logs", () => {
  expect(facts("v0.11.0-cpu-arm64-qwen2.5-0.5b-offline-ok.log").platform).toBe("cpu");
  expect(facts("v0.17.0rc1-tpu-v5e-x4-tp4-gemma4-26b-maxtext-failed-model-load.log").platform).toBe("tpu");
  expect(facts("v0.5.0-aws-inferentia2-neuron-tp2-mistral-7b-failed-compile-cache-permission.log").platform).toBe("neuron");
  const w = facts("v0.20.0-wsl2-blackwell-qwen3.6-27b-nvfp4-enforce-eager-docker-desktop-ok.log");
  expect(w.enforce_eager).toBe(true);
  expect(w.quantization).toBe("modelopt_fp4");
});

test("model size from names, --gpu parsing, fleet keys", () => {
  expect(paramsFromName("Qwen/Qwen3-30B-A3B-Thinking-2507")).toEqual({ total: 30, active: 3 });
  expect(paramsFromName("facebook/opt-125m").total).toBeCloseTo(0.125, 6);
  expect(paramsFromName("mistralai/Mixtral-8x7B-v0.1")).toEqual({ total: 56, active: 14 });
  expect(paramsFromName("/opt/tiger/test0/Phi-4").total).toBeNull();
  expect(parseGpuOption("A100x8")).toEqual({ gpu: "A100", count: 8 });
  expect(parseGpuOption("RTX 4090")).toEqual({ gpu: "RTX 4090", count: 1 });
  expect(() => parseGpuOption("")).toThrow(/invalid --gpu/);
  const a = fleetKey({ model: "/models/mistral-7b", gpu: "GB10", vllm_version: "0.11.0", engine: "v1" });
  expect(a).toBe(fleetKey({ model: "/other/models/mistral-7b", gpu: "GB10", vllm_version: "0.11.0", engine: "v1" }));
  expect(a).not.toBe(fleetKey({ model: "/models/mistral-7b", gpu: "L4", vllm_version: "0.11.0", engine: "v1" }));
});

test("GPU names as nvidia-smi, PyTorch and MoE config file names print them, and their classes", () => {
  const cls = (line: string) => hardwareClass(hardwareFromLog(scanLogText(line)));
  expect(cls("INFO 01-01 00:00:00 [fused_moe.py:1] Using default MoE config. Config file not found at .../E=8,N=1,device_name=NVIDIA_L4.json")).toBe("datacenter");
  expect(cls("GPU 0: Tesla T4 (UUID: GPU-0)")).toBe("small-gpu");
  expect(cls("torch device: NVIDIA GeForce RTX 3090 Ti")).toBe("consumer");
  expect(cls("Found GPU0 NVIDIA H100 NVL which is of cuda capability 9.0")).toBe("reference");
  expect(scanLogText("Found GPU0 NVIDIA H100 NVL which is of cuda capability 9.0").compute_capability).toBe("9.0");
  // the NGC container banner names no GPU
  expect(scanLogText("NVIDIA Release 25.11 (build 231063344)").gpu_names).toEqual([]);
});

test("KV-profiling batch tokens: stated by the scheduler line, else V0 without chunked prefill profiles max(max_model_len, 2048)", () => {
  // "Chunked prefill is enabled with max_num_batched_tokens=2048" (the study's runs)
  expect(profileTokensFromFacts(facts("paper-h100nvl/v0.10.1.1-h100nvl-qwen-0.5b.log"))).toBe(2048);
  // max_model_len > 32K: V0 turns chunked prefill on with 512 tokens
  expect(profileTokensFromFacts(facts("v0.6.4.post1-gtx1080-llama3.2-1b-ok-then-engine-died.log"))).toBe(512);
  // V0, chunked_prefill_enabled=False, max_seq_len=40960
  const g = facts("v0.8.5-rocm-gfx906-16gb-qwen3-0.6b-v0-fallback-ok.log");
  expect(g.chunked_prefill).toBe(false);
  expect(profileTokensFromFacts(g)).toBe(40960);
  // V0, max_seq_len=2048 or less: vLLM's floor of 2048
  expect(profileTokensFromFacts(facts("v0.8.2-a100-80gb-phi4-bnb-4bit-unsloth-v0-fallback-ok-notebook.log"))).toBe(2048);
  // V1 without a stated value: unknown (the reference's 2048 applies)
  expect(profileTokensFromFacts(facts("v0.20.0-wsl2-blackwell-qwen3.6-27b-nvfp4-enforce-eager-docker-desktop-ok.log"))).toBe(null);
});
