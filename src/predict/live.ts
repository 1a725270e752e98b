// Live predictions during a start-up: the per-phase prediction a span gets when
// its phase begins, and an ETA for readiness that improves as phases finish.
//
// Rescaling rule (documented contract):
//   Phases are in three classes by what bounds them: "io" (model_download,
//   model_loading, load_weights: storage/network), "gpu" (encoder_profiling,
//   kv_cache_profiling and its sub-steps, model_warmup, cuda_graph_capture: the
//   GPU and its driver) and
//   "cpu" (everything else: the study found start-up CPU-bound on one core).
//   A phase's measured bound-by (the host sampler's, when known) overrides its
//   class. After each finished phase, each class gets a speed factor
//       f = exp(median over that class's finished phases of log((actual + 0.5) / (predicted + 0.5)))
//   -- a median of per-phase ratios, so one outlier phase does not move the rest
//   (a parent counts only when none of its sub-steps was reported) -- averaged
//   with OWN_PSEUDO (1) phase of transferred evidence: half of the log-median of
//   all finished phases (a slow host tends to be slow throughout, but the CPU's
//   speed says little about the disk). A class with no finished phase of its
//   own takes the transferred evidence alone. Clipped to [0.2, 5].
//   Every phase not yet started is predicted as (prior prediction) x f(class).
//   A phase's prediction is frozen when it starts (that is the span attribute).
//   ETA = remaining of the phase in flight (frozen prediction - elapsed, >= 0)
//       + the rescaled predictions of the top-level phases still to come, times
//         the gaps factor (wall time between phases, hardware-priors.json);
//   phases ordered before the current one that never started count as skipped.
//
// Elapsed-time blend (a prediction from the hardware prior only, not the
// reference class's, not a fleet history's): once a top-level phase L has
// ended, a second estimate of what remains is model-free:
//       E = k[L] x (time at L's end) - (time since L's end),   >= 0
//   k[L] = the corpus's median (time to readiness) / (time elapsed) at L's end
//   (hardware-priors.json fitted.elapsed). The ETA is the geometric mean
//   sqrt((model + 1) x (E + 1)) - 1. Why: by the end of model loading the
//   start-up has measured its host, storage and what runs on top of vLLM (a
//   notebook's bootstrap, slow storage), while the per-phase prior still
//   carries the hardware class's spread; leave-one-log-out over the corpus the
//   blend halves the median ETA error after loading (bench/predict-accuracy.ts).
//   Only until a GPU-bound phase has finished: from then on the per-class
//   rescaling has the GPU's own evidence (blending later made the ETA at the
//   last phase's start worse: 4 % -> 9 % of the total in the corpus median).

import { PARENT_SUMS, TOTAL_PARTS, type Prediction } from "./model.ts";
import { parentOf, phaseOrder, TOP_LEVEL_PHASES, type PhaseName } from "../phases/catalog.ts";
import priorsJson from "./hardware-priors.json";

const TOP_LEVEL = new Set<string>(TOP_LEVEL_PHASES);

export const FACTOR_MIN = 0.2;
export const FACTOR_MAX = 5;
/** Share of the all-phase evidence a class without its own finished phase takes (in log space). */
export const TRANSFER = 0.5;
/** Weight (in phases) of the transferred evidence against a class's own finished phases. */
export const OWN_PSEUDO = 1;
const IO_PHASES = new Set(["model_download", "model_loading", "load_weights", "model_init"]);
const GPU_PHASES = new Set(["encoder_profiling", "kv_cache_profiling", "profile_run", "kv_cache_allocation", "model_warmup", "autotuning", "cuda_graph_capture"]);

export type PhaseClass = "io" | "cpu" | "gpu";
export function phaseClass(phase: string): PhaseClass {
  if (IO_PHASES.has(phase)) return "io";
  if (GPU_PHASES.has(phase) || phase.startsWith("capture_")) return "gpu";
  return "cpu";
}

/** The sampler's bound-by label as a phase class (null: no opinion). */
export function classOfBoundBy(boundBy: unknown): PhaseClass | null {
  if (typeof boundBy !== "string") return null;
  if (/^gpu/i.test(boundBy)) return "gpu";
  if (/^io/i.test(boundBy)) return "io";
  if (/^cpu/i.test(boundBy)) return "cpu";
  return null;
}

const logRatio = (a: number, p: number) => Math.log((a + 0.5) / (p + 0.5));
function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** The blend applies to a prediction from the hardware prior (not the reference class's, not a fleet history's). */
function blendsWithElapsed(p: unknown): boolean {
  const q = p as { hw_class?: unknown; basis?: unknown } | null;
  return !!q && typeof q.hw_class === "string" && q.hw_class !== "reference" && q.basis !== "history";
}
const order = (p: string) => phaseOrder(p as PhaseName);

export class LivePredictor {
  private readonly base: Record<string, number>;
  private readonly frozen = new Map<string, number>();
  private readonly started = new Map<string, number>();
  private readonly finished = new Map<string, number>();
  private lastEndAtS: number | null = null;
  private readonly boundBy = new Map<string, PhaseClass>();
  private readonly etaAtStart = new Map<string, number>();
  private readonly gaps: number;
  private readonly elapsedK: Record<string, number>;
  private blend: boolean;
  /** The top-level phase that ended last, and when (s from the start). */
  private lastTop: { name: string; endS: number } | null = null;

