// One start-up being traced: the tracker plus the plug-ins that add to it
// (host sampling, predictions, slow-phase alerts, history), the live snapshot
// the HTTP API serves, and the end of the start-up (spans, summary, blame).
import { hostname } from "node:os";
import { PhaseTracker, type FinalPhase, type TrackerResult } from "../phases/tracker.ts";
import { LineSplitter, MAX_LINE_CHARS } from "../logparse/line-splitter.ts";
import { parentOf, type PhaseName } from "../phases/catalog.ts";
import type { Attributes, PhaseRecord, StartupSnapshot } from "../state/types.ts";
import type { TraceIds } from "../trace/trace-ids.ts";
import type { ExportConfig } from "../trace/otel-config.ts";
import type { SpanEvent } from "../trace/build-spans.ts";
import type { Summary } from "../trace/summary.ts";
import type { DeliveryResult } from "../trace/deliver.ts";
import type { AdviceContext } from "../advice/facts.ts";
import { redactDeep } from "../redact/redact.ts";
import { warn } from "../report/messages.ts";
import { skippableIn } from "./prefilter.ts";
import { sessionNowMs } from "../state/session-clock.ts";

/** A line splitter whose chunks may carry the time they arrived (the fast pump reads them later). */
export type TimedSplitter = LineSplitter & { pushAt(chunk: Uint8Array, tMs: number): void };

/** Now on the session's timeline (the wall clock, unless a sped-up replay is traced: src/state/session-clock.ts). */
export const nowMs = sessionNowMs;
/** Real milliseconds the trace waits after readiness for lines still in the other pipe. */
const READY_GRACE_REAL_MS = 60;

/** What a plug-in may add to a start-up. Every hook is optional and guarded. */
export interface SessionPlugin {
  name: string;
  onPhaseStart?(name: string, parent: string | null, tMs: number): void;
  onPhaseEnd?(name: string, tMs: number): void;
  /** A phase shown as started by expectation had not begun after all (it is started again when it does). */
  onPhaseRetract?(name: string): void;
  onEnd?(tMs: number, outcome: "ready" | "failed"): void;
  predicted?(name: string): number | null;
  predictedTotal?(): number | null;
  eta?(nowMs: number, current: string | null, currentStartMs: number | null): number | null;
  phaseAttributes?(p: FinalPhase, r: TrackerResult): Attributes;
  phaseEvents?(p: FinalPhase): SpanEvent[];
  rootAttributes?(r: TrackerResult): Attributes;
  resourceAttributes?(): Attributes;
  cpuCores?(): number[];
  slow?(): StartupSnapshot["slow"];
  /** What the advice may use beyond the trace (predictor features, facts from the log): src/advice/. */
  adviceContext?(): AdviceContext;
  /** After the summary exists (history store, alert resolution). */
  finished?(summary: Summary, r: TrackerResult): void | Promise<void>;
  stop?(): void | Promise<void>;
}

export interface SessionOptions {
  ids: TraceIds;
  mode: "wrap" | "import" | "follow";
  t0: number;
  exportConfig: ExportConfig;
  stateDir: string;
  /** The wrapped command (redacted before it is stored anywhere). */
  command?: string[];
  serverMode?: boolean;
  eager?: boolean;
}

export interface Finalized {
  result: TrackerResult;
  summary: Summary;
  delivery: Promise<DeliveryResult>;
}

export class StartupSession {
  readonly tracker: PhaseTracker;
  readonly plugins: SessionPlugin[] = [];
  private splitters: LineSplitter[] = [];
  private started = new Map<string, number>();
  private ended = new Map<string, number>();
  private finalized: Finalized | null = null;
  private endListeners: ((f: Finalized) => void)[] = [];
  private host = hostname();

