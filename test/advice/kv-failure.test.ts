// kv_cache_config on vLLM's KV-cache memory failures (its own error wordings,
// v0.6-main): what vLLM asked for goes into the evidence, what to change into
// the action; any other failure gets no kv_cache_config.
import { expect, test } from "bun:test";
import { advise } from "../../src/advice/advise.ts";
import type { StartupRecord } from "../../src/advice/facts.ts";
import type { PhaseRecord } from "../../src/state/types.ts";

function failed(error: string, phase = "kv_cache_profiling", parent: string | null = null): StartupRecord {
  const phases: PhaseRecord[] = [{ name: "kv_cache_profiling", parent: null, start_s: 50, duration_s: 20, status: "error", predicted_s: null, attributes: {} }];
  if (phase !== "kv_cache_profiling") phases.push({ name: phase, parent, start_s: 50, duration_s: 19, status: "error" as const, predicted_s: null, attributes: {} });
  return { outcome: "failed", engine_version: "0.11.0", model: "m", total_s: 90, ready_s: null, error, phases };
}

test("KV cache too small for max_model_len (V1 wording): the GiB needed and available, and the length that fits", () => {
  const [a] = advise(failed("ValueError: To serve at least one request with the models's max seq len (32768), (4.00 GiB KV cache is needed, which is larger than the available KV cache memory (2.50 GiB). Based on the available memory, the estimated maximum model length is 20480. Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine."));
  expect(a.lever).toBe("kv_cache_config");
  expect(a.evidence).toContain("4 GiB of KV cache, 2.5 GiB were available");
  expect(a.action).toContain("--max-model-len to at most 20480");
  expect(a.saving_s).toBeLessThanOrEqual(20);
});

test("KV cache too small (V0 wording): tokens needed and available", () => {
  const [a] = advise(failed("ValueError: The model's max seq len (32768) is larger than the maximum number of tokens that can be stored in KV cache (20000). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine."));
  expect(a.lever).toBe("kv_cache_config");
  expect(a.evidence).toContain("32768 tokens");
  expect(a.action).toContain("at most 20000");
});

test("CUDA OOM while profiling: what it tried to allocate, and to lower (not raise) the memory share", () => {
  const [a] = advise(failed("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.55 GiB of which 1.20 GiB is free.", "profile_run", "kv_cache_profiling"));
  expect(a.lever).toBe("kv_cache_config");
  expect(a.phase).toBe("profile_run");
  expect(a.evidence).toContain("2 GiB with 1.20 GiB free");
  expect(a.action).not.toContain("raise --gpu-memory-utilization");
});

test("other failures get no kv_cache_config", () => {
  const r = failed("RuntimeError: oneCCL: comm_selector.cpp:57 create_comm_impl: EXCEPTION: ze_data was not initialized");
  expect(advise(r).map((a) => a.lever)).not.toContain("kv_cache_config");
  const oomLoading: StartupRecord = { ...r, error: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.00 GiB.",
    phases: [{ name: "model_loading", parent: null, start_s: 10, duration_s: 5, status: "error", predicted_s: null, attributes: {} }] };
  expect(advise(oomLoading).map((a) => a.lever)).not.toContain("kv_cache_config");
});
