// Live predictions during a start-up: the per-phase prediction a span gets when
// its phase begins, and an ETA for readiness that improves as phases finish.
//
// Rescaling rule (documented contract):
//   Phases are in two classes: "io" (model_download, load_weights: bound by
//   storage/network) and "cpu" (everything else: the study found start-up
//   CPU-bound on one core). After each finished phase, each class gets a speed
//   factor
//       f = (sum actual + K) / (sum predicted + K),   K = 5 s (shrinkage),
//   over the finished leaf phases of that class (a parent counts only when none
//   of its sub-steps was reported), clipped to [0.25, 4]. A class with no
//   finished phase keeps f = 1 (the cpu speed says nothing about the disk).
//   Every phase not yet started is predicted as (reference prediction) x f(class).
//   A phase's prediction is frozen when it starts (that is the span attribute).
//   ETA = remaining of the phase in flight (frozen prediction - elapsed, >= 0)
//       + the rescaled predictions of the top-level phases still to come;
//   phases ordered before the current one that never started count as skipped.

import { PARENT_SUMS, TOTAL_PARTS, type Prediction } from "./model.ts";
import { parentOf, phaseOrder, type PhaseName } from "../phases/catalog.ts";

export const SHRINK_K_S = 5;
export const FACTOR_MIN = 0.25;
export const FACTOR_MAX = 4;
const IO_PHASES = new Set(["model_download", "load_weights"]);

export type PhaseClass = "io" | "cpu";
export function phaseClass(phase: string): PhaseClass {
  return IO_PHASES.has(phase) ? "io" : "cpu";
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const order = (p: string) => phaseOrder(p as PhaseName);

export class LivePredictor {
  private readonly base: Record<string, number>;
  private readonly frozen = new Map<string, number>();
  private readonly started = new Map<string, number>();
  private readonly finished = new Map<string, number>();
  private lastEndAtS: number | null = null;

  constructor(prediction: Prediction | { phases: Record<string, number> } | null) {
    this.base = { ...(prediction?.phases ?? {}) };
  }

  /** Speed factor of a phase class from the phases finished so far. */
  factor(cls: PhaseClass): number {
    let a = 0, p = 0, n = 0;
    for (const [name, actual] of this.finished) {
      if (phaseClass(name) !== cls) continue;
      const pred = this.frozen.get(name) ?? this.base[name];
      if (pred === undefined) continue;
      const children = PARENT_SUMS[name];
      if (children && children.some((c) => this.finished.has(c))) continue; // its sub-steps count instead
      a += actual; p += pred; n++;
    }
    if (n === 0) return 1;
    return Math.min(FACTOR_MAX, Math.max(FACTOR_MIN, (a + SHRINK_K_S) / (p + SHRINK_K_S)));
  }

  /** Current prediction (s) for a phase: frozen once it started, else rescaled; null without a prediction. */
  predictedFor(phase: string): number | null {
    const f = this.frozen.get(phase);
    if (f !== undefined) return f;
    return this.rescaled(phase);
  }

  private rescaled(phase: string): number | null {
    const children = PARENT_SUMS[phase];
    if (children) {
      // parent: sum of its children's current predictions (sub-steps may be in different classes)
      let s = 0, any = false;
      for (const c of children) {
        const v = this.finished.get(c) ?? this.frozen.get(c) ?? (this.base[c] !== undefined ? this.base[c] * this.factor(phaseClass(c)) : undefined);
        if (v !== undefined) { s += v; any = true; }
      }
      if (any) return r3(s);
    }
    const b = this.base[phase];
    if (b === undefined) return null;
    return r3(b * this.factor(phaseClass(phase)));
  }

  onPhaseStart(phase: string, atS: number): void {
    this.started.set(phase, atS);
    const p = this.rescaled(phase);
    if (p !== null && !this.frozen.has(phase)) this.frozen.set(phase, p);
  }

  onPhaseEnd(phase: string, actualS: number): void {
    if (!Number.isFinite(actualS) || actualS < 0) return;
    this.finished.set(phase, actualS);
    const st = this.started.get(phase);
    if (st !== undefined) this.lastEndAtS = Math.max(this.lastEndAtS ?? 0, st + actualS);
  }

  /**
   * Seconds until readiness, or null without a prediction.
   * nowS: seconds since start-up began; currentPhase: innermost phase in flight (or null);
   * currentElapsedS: how long it has been running.
   */
  eta(nowS: number, currentPhase: string | null, currentElapsedS: number): number | null {
    if (Object.keys(this.base).length === 0) return null;
    // the furthest phase reached: phases ordered before it that never started were skipped
    let reached = currentPhase ? order(currentPhase) : -1;
    for (const n of [...this.started.keys(), ...this.finished.keys()]) reached = Math.max(reached, order(n));
    const skipped = (n: string) => !this.started.has(n) && !this.finished.has(n) && n !== currentPhase && order(n) < reached;
    const remainingLeaf = (n: string): number => {
      if (this.finished.has(n) || skipped(n)) return 0;
      const p = this.predictedFor(n) ?? 0;
      if (n === currentPhase) return Math.max(0, p - currentElapsedS);
      const st = this.started.get(n);
      if (st !== undefined) return Math.max(0, p - Math.max(0, nowS - st));
      return p;
    };
    let total = 0;
    for (const top of TOTAL_PARTS) {
      if (this.finished.has(top)) continue;
      const children = PARENT_SUMS[top]?.filter((c) => c in this.base) ?? [];
      if (children.length) {
        let sub = 0;
        for (const c of children) sub += remainingLeaf(c);
        if (top === currentPhase && children.every((c) => !this.started.has(c) && !this.finished.has(c))) {
          sub = Math.max(0, sub - currentElapsedS); // parent in flight, no sub-step reported yet
        }
        total += sub;
        continue;
      }
      if (top in this.base) total += remainingLeaf(top);
    }
    // between phases: the gap since the last phase ended counts against what comes next
    if (currentPhase === null && this.lastEndAtS !== null) total = Math.max(0, total - Math.max(0, nowS - this.lastEndAtS));
    return r3(total);
  }

  /** Current best estimate of the whole start-up's duration: finished phases as measured, the rest rescaled. */
  totalPredicted(): number | null {
    if (Object.keys(this.base).length === 0) return null;
    let total = 0;
    for (const top of TOTAL_PARTS) {
      const done = this.finished.get(top);
      if (done !== undefined) { total += done; continue; }
      const children = PARENT_SUMS[top]?.filter((c) => c in this.base) ?? [];
      if (children.length) {
        for (const c of children) total += this.finished.get(c) ?? this.predictedFor(c) ?? 0;
        continue;
      }
      total += this.predictedFor(top) ?? 0;
    }
    return r3(total);
  }

  /** The prediction made before the start-up began (unchanged by rescaling). */
  initialTotal(): number | null {
    if (Object.keys(this.base).length === 0) return null;
    return r3(TOTAL_PARTS.reduce((s, p) => s + (this.base[p] ?? 0), 0));
  }
}