  constructor(readonly opts: SessionOptions) {
    this.tracker = new PhaseTracker(opts.t0, {
      onPhaseStart: (name, parent, t) => {
        this.started.set(name, t);
        this.each((p) => p.onPhaseStart?.(name, parent, t));
      },
      onPhaseEnd: (name, t) => {
        this.ended.set(name, t);
        this.each((p) => p.onPhaseEnd?.(name, t));
      },
      onPhaseRetract: (name) => {
        this.started.delete(name);
        this.each((p) => p.onPhaseRetract?.(name));
      },
      onReady: (t) => this.each((p) => p.onEnd?.(t, "ready")),
      onFailed: (t) => this.each((p) => p.onEnd?.(t, "failed")),
    }, { serverMode: opts.serverMode, eager: opts.eager });
  }

  /** Runs a hook of every plug-in; a failing plug-in is reported once and never stops the others. */
  private each(fn: (p: SessionPlugin) => void): void {
    for (const p of this.plugins) {
      try {
        fn(p);
      } catch (e) {
        warn(`${p.name}: ${(e as Error).message}`);
      }
    }
  }

  private first<T>(fn: (p: SessionPlugin) => T | null | undefined): T | null {
    for (const p of this.plugins) {
      try {
        const v = fn(p);
        if (v !== null && v !== undefined) return v;
      } catch { /* a plug-in's failure only costs its contribution */ }
    }
    return null;
  }

  addPlugin(p: SessionPlugin): void {
    this.plugins.push(p);
    // Phases already running when a plug-in arrives (it loads lazily).
    try {
      for (const name of this.tracker.livePhases()) p.onPhaseStart?.(name, parentOf(name as PhaseName), this.started.get(name) ?? this.opts.t0);
    } catch (e) {
      warn(`${p.name}: ${(e as Error).message}`);
    }
  }

  /**
   * One reader of the lines the tracker sees (the predictor reads the hardware and
   * configuration vLLM prints: src/predict/log-hardware.ts). It must be cheap and
   * stop reading on its own; a failure drops the tap, never a line.
   */
  private lineTap: ((line: string) => void) | null = null;
  tapLines(fn: (line: string) => void): void {
    this.lineTap = (line) => {
      try { fn(line); } catch { this.lineTap = null; }
    };
  }

  /** A line splitter for one of the child's streams, feeding the tracker. */
  newStream(): TimedSplitter {
    let t = this.opts.t0;
    // Lines keep flowing to the tracker until the start-up is finalized: after a
    // failure marker the traceback that explains it is still on its way.
    // Lines that cannot matter to the tracker skip it (./prefilter.ts).
    const s = new LineSplitter((line) => {
      if (this.finalized) return;
      this.tracker.feedRaw(line, t);
      if (this.lineTap) this.lineTap(line);
    }, MAX_LINE_CHARS, skippableIn) as TimedSplitter;
    const push = s.push.bind(s);
    s.push = (chunk: Uint8Array) => {
      t = nowMs();
      push(chunk);
    };
    s.pushAt = (chunk: Uint8Array, tMs: number) => {
      t = tMs;
      push(chunk);
    };
    this.splitters.push(s);
    return s;
  }

  get done(): boolean {
    return this.tracker.done;
  }

  private failSeenAt: number | null = null;
  private readySeenAt: number | null = null;

  /**
   * Finalizes once the start-up has ended: at once on readiness; after a
   * failure, once its traceback had time to arrive (it follows the marker).
   * Live modes call this periodically.
   */
  pollEnd(graceMs = 1500): void {
    if (this.finalizing) return;
    this.tracker.poll(nowMs());
    if (!this.tracker.done) return;
    if (this.tracker.failed) {
      const now = nowMs(); // on the session's timeline: a sped-up replay's traceback comes sooner
      this.failSeenAt ??= now;
      if (now - this.failSeenAt < graceMs) return;
    } else {
      // Readiness: the child's other pipe may still hold a line from before it (a phase's end
      // next to a progress bar); one beat of real time lets it arrive.
      const wall = performance.now();
      this.readySeenAt ??= wall;
      if (wall - this.readySeenAt < READY_GRACE_REAL_MS) return;
    }
    this.finalize("ready").catch((e) => warn(`could not finish the trace: ${(e as Error).message}`));
  }

