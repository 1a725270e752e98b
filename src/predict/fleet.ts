// The fleet key of a start-up: what must match for a past start-up to predict
// the next one (model, GPU product and count, vLLM version and engine, and the
// configuration that changes start-up cost). The same key on the same host
// starts the same way, so the history's last measurements beat any prior.

import { redactText } from "../redact/redact.ts";

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

/**
 * A model counts by its last two path components (the history never keeps paths);
 * redacted first (a model URL may carry credentials), without URL user-info or query.
 */
function modelName(m: string | null): string {
  if (!m) return "?";
  const clean = redactText(m).replace(/^[a-z][\w+.-]*:\/\/[^/@]*@/i, "").replace(/[?#].*$/, "");
  return clean.replace(/\/+$/, "").split(/[\\/]/).filter(Boolean).slice(-2).join("/") || "?";
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
  return redactText(parts.join(" | "));
}
