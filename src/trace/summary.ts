// The summary JSON (schema startup-tracer.summary/v1): a contract other tools
// read. Keep its fields exactly as documented in the README.
import { writeFileSync, renameSync } from "node:fs";
import type { TrackerResult } from "../phases/tracker.ts";
import { toRecords } from "../phases/tracker.ts";
import type { Attributes, Outcome, PhaseRecord } from "../state/types.ts";
import { redactDeep } from "../redact/redact.ts";
import type { AdviceItem } from "../advice/advise.ts";

export interface Summary {
  schema: "startup-tracer.summary/v1";
  engine: "vllm";
  engine_version: string | null;
  outcome: Exclude<Outcome, "running">;
  ready_s: number | null;
  trace_id: string;
  model: string | null;
  total_s: number;
  unexplained_s: number;
  /** Where the unexplained time lies: between the end of `after` and the start of `before` (null: the start-up's start or end). */
  unexplained_gaps?: { start_s: number; duration_s: number; after: string | null; before: string | null }[];
  predicted_total_s: number | null;
  error?: string;
  phases: PhaseRecord[];
  /** What to try next, biggest saving first (src/advice/; README "Advice"). Added when the start-up ends. */
  advice?: AdviceItem[];
}

/** Wall time inside the start-up that no top-level phase covers (computed by the tracker). */
export function unexplainedSeconds(r: TrackerResult): number {
  return Math.round(r.unexplainedS * 1000) / 1000;
}

export function buildSummary(r: TrackerResult, traceId: string, opts: {
  predicted?: (name: string) => number | null;
  phaseAttributes?: (name: string) => Attributes;
  predictedTotal?: number | null;
} = {}): Summary {
  const phases = toRecords(r, opts.predicted).map((p) => {
    const attributes = { ...p.attributes, ...(opts.phaseAttributes?.(p.name) ?? {}) };
    // The ETA to readiness as it stood when the phase began (src/predict/live.ts), also as a field.
    const eta = attributes["vllm.startup.phase.eta_s"];
    return { ...p, ...(typeof eta === "number" ? { eta_s: eta } : {}), attributes };
  });
  const outcome = r.outcome === "running" ? "incomplete" : r.outcome;
  return redactDeep({
    schema: "startup-tracer.summary/v1",
    engine: "vllm",
    engine_version: r.engineVersion,
    outcome,
    ready_s: r.readyT !== null ? Math.round((r.readyT - r.t0)) / 1000 : null,
    trace_id: traceId,
    model: r.model,
    total_s: Math.round(r.endT - r.t0) / 1000,
    unexplained_s: unexplainedSeconds(r),
    unexplained_gaps: (r.gaps ?? []).map((g) => ({
      start_s: Math.round(g.startMs - r.t0) / 1000, duration_s: Math.round(g.endMs - g.startMs) / 1000, after: g.after, before: g.before,
    })),
    predicted_total_s: opts.predictedTotal ?? null,
    ...(r.error ? { error: r.error } : {}),
    phases,
  } as Summary);
}

export function writeSummary(path: string, s: Summary): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(tmp, path);
}
