// The frames table (src/logparse/traceback-frames.ts): the innermost frame that
// names a start-up step decides, and frames that *run* compiled graphs are not
// compilation. Frame lines as Python prints them, on vLLM's real code paths.
import { expect, test } from "bun:test";
import { parseFrame, phaseOfFrames } from "../../src/logparse/traceback-frames.ts";

const frames = (...lines: string[]) => lines.map((l) => parseFrame(l)!).filter(Boolean);
const F = (path: string, fn: string) => `  File "/usr/local/lib/python3.12/dist-packages/${path}", line 1, in ${fn}`;

test("a CUDA OOM in V1's profiling run, inside a compiled graph, is KV-cache profiling", () => {
  expect(phaseOfFrames(frames(
    F("vllm/v1/engine/core.py", "_initialize_kv_caches"), F("vllm/v1/worker/gpu_worker.py", "determine_available_memory"),
    F("vllm/v1/worker/gpu_model_runner.py", "profile_run"), F("vllm/v1/worker/gpu_model_runner.py", "_dummy_run"),
    F("torch/_dynamo/eval_frame.py", "_fn"), F("vllm/compilation/piecewise_backend.py", "__call__"),
    F("torch/_inductor/output_code.py", "__call__"), `  File "/tmp/torchinductor_root/ab/cab.py", line 9, in call`,
  ))).toBe("kv_cache_profiling");
});

test("an error while Dynamo or Inductor compiles is torch.compile, even inside the profiling run", () => {
  expect(phaseOfFrames(frames(F("vllm/v1/worker/gpu_model_runner.py", "profile_run"), F("torch/_dynamo/convert_frame.py", "_compile"),
    F("torch/_inductor/compile_fx.py", "compile_fx")))).toBe("torch_compile");
});

test("weights, capture, worker start and config frames", () => {
  expect(phaseOfFrames(frames(F("vllm/v1/worker/gpu_model_runner.py", "load_model"), F("vllm/model_executor/model_loader/default_loader.py", "load_weights"))))
    .toBe("load_weights");
  expect(phaseOfFrames(frames(F("vllm/v1/worker/gpu_worker.py", "compile_or_warm_up_model"), F("vllm/v1/worker/gpu_model_runner.py", "capture_model"))))
    .toBe("cuda_graph_capture");
  expect(phaseOfFrames(frames(F("vllm/v1/worker/gpu_worker.py", "init_device"), F("torch/cuda/__init__.py", "set_device")))).toBe("worker_init");
  expect(phaseOfFrames(frames(F("vllm/engine/arg_utils.py", "create_engine_config"), F("vllm/transformers_utils/config.py", "get_config"))))
    .toBe("model_info");
  expect(phaseOfFrames(frames(F("vllm/entrypoints/openai/api_server.py", "run_server")))).toBeNull();
});
