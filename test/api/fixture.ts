// Snapshots for the API tests, in the shape the tracker fills (src/state/types.ts).
import type { PhaseRecord, StartupSnapshot } from "../../src/state/types.ts";

export function phase(p: Partial<PhaseRecord> & { name: string; start_s: number }): PhaseRecord {
  return {
    parent: null,
    duration_s: null,
    status: "running",
    predicted_s: null,
    attributes: {},
    ...p,
  };
}

export function makeSnapshot(over: Partial<StartupSnapshot> = {}): StartupSnapshot {
  return {
    schema: "startup-tracer.status/v1",
    outcome: "running",
    engine: "vllm",
    engine_version: "0.11.0",
    model: "Qwen/Qwen3-0.6B",
    host: "gpu-node-1",
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    started_at_ms: 1_760_000_000_000,
    elapsed_s: 42.5,
    ready_s: null,
    current_phase: "load_weights",
    current_phase_elapsed_s: 12.5,
    predicted_total_s: 95,
    eta_s: 52.5,
    phases: [
      phase({ name: "bootstrap", start_s: 0, duration_s: 18.2, status: "ok", predicted_s: 17,
        attributes: { "vllm.startup.phase.bound_by": "CPU-single-core" } }),
      phase({ name: "detect_platform", parent: "bootstrap", start_s: 0.1, duration_s: 2.1, status: "ok", predicted_s: 2 }),
      phase({ name: "imports", parent: "bootstrap", start_s: 2.2, duration_s: 9.8, status: "ok", predicted_s: 9 }),
      phase({ name: "worker_init", parent: "bootstrap", start_s: 12, duration_s: 6.1, status: "ok", predicted_s: 6 }),
      phase({ name: "tokenizer_init", start_s: 18.3, duration_s: 1.2, status: "ok", predicted_s: 1 }),
      phase({ name: "model_loading", start_s: 19.6, status: "running", predicted_s: 30 }),
      phase({ name: "model_init", parent: "model_loading", start_s: 19.6, duration_s: 10.4, status: "ok", predicted_s: 8 }),
      phase({ name: "load_weights", parent: "model_loading", start_s: 30, status: "running", predicted_s: 20,
        attributes: { "vllm.startup.weights.gib": 1.12, "vllm.startup.phase.bound_by": "IO" } }),
    ],
    cpu_cores: [0.95, 0.1, 0.42, 0.73, 0.05, 0.6, 0.3, 1],
    slow: [],
    failures: 0,
    ...over,
  };
}