  /**
   * opts.elapsed: the elapsed-time ratios per top-level phase (default: the
   * shipped fit, hardware-priors.json); {} turns the blend off.
   */
  constructor(prediction: Prediction | { phases: Record<string, number> } | null, opts: { gapsFactor?: number; elapsed?: Record<string, number> } = {}) {
    this.base = { ...(prediction?.phases ?? {}) };
    this.gaps = opts.gapsFactor && opts.gapsFactor > 0 ? opts.gapsFactor : 1;
    this.elapsedK = opts.elapsed ?? (priorsJson as { fitted: { elapsed?: Record<string, number> } }).fitted.elapsed ?? {};
    this.blend = blendsWithElapsed(prediction);
  }

  /**
   * A better prior arrived (the host inventory answered): phases not yet started
   * take the new base; frozen and finished phases keep theirs.
   */
  rebase(prediction: Prediction | { phases: Record<string, number> }): void {
    for (const [k, v] of Object.entries(prediction.phases)) if (!this.frozen.has(k)) this.base[k] = v;
    this.blend = blendsWithElapsed(prediction);
  }

  /** The class a phase's evidence counts for: its measured bound-by when known, else its kind. */
  classOf(name: string): PhaseClass {
    return this.boundBy.get(name) ?? phaseClass(name);
  }

  /** Per-phase log ratios of the finished phases, by class. */
  private evidence(): Map<PhaseClass, number[]> {
    const out = new Map<PhaseClass, number[]>();
    for (const [name, actual] of this.finished) {
      const pred = this.frozen.get(name) ?? this.base[name];
      if (pred === undefined) continue;
      const children = PARENT_SUMS[name];
      if (children && children.some((c) => this.finished.has(c))) continue; // its sub-steps count instead
      const c = this.classOf(name);
      const l = out.get(c) ?? [];
      l.push(logRatio(actual, pred));
      out.set(c, l);
    }
    return out;
  }

  /** Speed factor of a phase class from the phases finished so far. */
  factor(cls: PhaseClass): number {
    const ev = this.evidence();
    const own = ev.get(cls) ?? [];
    const all = [...ev.values()].flat();
    if (all.length === 0) return 1;
    // the class's own median, weighted by how many of its phases finished against
    // OWN_PSEUDO phases' worth of the transferred all-phase evidence
    const transferred = TRANSFER * med(all);
    const l = own.length ? (own.length * med(own) + OWN_PSEUDO * transferred) / (own.length + OWN_PSEUDO) : transferred;
    return Math.min(FACTOR_MAX, Math.max(FACTOR_MIN, Math.exp(l)));
  }

  /** The host sampler measured what bounded a phase (its evidence then counts for that class). */
  setBoundBy(phase: string, boundBy: unknown): void {
    const c = classOfBoundBy(boundBy);
    if (c) this.boundBy.set(phase, c);
  }

  /** The ETA to readiness as it stood when a phase began (null when it had none). */
  etaAt(phase: string): number | null {
    return this.etaAtStart.get(phase) ?? null;
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
    if (!this.etaAtStart.has(phase) && Object.keys(this.base).length) {
      // the estimate as it stood when this phase began (before it counts as in flight)
      const e = this.eta(atS, null, 0, { noGapCredit: true });
      if (e !== null) this.etaAtStart.set(phase, e);
    }
    this.started.set(phase, atS);
    const p = this.rescaled(phase);
    if (p !== null && !this.frozen.has(phase)) this.frozen.set(phase, p);
  }

  onPhaseEnd(phase: string, actualS: number): void {
    if (!Number.isFinite(actualS) || actualS < 0) return;
    this.finished.set(phase, actualS);
    const st = this.started.get(phase);
    if (st !== undefined) this.lastEndAtS = Math.max(this.lastEndAtS ?? 0, st + actualS);
    if (st !== undefined && TOP_LEVEL.has(phase) && (this.lastTop === null || st + actualS >= this.lastTop.endS)) this.lastTop = { name: phase, endS: st + actualS };
  }

  /**
   * Seconds until readiness, or null without a prediction.
   * nowS: seconds since start-up began; currentPhase: innermost phase in flight (or null);
   * currentElapsedS: how long it has been running.
   */
  eta(nowS: number, currentPhase: string | null, currentElapsedS: number, opts: { noGapCredit?: boolean } = {}): number | null {
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
      return p * this.gaps;
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
    if (currentPhase === null && !opts.noGapCredit && this.lastEndAtS !== null) total = Math.max(0, total - Math.max(0, nowS - this.lastEndAtS));
    // the model-free estimate from the time elapsed (see the header)
    const k = this.blend && this.lastTop && !this.gpuMeasured() ? this.elapsedK[this.lastTop.name] : undefined;
    if (k !== undefined && Number.isFinite(k) && k >= 0) {
      // Spent: the start-up has already run past what the elapsed-time estimate expected
      // (the demo at 85 s of 124: 0 s left by it). It then says nothing more, and the model,
      // which knows the phases still ahead, gives the ETA alone.
      const e = k * this.lastTop!.endS - Math.max(0, nowS - this.lastTop!.endS);
      if (e > 0) total = Math.max(0, Math.sqrt((total + 1) * (e + 1)) - 1);
    }
    return r3(total);
  }

  /** A GPU-bound phase has finished: the per-class rescaling has the GPU's own evidence from then on. */
  private gpuMeasured(): boolean {
    for (const n of this.finished.keys()) if (this.classOf(n) === "gpu") return true;
    return false;
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
