// The fleet key of a start-up: what must match for a past start-up to predict
// the next one (model, GPU product and count, vLLM version and engine, and the
// configuration that changes start-up cost). The same key on the same host
// starts the same way, so the history's last measurements beat any prior.

export interface FleetKeyInput {
  model: string | null;
  gpu: string | null;
  gpu_count?: number | null;
  vllm_version: string | null;
  engine?: string | null;
  eager?: boolean | null;
  quantization?: string | null;
  cuda_graph_sizes?: number | null;
  tp?: number | null;
  pp?: number | null;
  compile_level?: number | null;
}

/** A local model path counts by its last component (the history never keeps paths). */
function modelName(m: string | null): string {
  if (!m) return "?";
  return m.replace(/\/+$/, "").split(/[\\/]/).filter(Boolean).slice(-2).join("/") || "?";
}

export function fleetKey(k: FleetKeyInput): string {
  const parts = [
    modelName(k.model),
    `${(k.gpu ?? "?").replace(/\s+/g, " ").trim()}x${k.gpu_count ?? 1}`,
    `vllm ${k.vllm_version ?? "?"}${k.engine ? ` ${k.engine}` : ""}`,
    `tp${k.tp ?? 1} pp${k.pp ?? 1}`,
    k.eager ? "eager" : `cc${k.compile_level ?? "-"} graphs${k.cuda_graph_sizes ?? "-"}`,
    `q ${k.quantization ?? "-"}`,
  ];
  return parts.join(" | ");
}
