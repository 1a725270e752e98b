// The timeline's postconditions, checked on every layout (tests, `make fidelity`):
// every sub-step lies inside its parent, a parent spans its children, top-level
// phases of one start-up do not overlap, and every phase lies inside the root.
// Times are epoch ms; EPS absorbs float rounding of printed seconds.
import type { FinalPhase } from "./tracker.ts";

export const EPS_MS = 1;

export interface Violation {
  kind: "child_outside_parent" | "top_level_overlap" | "outside_root" | "negative" | "duration_mismatch" | "orphan";
  phase: string;
  other?: string;
  bySeconds: number;
}

export function checkInvariants(phases: readonly FinalPhase[], rootStart: number, rootEnd: number): Violation[] {
  const out: Violation[] = [];
  const byName = new Map(phases.map((p) => [p.name, p]));
  for (const p of phases) {
    if (p.endMs < p.startMs - EPS_MS) out.push({ kind: "negative", phase: p.name, bySeconds: (p.startMs - p.endMs) / 1000 });
    if (Math.abs((p.endMs - p.startMs) / 1000 - p.durationS) > 0.002) {
      out.push({ kind: "duration_mismatch", phase: p.name, bySeconds: Math.abs((p.endMs - p.startMs) / 1000 - p.durationS) });
    }
    const outside = Math.max(rootStart - p.startMs, p.endMs - rootEnd);
    if (outside > EPS_MS) out.push({ kind: "outside_root", phase: p.name, bySeconds: outside / 1000 });
    if (!p.parent) continue;
    const parent = byName.get(p.parent);
    if (!parent) { out.push({ kind: "orphan", phase: p.name, other: p.parent, bySeconds: 0 }); continue; }
    const by = Math.max(parent.startMs - p.startMs, p.endMs - parent.endMs);
    if (by > EPS_MS) out.push({ kind: "child_outside_parent", phase: p.name, other: parent.name, bySeconds: by / 1000 });
  }
  const top = phases.filter((p) => !p.parent).sort((a, b) => a.startMs - b.startMs);
  for (let i = 1; i < top.length; i++) {
    for (let j = 0; j < i; j++) {
      const o = Math.min(top[j].endMs, top[i].endMs) - Math.max(top[j].startMs, top[i].startMs);
      if (o > EPS_MS) out.push({ kind: "top_level_overlap", phase: top[i].name, other: top[j].name, bySeconds: o / 1000 });
    }
  }
  return out;
}