  onEnd(fn: (f: Finalized) => void): void {
    if (this.finalized) fn(this.finalized);
    else this.endListeners.push(fn);
  }

  snapshot(now = nowMs()): StartupSnapshot {
    const f = this.finalized;
    const info = this.tracker.info;
    const current = f ? null : this.tracker.currentPhase();
    const phases: PhaseRecord[] = f
      ? f.summary.phases
      : this.livePhaseRecords(now);
    const t0 = f ? f.result.t0 : this.opts.t0;
    const currentStart = current ? this.started.get(current) ?? null : null;
    const eta = f ? (f.result.outcome === "ready" ? 0 : null) : this.first((p) => p.eta?.(now, current, currentStart));
    return redactDeep({
      schema: "startup-tracer.status/v1",
      outcome: f ? f.summary.outcome : "running",
      engine: "vllm",
      engine_version: info.engineVersion,
      model: info.model,
      host: this.host,
      trace_id: this.opts.ids.traceId,
      started_at_ms: t0,
      elapsed_s: round3(((f ? f.result.endT : now) - t0) / 1000),
      ready_s: f?.summary.ready_s ?? null,
      current_phase: current,
      current_phase_elapsed_s: currentStart !== null ? round3((now - currentStart) / 1000) : null,
      predicted_total_s: this.first((p) => p.predictedTotal?.()),
      eta_s: eta,
      phases,
      cpu_cores: this.first((p) => p.cpuCores?.()) ?? [],
      slow: this.first((p) => p.slow?.()) ?? [],
      failures: f && f.summary.outcome === "failed" ? 1 : 0,
      ...(f?.summary.advice ? { advice: f.summary.advice } : {}),
    } satisfies StartupSnapshot);
  }

  /** Phases as the live view knows them: finished ones with their live times, running ones growing. */
  private livePhaseRecords(now: number): PhaseRecord[] {
    const out: PhaseRecord[] = [];
    const running = new Set(this.tracker.livePhases());
    for (const [name, start] of this.started) {
      const end = this.ended.get(name);
      out.push({
        name, parent: parentOf(name as PhaseName),
        start_s: round3((start - this.opts.t0) / 1000),
        duration_s: end !== undefined ? round3((end - start) / 1000) : running.has(name) ? null : null,
        status: end !== undefined ? "ok" : "running",
        predicted_s: this.first((p) => p.predicted?.(name)),
        attributes: {},
      });
    }
    return out.sort((a, b) => a.start_s - b.start_s);
  }

  /**
   * Ends the start-up (readiness, failure, child exit or end of input) once:
   * builds the spans, the summary and starts delivery.
   */
  finalize(how: "eof" | "exit" | "ready", exit?: { code: number | null; signal: string | null },
    imported?: TrackerResult): Promise<Finalized> {
    // Once: a second call while the first is still building (it awaits imports) gets the same result.
    this.finalizing ??= this.finalizeOnce(how, exit, imported);
    return this.finalizing;
  }

  private finalizing: Promise<Finalized> | null = null;

