// The live view of one start-up, shared by the tracker (which fills it), the
// HTTP API, the alerting, the terminal status line and the summary writer.
// Times: `*_ms` are epoch milliseconds (high resolution: performance.timeOrigin
// + performance.now()), `*_s` are seconds since the start of the start-up.

export type AttrValue = string | number | boolean | string[] | number[] | boolean[];
export type Attributes = Record<string, AttrValue>;

export type Outcome = "running" | "ready" | "failed" | "exited" | "incomplete";

export interface PhaseRecord {
  /** Canonical phase name (src/phases/catalog.ts) or a further phase in the same style. */
  name: string;
  /** Parent phase for sub-steps, null for top-level phases. */
  parent: string | null;
  start_s: number;
  /** null while the phase is still running. */
  duration_s: number | null;
  status: "ok" | "error" | "running";
  /** Predicted duration, known when the phase began; null without a prediction. */
  predicted_s: number | null;
  error?: string;
  attributes: Attributes;
}

export interface SlowPhase {
  phase: string;
  allowance_s: number;
  /** Where the allowance came from: "predicted" (factor x predicted + margin) or "budget". */
  basis: "predicted" | "budget";
  detected_at_s: number;
  resolved: boolean;
}

export interface StartupSnapshot {
  schema: "startup-tracer.status/v1";
  outcome: Outcome;
  engine: "vllm";
  engine_version: string | null;
  model: string | null;
  host: string;
  trace_id: string;
  started_at_ms: number;
  elapsed_s: number;
  ready_s: number | null;
  /** Innermost phase in flight, or null. */
  current_phase: string | null;
  current_phase_elapsed_s: number | null;
  predicted_total_s: number | null;
  /** Seconds until readiness as currently estimated, or null without a prediction. */
  eta_s: number | null;
  /** Finished phases and the ones in flight (status "running"), in start order. */
  phases: PhaseRecord[];
  /** Latest per-core CPU utilisation (0..1), for the live per-core strip. */
  cpu_cores: number[];
  slow: SlowPhase[];
  failures: number;
  /** What to try next, once the start-up has ended (src/advice/; the summary's `advice`). */
  advice?: { lever: string; phase: string; saving_s: number; evidence: string; action: string }[];
}
