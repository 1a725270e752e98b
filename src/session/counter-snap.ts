// Which side of a phase boundary the counters are read on (src/sampling/sampler.ts
// CounterSnap), from how the layout placed that instant. One direction per
// instant, so two neighbouring phases never count the same bytes twice.
import type { FinalPhase, TrackerResult } from "../phases/tracker.ts";
import type { CounterSnap } from "../sampling/sampler.ts";

/** Direction at each instant: an end line wins ("after"), else a begin line or a placed-back start ("before"). */
export function boundaryDirections(r: TrackerResult): Map<number, "before" | "after"> {
  const dir = new Map<number, "before" | "after">();
  for (const p of r.phases) {
    if (p.source === "printed" || p.source === "begin") if (!dir.has(p.startMs)) dir.set(p.startMs, "before");
  }
  for (const p of r.phases) {
    // An end that a line of vLLM's marks (not one the layout clipped or one implied by a later phase).
    if (p.source !== "layout" && !p.implicitEnd && p.status === "ok") dir.set(p.endMs, "after");
  }
  return dir;
}

const cache = new WeakMap<TrackerResult, Map<number, "before" | "after">>();

export function counterSnap(p: FinalPhase, r: TrackerResult): CounterSnap {
  let dir = cache.get(r);
  if (!dir) cache.set(r, (dir = boundaryDirections(r)));
  const start = dir.get(p.startMs);
  const end = p.endMs === r.endT ? undefined : dir.get(p.endMs);
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}
