// Flags a start-up phase as slow while it is still running, at the moment it
// crosses its allowance.
//
// Allowance of a phase:
// - a budget for that phase (`--budget model_loading=90s`) when one is set
//   (basis "budget"): the operator's explicit limit wins over the prediction;
// - otherwise, with a prediction, `max(slowFactor, exp(2 sigma)) * predicted + marginS`
//   (basis "predicted"), sigma being the prediction's own log-normal uncertainty
//   when the predictor knows it (src/predict/prior.ts: wide for an unknown GPU). The absolute margin (default 2 s) keeps very short
//   phases — a 0.3 s `detect_platform` predicted from history — from being
//   flagged on scheduling noise: 1.5 x 0.3 s = 0.45 s would be far too tight;
// - otherwise the phase is not judged.
// The pseudo-phase "total" covers the whole start-up (start to readiness): its
// clock starts at startupStarted(), or at the first phaseStarted() without it,
// and it is judged against budgets.total, or against a predicted total passed to
// startupStarted().
//
// Timing: one unref'd timer armed for the earliest pending deadline (no
// polling); when it fires, every phase past its deadline is reported and the
// timer is re-armed for the next one. A phase that ends past its allowance
// before the timer got to run (a busy event loop, or timestamps from a replayed
// log) is still reported, at its end.
import { realDelayMs } from "../state/session-clock.ts";

export interface SlowEvent {
  phase: string;
  allowance_s: number;
  basis: "predicted" | "budget";
  elapsed_s: number;
}

export interface ResolveEvent {
  phase: string;
  duration_s: number;
}

export interface SlowPhaseDetectorOptions {
  /** Multiplier on the predicted duration. Default 1.5. */
  slowFactor?: number;
  /** Absolute seconds added to factor x predicted. Default 2. */
  marginS?: number;
  /** phase -> seconds; "total" for the time to readiness. */
  budgets?: Record<string, number>;
  /** Clock, epoch milliseconds (same clock as the start/end times passed in). */
  now: () => number;
  onSlow: (e: SlowEvent) => void;
  /** Called when a phase that was flagged slow ends (or the start-up ends). */
  onResolve: (e: ResolveEvent) => void;
}

export const DEFAULT_SLOW_FACTOR = 1.5;
export const DEFAULT_MARGIN_S = 2;
export const TOTAL_PHASE = "total";
/** How many sigmas of the prediction's uncertainty a phase may run over before it is slow (one-sided ~98 %). */
export const UNCERTAINTY_Z = 2;

interface Tracked {
  phase: string;
  startMs: number;
  allowance_s: number | null;
  basis: "predicted" | "budget";
  deadlineMs: number;
  flagged: boolean;
}

export class SlowPhaseDetector {
  private readonly slowFactor: number;
  private readonly marginS: number;
  private readonly budgets: Record<string, number>;
  private readonly running = new Map<string, Tracked>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;
  private totalStarted = false;
  private ended = false;

  constructor(private readonly opts: SlowPhaseDetectorOptions) {
    this.slowFactor = opts.slowFactor ?? DEFAULT_SLOW_FACTOR;
    this.marginS = opts.marginS ?? DEFAULT_MARGIN_S;
    this.budgets = { ...(opts.budgets ?? {}) };
    if (!(this.slowFactor > 0) || !Number.isFinite(this.slowFactor)) {
      throw new Error(`invalid slow factor ${opts.slowFactor}: must be a positive number`);
    }
    if (!(this.marginS >= 0) || !Number.isFinite(this.marginS)) {
      throw new Error(`invalid slow margin ${opts.marginS}: must be a number of seconds >= 0`);
    }
    for (const [phase, s] of Object.entries(this.budgets)) {
      if (!(s > 0) || !Number.isFinite(s)) throw new Error(`invalid budget for ${phase}: ${s}`);
    }
  }

  /** The allowance a phase would be judged against, or null if it is not judged. */
  allowanceFor(phase: string, predictedS: number | null, sigma: number | null = null): { allowance_s: number; basis: "predicted" | "budget" } | null {
    const budget = this.budgets[phase];
    if (budget !== undefined) return { allowance_s: budget, basis: "budget" };
    if (predictedS !== null && Number.isFinite(predictedS) && predictedS >= 0) {
      // The prediction's own uncertainty (log-normal sigma; wide for an unknown GPU,
      // narrow for a fleet key seen before): a healthy phase on slow hardware stays
      // inside predicted x exp(Z sigma), one that is slow for this host and key does not.
      const spread = sigma !== null && Number.isFinite(sigma) && sigma > 0 ? Math.exp(UNCERTAINTY_Z * sigma) : 1;
      return { allowance_s: Math.max(this.slowFactor, spread) * predictedS + this.marginS, basis: "predicted" };
    }
    return null;
  }

  /** Start the clock of the "total" pseudo-phase (optional; else the first phase starts it). */
  startupStarted(startMs: number, predictedTotalS: number | null = null): void {
    if (this.ended || this.totalStarted) return;
    this.totalStarted = true;
    this.track(TOTAL_PHASE, startMs, predictedTotalS);
  }

  phaseStarted(phase: string, startMs: number, predictedS: number | null, sigma: number | null = null): void {
    if (this.ended) return;
    if (!this.totalStarted) this.startupStarted(startMs);
    if (phase === TOTAL_PHASE) return;
    // A phase reported again while running (e.g. by another rank) keeps its first start.
    if (this.running.has(phase)) return;
    this.track(phase, startMs, predictedS, sigma);
  }