  private async finalizeOnce(how: "eof" | "exit" | "ready", exit?: { code: number | null; signal: string | null },
    imported?: TrackerResult): Promise<Finalized> {
    if (this.finalized) return this.finalized;
    for (const s of this.splitters) s.end();
    const result = imported ?? this.tracker.finish(nowMs(), how === "ready" ? "eof" : how, exit);
    const phaseExtra = new Map<string, Attributes>();
    for (const p of result.phases) {
      const extra: Attributes = {};
      const pred = this.first((pl) => pl.predicted?.(p.name));
      if (pred !== null) extra["vllm.startup.phase.predicted_duration_s"] = round3(pred);
      for (const pl of this.plugins) {
        try {
          Object.assign(extra, pl.phaseAttributes?.(p, result) ?? {});
        } catch (e) {
          warn(`${pl.name}: ${(e as Error).message}`);
        }
      }
      phaseExtra.set(p.name, extra);
    }
    const { buildSummary } = await import("../trace/summary.ts");
    const summary = buildSummary(result, this.opts.ids.traceId, {
      predicted: (name) => this.first((pl) => pl.predicted?.(name)),
      phaseAttributes: (name) => phaseExtra.get(name) ?? {},
      predictedTotal: this.first((pl) => pl.predictedTotal?.()),
    });
    await this.addAdvice(summary, result);
    const delivery = this.deliver(result, phaseExtra, summary.advice);
    this.finalized = { result, summary, delivery };
    for (const pl of this.plugins) {
      try {
        await pl.finished?.(summary, result);
      } catch (e) {
        warn(`${pl.name}: ${(e as Error).message}`);
      }
    }
    for (const fn of this.endListeners) fn(this.finalized);
    return this.finalized;
  }

  /** What to try next (issue 13, src/advice/): on the summary, the root span, /status and the end table. */
  private async addAdvice(summary: Summary, result: TrackerResult): Promise<void> {
    try {
      const { advise } = await import("../advice/advise.ts");
      const ctx: AdviceContext = { run: result.runAttrs };
      for (const pl of this.plugins) Object.assign(ctx, pl.adviceContext?.() ?? {});
      summary.advice = redactDeep(advise(summary, ctx));
    } catch (e) {
      warn(`advice: ${(e as Error).message}`);
    }
  }

  private async deliver(result: TrackerResult, phaseExtra: Map<string, Attributes>, advice?: Summary["advice"]): Promise<DeliveryResult> {
    try {
      const cfg = this.opts.exportConfig;
      if (!cfg.enabled) return { how: "disabled" };
      const [{ buildSpans }, { deliver }] = await Promise.all([import("../trace/build-spans.ts"), import("../trace/deliver.ts")]);
      const root: Attributes = {};
      const resource: Attributes = { ...cfg.resourceAttributes };
      for (const pl of this.plugins) {
        try {
          Object.assign(root, pl.rootAttributes?.(result) ?? {});
          Object.assign(resource, pl.resourceAttributes?.() ?? {});
        } catch (e) {
          warn(`${pl.name}: ${(e as Error).message}`);
        }
      }
      root["vllm.startup.unexplained_s"] = (await import("../trace/summary.ts")).unexplainedSeconds(result);
      const pt = this.first((pl) => pl.predictedTotal?.());
      if (pt !== null) root["vllm.startup.predicted_total_s"] = round3(pt);
      const spans = buildSpans({
        ids: this.opts.ids, result, mode: this.opts.mode, serviceName: cfg.serviceName, resource, root, advice,
        phase: (p) => phaseExtra.get(p.name) ?? {},
        events: (p) => this.plugins.flatMap((pl) => {
          try {
            return pl.phaseEvents?.(p) ?? [];
          } catch {
            return [];
          }
        }),
      });
      return await deliver(spans, cfg, this.opts.stateDir, this.opts.ids.traceId, Date.now() + this.deadlineMs, this.cut.signal);
    } catch (e) {
      return { how: "lost", error: (e as Error).message };
    }
  }

  /** How long delivery may take before what is unsent goes to the spool. */
  deadlineMs = 30_000;
  private cut = new AbortController();

  /** Stops retrying now: what is not sent yet is spooled (wrap mode, child gone). */
  cutDelivery(): void {
    this.cut.abort();
  }

  async stop(): Promise<void> {
    for (const p of this.plugins) {
      try {
        await p.stop?.();
      } catch { /* stopping is best effort */ }
    }
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
