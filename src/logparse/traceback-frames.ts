// Which start-up step a Python traceback was raised in, from its frames: the
// innermost frame that matches a row here names the phase. Kept as data beside
// the line patterns; sources are vLLM's code paths (fetch of vllm-project/vllm,
// v0.6–main) and the failed logs in ../shared/vllm-logs/.
//
// Order matters only between rows that can match the same frame; the frame
// order (innermost first) decides between rows. Dynamo's eval_frame wrapper is
// on every compiled model call, so only frames that compile (convert_frame,
// Inductor, vLLM's compiler backends) mean torch.compile.

export interface FrameRule {
  /** Function name of the frame. */
  fn?: RegExp;
  /** File path of the frame. */
  file?: RegExp;
  phase: string;
  source: string;
}

export const FRAME_RULES: readonly FrameRule[] = [
  // ---- weight loading ----
  { fn: /^(load_weights|_prepare_weights|download_weights_from_hf|safetensors_weights_iterator|_get_weights_iterator|get_all_weights|download_model|load_state_dict)$/,
    phase: "load_weights", source: "vllm/model_executor/model_loader/default_loader.py, weight_utils.py" },
  { fn: /^(initialize_model|_initialize_model|_process_weights_after_loading)$/, phase: "model_init", source: "vllm/model_executor/model_loader/utils.py" },
  { fn: /^(load_model|get_model)$/, phase: "model_loading", source: "vllm/v1/worker/gpu_model_runner.py load_model; vllm/worker/model_runner.py" },
  // ---- torch.compile: frames that compile. Not the frames that *run* a compiled graph
  // (Dynamo's eval_frame wrapper, Inductor's output code and runtime, vLLM's piecewise
  // backend calling its graphs): an OOM in the profiling run passes through those. ----
  { file: /torch\/_dynamo\/(convert_frame|symbolic_convert|output_graph|bytecode_transformation)\.py$/, phase: "torch_compile", source: "torch/_dynamo" },
  { file: /torch\/_inductor\/(compile_fx|graph|scheduler|lowering|select_algorithm|autotune_process|codecache|codegen\/[\w/]+)\.py$/,
    phase: "torch_compile", source: "torch/_inductor (compile, not runtime/ or output_code)" },
  { file: /vllm\/compilation\/(backends|compiler_interface)\.py$/, fn: /^(compile|__call__|compile_or_load|load|_compile|split_graph)$/,
    phase: "torch_compile", source: "vllm/compilation/backends.py VllmBackend.__call__ (Dynamo's backend), CompilerManager.compile" },
  { file: /vllm\/compilation\/piecewise_backend\.py$/, fn: /^(compile|_compile|compile_for_shape)$/, phase: "torch_compile",
    source: "vllm/compilation/piecewise_backend.py (its __call__ runs compiled graphs)" },
  // ---- KV-cache profiling, sizing and allocation ----
  { fn: /^(profile_run|determine_available_memory|determine_num_available_blocks|_initialize_kv_caches|get_kv_cache_configs?|_check_enough_kv_cache_memory|check_enough_kv_cache_memory|initialize_kv_cache|initialize_kv_cache_tensors|_allocate_kv_cache_tensors|_reshape_kv_cache_tensors|initialize_cache|_init_cache|_initialize_kv_cache|get_kv_cache_spec|raise_if_cache_size_invalid|_verify_num_gpu_blocks)$/,
    phase: "kv_cache_profiling", source: "vllm/v1/engine/core.py _initialize_kv_caches; v1/worker/gpu_worker.py; v1/core/kv_cache_utils.py; worker/worker.py (V0)" },
  // ---- warm-up and CUDA-graph capture ----
  { fn: /^(capture_model|_capture_cudagraphs|capture|_dummy_run_cudagraph)$/, phase: "cuda_graph_capture", source: "vllm/v1/worker/gpu_model_runner.py capture_model" },
  { fn: /^(compile_or_warm_up_model|kernel_warmup|_warm_up_model|warm_up_model|flashinfer_autotune|_dummy_sampler_run)$/, phase: "model_warmup",
    source: "vllm/v1/worker/gpu_worker.py compile_or_warm_up_model; model_executor/warmup/kernel_warmup.py" },
  // ---- worker start: devices and distributed groups ----
  { fn: /^(init_device|init_worker_distributed_environment|init_distributed_environment|initialize_model_parallel|ensure_model_parallel_initialized|init_process_group|_init_workers_ray|init_worker|_init_executor|set_device|new_group)$/,
    phase: "worker_init", source: "vllm/v1/worker/gpu_worker.py init_device; vllm/distributed/parallel_state.py" },
  { file: /(pynccl|nccl|oneccl|ccl|cuda_communicator|custom_all_reduce)[\w/]*\.py$/, phase: "worker_init", source: "vllm/distributed/device_communicators" },
  // ---- configuration and model info ----
  { fn: /^(get_tokenizer|init_tokenizer|cached_tokenizer_from_config|_init_tokenizer|init_tokenizer_from_configs)$/, phase: "tokenizer_init", source: "vllm/transformers_utils/tokenizer.py" },
  { fn: /^(create_engine_config|create_model_config|get_config|get_hf_text_config|_verify_quantization|verify_with_parallel_config|try_get_generation_config|get_model_architecture|resolve_model_cls|inspect_model_cls|_get_model_info)$/,
    phase: "model_info", source: "vllm/engine/arg_utils.py create_engine_config; vllm/config; transformers_utils/config.py" },
];

const FRAME_LINE = /File "([^"]+)", line \d+, in (\S+)/;

export interface Frame {
  file: string;
  fn: string;
}

export function parseFrame(message: string): Frame | null {
  if (message.indexOf("File \"") < 0) return null;
  const m = FRAME_LINE.exec(message);
  return m ? { file: m[1], fn: m[2] } : null;
}

/** The phase of the innermost frame that a rule names, or null. Frames are outermost first, as Python prints them. */
export function phaseOfFrames(frames: readonly Frame[]): string | null {
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i];
    for (const r of FRAME_RULES) {
      if (r.fn && !r.fn.test(f.fn)) continue;
      if (r.file && !r.file.test(f.file)) continue;
      return r.phase;
    }
  }
  return null;
}
