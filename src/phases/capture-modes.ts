// CUDA-graph capture modes as vLLM labels its progress bars, and the sub-step
// each one becomes. Source: vLLM v1/worker/gpu_model_runner.py capture_model()
// (`desc=f"Capturing CUDA graphs ({'decode' if uniform_decode else 'mixed prefill-decode'}, {runtime_mode.name})"`,
// v0.10.2+), seen in ../shared/vllm-logs (v0.11.0 GB10, v0.16.1rc1 L40S).
// Bars without a mode ("Capturing CUDA graph shapes", V0 and early V1) cover
// the whole capture and add no sub-step.
export const CAPTURE_MODES: readonly { re: RegExp; step: string }[] = [
  { re: /^mixed prefill-decode,\s*PIECEWISE$/i, step: "capture_mixed_piecewise" },
  { re: /^mixed prefill-decode,\s*FULL$/i, step: "capture_mixed_full" },
  { re: /^decode,\s*FULL$/i, step: "capture_decode_full" },
  { re: /^decode,\s*PIECEWISE$/i, step: "capture_decode_piecewise" },
];

export function captureStep(label: string | undefined): string | null {
  if (!label) return null;
  const l = label.trim();
  for (const m of CAPTURE_MODES) if (m.re.test(l)) return m.step;
  return null;
}