  /** A phase shown as started by expectation that had not begun after all: forget it without judging. */
  phaseRetracted(phase: string): void {
    if (this.ended || phase === TOTAL_PHASE) return;
    if (this.running.delete(phase)) this.arm();
  }

  phaseEnded(phase: string, endMs: number): void {
    if (this.ended || phase === TOTAL_PHASE) return;
    this.finish(phase, endMs);
    this.arm();
  }

  /** The start-up is over (ready, failed or exited): resolve whatever was flagged, stop. */
  startupEnded(endMs: number = this.opts.now()): void {
    if (this.ended) return;
    for (const phase of [...this.running.keys()]) if (phase !== TOTAL_PHASE) this.finish(phase, endMs);
    this.finish(TOTAL_PHASE, endMs);
    this.stop();
  }

  /** Disarm without reporting anything further. */
  stop(): void {
    this.ended = true;
    this.running.clear();
    this.disarm();
  }

  private track(phase: string, startMs: number, predictedS: number | null, sigma: number | null = null): void {
    const a = this.allowanceFor(phase, predictedS, sigma);
    if (!a) return;
    this.running.set(phase, {
      phase,
      startMs,
      allowance_s: a.allowance_s,
      basis: a.basis,
      deadlineMs: startMs + a.allowance_s * 1000,
      flagged: false,
    });
    this.arm();
  }

  private finish(phase: string, endMs: number): void {
    const t = this.running.get(phase);
    if (!t) return;
    this.running.delete(phase);
    const duration_s = Math.max(0, (endMs - t.startMs) / 1000);
    if (!t.flagged && t.allowance_s !== null && endMs > t.deadlineMs) {
      t.flagged = true;
      this.emitSlow(t, duration_s);
    }
    if (t.flagged) this.safe(() => this.opts.onResolve({ phase, duration_s }));
  }

  private emitSlow(t: Tracked, elapsed_s: number): void {
    this.safe(() =>
      this.opts.onSlow({ phase: t.phase, allowance_s: t.allowance_s!, basis: t.basis, elapsed_s }),
    );
  }

  private safe(f: () => void): void {
    try {
      f();
    } catch (e) {
      // A failing listener must not stop detection of the other phases.
      process.stderr.write(`startup-tracer: slow-phase listener failed: ${String((e as Error)?.message ?? e).split("\n")[0]}\n`);
    }
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** (Re-)arm the single timer for the earliest pending deadline. */
  private arm(): void {
    if (this.ended) return this.disarm();
    let earliest = Infinity;
    for (const t of this.running.values()) if (!t.flagged && t.deadlineMs < earliest) earliest = t.deadlineMs;
    if (earliest === this.timerAt && this.timer) return;
    this.disarm();
    if (earliest === Infinity) return;
    const delay = realDelayMs(Math.max(0, earliest - this.opts.now())); // deadlines are on the session's timeline
    // setTimeout caps at 2^31-1 ms; a longer wait simply re-arms when it fires.
    this.timer = setTimeout(() => this.fire(), Math.min(delay, 2 ** 31 - 1));
    (this.timer as { unref?: () => void }).unref?.();
    this.timerAt = earliest;
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.ended) return;
    const now = this.opts.now();
    for (const t of this.running.values()) {
      if (!t.flagged && now >= t.deadlineMs) {
        t.flagged = true;
        this.emitSlow(t, Math.max(0, (now - t.startMs) / 1000));
      }
    }
    this.arm();
  }
}

const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Parse a duration: "90s", "2m", "1m30s", "1.5m", "45" (seconds), "500ms", "1h". Throws on bad syntax. */
export function parseDuration(value: string): number {
  const s = value.trim().toLowerCase();
  const bad = () => new Error(`invalid duration ${JSON.stringify(value)}: expected e.g. 90s, 2m, 1m30s, 1.5m or 45`);
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (!/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(s)) throw bad();
  let total = 0;
  let lastRank = Infinity;
  const rank: Record<string, number> = { h: 3, m: 2, s: 1, ms: 0 };
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    const unit = m[2]!;
    // Units must come largest first and only once: "1m30s", not "30s1m".
    if (rank[unit]! >= lastRank) throw bad();
    lastRank = rank[unit]!;
    total += Number(m[1]) * UNIT_S[unit]!;
  }
  return total;
}

/** Parse a `--budget <phase>=<duration>` value. Throws a one-line Error naming the value. */
export function parseBudget(spec: string): { phase: string; seconds: number } {
  const bad = (why: string) =>
    new Error(`invalid --budget ${JSON.stringify(spec)}: ${why} (expected <phase>=<duration>, e.g. model_loading=90s, total=5m)`);
  const i = spec.indexOf("=");
  if (i < 0) throw bad("missing '='");
  const phase = spec.slice(0, i).trim();
  const dur = spec.slice(i + 1).trim();
  if (!/^[a-z][a-z0-9_.-]*$/i.test(phase)) throw bad("bad phase name");
  let seconds: number;
  try {
    seconds = parseDuration(dur);
  } catch {
    throw bad(`bad duration ${JSON.stringify(dur)}`);
  }
  if (!(seconds > 0)) throw bad("the duration must be more than 0");
  return { phase, seconds };
}
