// Turns recognised log events into phases. The same code runs live (wrap and
// follow modes: times are arrival times on the tracer's clock) and offline
// (import: times come from the log's own timestamps).
//
// Rules, in short (README "How phases are measured" has the long form):
// - A phase whose duration vLLM prints ends when that line arrives and lasts
//   exactly the printed value; otherwise it runs from its begin marker, or from
//   the end of the previous phase on the same process, to its end marker.
// - Bootstrap sub-steps are delimited by named boundaries (first occurrence).
// - With several ranks a phase spans the earliest start to the latest end and
//   keeps the per-rank values.
// - A failure ends the phase in flight with status error and the exception text.
import { parseLine, type LogLine } from "../logparse/anatomy.ts";
import { recognize, TracebackWatcher, type Recognized } from "../logparse/recognizer.ts";
import type { Rule } from "../logparse/patterns.ts";
import { parseFrame, phaseOfFrames, type Frame } from "../logparse/traceback-frames.ts";
import { parentOf, phaseOrder, RUNS_INSIDE, type PhaseName } from "./catalog.ts";
import { BOOTSTRAP_SEGMENTS, LIVE_BY_MARKER_ONLY, LIVE_ENDS_PARENT, LIVE_FIRST_SUBSTEP, LIVE_GAP_BEFORE, LIVE_PREEMPTS, LIVE_SEQUENCE, LIVE_SUBSTEP_AFTER, PLATFORMS_WITHOUT_GRAPHS, SKIPPED_BY_V0, SKIPPED_WHEN_EAGER } from "./segments.ts";
import type { Attributes, Outcome, PhaseRecord } from "../state/types.ts";
import { layoutPhases } from "./layout.ts";

/** vLLM's log timestamps have whole seconds: printed values and markers may disagree by this much. */
const LOG_RESOLUTION_MS = 1000;
/** How long after readiness an end line from the other pipe is still taken. */
const LATE_END_MS = 5000;
/** Compilation lines; after the KV cache they belong to warm-up (compile sizes). */
const COMPILE_FAMILY: readonly string[] = ["dynamo_transform", "graph_compile", "torch_compile"];
/** Live, command not known to be a server: how long an initialised engine waits for a server's lines. */
export const OFFLINE_READY_GRACE_MS = 5000;

interface RankEntry {
  begin?: number;
  end?: number;
  printed?: number;
  /** Where the phase started when it has neither begin marker nor printed duration. */
  cursor?: number;
  /** Ended implicitly: a later phase of the same process began before its end marker. */
  implicit?: boolean;
}

interface PhaseState {
  ranks: Map<string, RankEntry>;
  attrs: Attributes;
}

export interface TrackerEvents {
  onPhaseStart?(name: string, parent: string | null, tMs: number): void;
  onPhaseEnd?(name: string, tMs: number): void;
  /** A phase shown as started by expectation has not begun after all (it starts again later). */
  onPhaseRetract?(name: string): void;
  onReady?(tMs: number): void;
  onFailed?(tMs: number, error: string): void;
}

export interface TrackerOptions {
  /** The child is an API server (`vllm serve`): readiness is "Application startup complete". */
  serverMode?: boolean;
  eager?: boolean;
  /** Live: the command is known not to be an API server (readiness at the engine's init line, at once). */
  knownOffline?: boolean;
  /**
   * Import of a finished log: the log may start late (a tail) and an offline
   * engine's readiness is decided at the end (server lines may follow the
   * engine's init-complete line). In wrap/follow mode (default) t0 is the
   * start of the start-up and readiness is decided as lines arrive.
   */
  importMode?: boolean;
}

export interface TrackerResult {
  outcome: Outcome;
  t0: number;
  endT: number;
  readyT: number | null;
  engineVersion: string | null;
  model: string | null;
  parallel: { tensor?: number; pipeline?: number; data?: number };
  runAttrs: Attributes;
  error: string | null;
  /** Phases with absolute times (ms); converted to PhaseRecords by `toRecords`. */
  phases: FinalPhase[];
  /** Wall time (s) between t0 and the end of the start-up that no top-level phase covers. */
  unexplainedS: number;
  /** Where that time lies: each gap between the phases (or markers) around it. */
  gaps: Gap[];
  /** Whether the log shows the start of the start-up (false for tails and fragments). */
  startKnown: boolean;
}

export interface FinalPhase {
  name: string;
  parent: string | null;
  startMs: number;
  endMs: number;
  durationS: number;
  status: "ok" | "error" | "running";
  error?: string;
  printedS?: number;
  /** Printed durations, one per rank (process) that printed one, in order of arrival. */
  rankDurationsS: number[];
  ranks: number;
  attrs: Attributes;
  /** Where the start came from: a begin marker, a printed duration, the previous phase's end, or the layout. */
  source?: "begin" | "printed" | "cursor" | "layout";
  /** No end marker: it ended when a later phase of its process began or ended. */
  implicitEnd?: boolean;
}

/** Unexplained time between two phases (null: the start or the end of the start-up). */
export interface Gap {
  startMs: number;
  endMs: number;
  after: string | null;
  before: string | null;
}

/** A named instant recorded for the layout step (rules with `mark`). */
export interface Mark {
  t: number;
  rank: string;
  groups: (string | undefined)[];
}

interface Chain {
  text: string;
  /** Index of the line that closed it. */
  idx: number;
  /** Frames of each traceback in the chain (the first is the root cause), outermost first. */
  frames: Frame[][];
}

const RANK_MAIN = "-";
/** More distinct processes than any real deployment prints (TP x PP x DP workers, API servers). */
export const MAX_RANKS = 1024;
const RANK_OVERFLOW = "(other processes)";

export class PhaseTracker {
  readonly t0: number;
  private phases = new Map<string, PhaseState>();
  private boundaries = new Map<string, number>();
  /** Per process: end of the latest phase (top level or sub-step) it reported. */
  private rankCursor = new Map<string, number>();
  /** Distinct processes seen in the log (at most MAX_RANKS). */
  private seenRanks = new Set<string>();
  /** End of the latest top-level phase of any process (t0 while none, if the start is known). */
  private globalCursor: number | undefined;
  private tb = new TracebackWatcher();
  private scratch: Recognized[] = [];
  private chains: Chain[] = [];
  private lineIdx = 0;
  private failure: { t: number; error: string; idx: number; announced: boolean } | null = null;
  private engineReadyT: number | null = null;
  private readyT: number | null = null;
  /** "Application startup complete" (HTTP readiness), as opposed to engine readiness. */
  private httpReadyT: number | null = null;
  private serverMode = false;
  private engineVersion: string | null = null;
  private model: string | null = null;
  private parallel: TrackerResult["parallel"] = {};
  private runAttrs: Attributes = {};
  private lastT: number;
  private live: string[] = [];
  /** When each live phase was shown to start. */
  private liveStarted = new Map<string, number>();
  private liveDone = new Set<string>();
  private eager = false;
  private importMode: boolean;
  private knownOffline: boolean;
  private startKnown: boolean;
  private phaseEventSeen = false;
  /** Named instants for the layout (autotuning, capture-bar states, KV markers), bounded per name. */
  private marks = new Map<string, Mark[]>();
  /** Frames of the traceback each process is printing (bounded). */
  private openFrames = new Map<string, Frame[]>();
  private lastOpenFrames: Frame[] | null = null;
  /** Time of the last recognised marker before the start-up ended. */
  private lastMarkerT: number | undefined;
  /** vLLM's lines carry millisecond timestamps (study builds, some log configs), not whole seconds. */
  private msStamps = false;

  constructor(t0Ms: number, private events: TrackerEvents = {}, opts: TrackerOptions = {}) {
    this.t0 = t0Ms;
    this.lastT = t0Ms;
    this.serverMode = !!opts.serverMode;
    this.eager = !!opts.eager;
    this.importMode = !!opts.importMode;
    this.knownOffline = !!opts.knownOffline;
    this.startKnown = !this.importMode;
    this.globalCursor = this.startKnown ? t0Ms : undefined;
    this.liveStart("bootstrap", t0Ms);
  }

  get done(): boolean {
    return this.readyT !== null || this.failure !== null;
  }

  /** A fatal marker was seen (the start-up failed). */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** A Python exception ended a traceback before readiness (a crash without a fatal marker). */
  get crashed(): boolean {
    return this.readyT === null && this.engineReadyT === null && this.chains.length > 0;
  }

  /** Feed one physical line (already split, capped, any wrapper) that arrived at tMs. */
  feedRaw(raw: string, tMs: number): void {
    this.feed(parseLine(raw), tMs);
  }

  feed(line: LogLine, tMs: number): void {
    this.lineIdx++;
    if (tMs > this.lastT) this.lastT = tMs;
    if (!this.msStamps && line.hasTime && line.file !== null && line.secondOfDay % 1 !== 0) this.msStamps = true;
    const key = this.rankKey(line);
    if (line.proc !== null && !this.serverMode && line.proc.startsWith("APIServer")) this.becomeServer();
    const hits = recognize(line, this.scratch);
    let tracebackStart = false;
    for (let i = 0; i < hits.length; i++) if (hits[i].rule.kind === "traceback") tracebackStart = true;
    if (tracebackStart) {
      if (this.openFrames.size >= 64) this.openFrames.clear();
      this.openFrames.set(key, (this.lastOpenFrames = []));
    } else if (this.openFrames.size) {
      const fr = parseFrame(line.message);
      const list = fr ? (this.openFrames.get(key) ?? this.lastOpenFrames) : null;
      if (fr && list && list.length < 256) list.push(fr);
    }
    const exc = this.tb.feed(line, key, tracebackStart);
    if (exc) {
      const frames = this.openFrames.get(key) ?? this.lastOpenFrames ?? [];
      this.openFrames.delete(key);
      this.exception(exc.text, !!exc.chained, tMs, frames);
    }
    if (hits.length === 0) return;
    // After readiness only facts are collected; a later crash does not undo the start-up.
    for (const h of hits) this.apply(h.rule, h.m, key, tMs, line);
  }

  private exception(text: string, chained: boolean, t: number, frames: Frame[]): void {
    const last = this.chains[this.chains.length - 1];
    if (chained && last) {
      last.text = clip(text);
      if (last.frames.length < 8) last.frames.push(frames);
    } else if (this.chains.length < 16) this.chains.push({ text: clip(text), idx: this.lineIdx, frames: [frames] });
    // The exception line that follows a fatal marker is the error text.
    const f = this.failure;
    if (f && !f.announced && this.lineIdx >= f.idx) {
      f.announced = true;
      f.error = clip(text);
      this.events.onFailed?.(f.t, f.error);
    }
    void t;
  }

  private apply(rule: Rule, m: RegExpExecArray, rank: string, t: number, line: LogLine): void {
    // A foreign format (FlashInfer) inherits the last vLLM timestamp on import; its own clock is finer.
    if (rule.at && this.importMode && !line.hasTime) t = ownTime(t, m[rule.at]);
    if (rule.mark) {
      this.mark(rule.mark, t, rank, m);
      this.liveMark(rule.mark, t);
    }
    if (!this.done && rule.kind !== "traceback" && rule.kind !== "fatal") this.lastMarkerT = t;
    switch (rule.kind) {
      case "mark":
        return;
      case "version":
        if (!this.engineVersion) this.engineVersion = m[1];
        if (rule.id === "api.version_banner.plain" && !this.model) this.model = m[2];
        return;
      case "model":
        if (!this.model && m[1]) this.model = m[1];
        return;
      case "server":
        this.becomeServer();
        return;
      case "parallel":
        this.parallel = { tensor: +m[1], pipeline: +m[2], ...(m[3] ? { data: +m[3] } : {}) };
        return;
      case "boundary":
        if (this.done) return;
        // A bootstrap marker before any phase marker: the log shows the start-up's beginning.
        if (!this.startKnown && !this.phaseEventSeen) {
          this.startKnown = true;
          if (this.globalCursor === undefined) this.globalCursor = this.t0;
        }
        if (!this.boundaries.has(rule.boundary!)) {
          this.boundaries.set(rule.boundary!, t);
          this.liveBoundary();
        }
        this.addAttrs(rule, m, "bootstrap");
        return;
      case "attr":
        if (rule.phase === "@run") this.collectAttrs(rule, m, this.runAttrs);
        else this.addAttrs(rule, m, rule.phase!);
        if (rule.id === "config.enforce_eager") this.eager = true;
        return;
      case "begin":
        if (!this.done && this.engineReadyT !== null && parentOf(rule.phase as PhaseName) === "server_start") {
          const e = this.entry(rule.phase!, rank);
          if (e.begin === undefined) e.begin = t;
          return;
        }
        if (this.done || this.engineReadyT !== null) return;
        this.phaseEventSeen = true;
        this.begin(rule.phase!, rank, t);
        return;
      case "end":
        // The API server's own steps run after the engine is up.
        if (!this.done && this.engineReadyT !== null && parentOf(rule.phase as PhaseName) === "server_start") {
          this.end(rule.phase!, rank, t, rule.dur ? num(m[rule.dur]) / (rule.durUnit === "ms" ? 1000 : 1) : undefined);
          return;
        }
        // A compile for specific sizes after the KV cache is warm-up, not the compilation.
        if (COMPILE_FAMILY.includes(rule.phase!) && this.kvDone()) return;
        // A phase's end line may reach us just after readiness: vLLM's records and its
        // progress bars come through two pipes, read independently.
        if (this.done || this.engineReadyT !== null) {
          if (!this.lateEnd(rule, m, rank, t)) return;
          this.addAttrs(rule, m, rule.attrPhase ?? rule.phase!);
          return;
        }
        this.phaseEventSeen = true;
        this.end(rule.phase!, rank, t, rule.dur ? num(m[rule.dur]) / (rule.durUnit === "ms" ? 1000 : 1) : undefined, !!rule.extend);
        this.addAttrs(rule, m, rule.attrPhase ?? rule.phase!);
        return;
      case "engine_ready":
        this.collectAttrs(rule, m, this.runAttrs);
        if (this.done || this.engineReadyT !== null) return;
        this.engineReadyT = t;
        for (const p of [...this.live]) if (p !== "bootstrap" || this.liveDone.has("model_loading")) this.liveEnd(p, t);
        if (this.serverMode) this.liveStart("server_start", t);
        // A command not known to be a server (a wrapper script, a replay): readiness waits
        // OFFLINE_READY_GRACE_MS for a server's lines (poll() decides) before the engine's counts.
        else if (!this.importMode && this.knownOffline) this.markReady(t);
        return;
      case "ready":
        // Only an API server's uvicorn line: a host application that embeds
        // vLLM prints the same words for its own server (v0.9.0 CosyVoice log).
        if (this.done || !this.serverMode) return;
        this.httpReadyT = t;
        this.markReady(t);
        return;
      case "fatal":
        if (this.done) return;
        this.fail(t, clip(line.message.trim()));
        return;
      case "traceback":
        return;
    }
  }

  /**
   * The process a line came from. Hostile or garbled input can name a new pid
   * on every line; beyond MAX_RANKS distinct processes the rest share one key,
   * so the per-process maps here and in the traceback watcher stay bounded.
   */
  private rankKey(line: LogLine): string {
    if (!line.proc) return RANK_MAIN;
    const key = `${line.proc} pid=${line.pid}`;
    if (this.seenRanks.has(key)) return key;
    if (this.seenRanks.size >= MAX_RANKS) return RANK_OVERFLOW;
    this.seenRanks.add(key);
    return key;
  }

  private state(phase: string): PhaseState {
    let s = this.phases.get(phase);
    if (!s) this.phases.set(phase, (s = { ranks: new Map(), attrs: {} }));
    return s;
  }

  private entry(phase: string, rank: string): RankEntry {
    const s = this.state(phase);
    let e = s.ranks.get(rank);
    if (!e) s.ranks.set(rank, (e = {}));
    return e;
  }

  /** A top-level phase of `rank` reached `phase`: earlier phases begun there without an end marker end now. */
  private closeEarlier(phase: string, rank: string, t: number): void {
    if (parentOf(phase as PhaseName)) return;
    const order = phaseOrder(phase as PhaseName);
    for (const [name, s] of this.phases) {
      if (name === phase || parentOf(name as PhaseName) || phaseOrder(name as PhaseName) >= order) continue;
      const e = s.ranks.get(rank);
      if (!e || e.begin === undefined || e.end !== undefined) continue;
      const subEnd = this.lastSubEnd(name, rank);
      e.end = Math.max(e.begin, Math.min(subEnd ?? t, t));
      e.implicit = true;
      this.setCursor(rank, e.end, true);
      this.liveAfterEnd(name, e.end);
    }
  }

  private setCursor(rank: string, t: number, topLevel: boolean): void {
    const c = this.rankCursor.get(rank);
    if (c === undefined || t > c) this.rankCursor.set(rank, t);
    if (topLevel && (this.globalCursor === undefined || t > this.globalCursor)) this.globalCursor = t;
  }

  private begin(phase: string, rank: string, t: number): void {
    this.closeEarlier(phase, rank, t);
    const e = this.entry(phase, rank);
    if (e.begin === undefined) e.begin = t;
    if (parentOf(phase as PhaseName)) return;
    // A phase started by expectation that this begin line shows has not begun yet (segments.ts).
    const pre = LIVE_PREEMPTS[phase];
    if (pre && this.live.includes(pre) && ![...this.liveDone].some((d) => parentOf(d as PhaseName) === pre)) this.liveRetract(pre);
    // A phase begins: the earlier ones still shown as running are over. Model loading's
    // sub-steps are not shown until vLLM prints where weight loading started.
    this.liveEndBefore(phase, t);
    this.liveStart(phase, t);
  }

  /** The child turned out to be an API server: readiness is HTTP readiness; an engine already up starts server_start. */
  private becomeServer(): void {
    if (this.serverMode) return;
    this.serverMode = true;
    if (this.engineReadyT !== null && !this.done && !this.importMode) this.liveStart("server_start", this.engineReadyT);
  }

  /** The KV cache has been sized on some process (compiles after it are warm-up). */
  private kvDone(): boolean {
    for (const e of this.phases.get("kv_cache_profiling")?.ranks.values() ?? []) if (e.end !== undefined) return true;
    return false;
  }

  /** An end line with a printed duration arriving shortly after readiness, for a phase that ended before it. */
  private lateEnd(rule: Rule, m: RegExpExecArray, rank: string, t: number): boolean {
    const ready = this.engineReadyT ?? this.readyT;
    const printed = rule.dur ? num(m[rule.dur]) : NaN;
    if (ready === null || t - ready > LATE_END_MS || !(printed >= 0)) return false;
    const e = this.entry(rule.phase!, rank);
    if (e.end !== undefined) return false;
    const end = Math.min(t, ready);
    e.end = end;
    e.printed = printed;
    if (!this.liveDone.has(rule.phase!) && !this.live.includes(rule.phase!)) {
      this.liveStart(rule.phase!, end - printed * 1000);
      this.liveEnd(rule.phase!, end);
    }
    return true;
  }

  /**
   * Live: an engine that is ready while no server line has been seen is the
   * start-up's end once OFFLINE_READY_GRACE_MS pass without one (an API server
   * prints its own lines within a few seconds of the engine's).
   */
  poll(now: number): void {
    if (this.done || this.importMode || this.serverMode || this.engineReadyT === null) return;
    if (now - this.engineReadyT >= OFFLINE_READY_GRACE_MS) this.markReady(this.engineReadyT);
  }

  private mark(name: string, t: number, rank: string, m: RegExpExecArray): void {
    let list = this.marks.get(name);
    if (!list) this.marks.set(name, (list = []));
    const rec = { t, rank, groups: m.slice(1) };
    // Bounded: the first ones and the latest one (a bar redrawn thousands of times keeps its final state).
    if (list.length < 64) list.push(rec);
    else list[63] = rec;
  }

  private end(phase: string, rank: string, t: number, printed: number | undefined, extend = false): void {
    if (printed !== undefined && !(Number.isFinite(printed) && printed >= 0 && printed < 1e6)) printed = undefined;
    const e = this.entry(phase, rank);
    if (extend && e.end !== undefined && !e.implicit && e.printed === undefined) {
      if (t > e.end) {
        e.end = t;
        this.setCursor(rank, t, !parentOf(phase as PhaseName));
      }
      return;
    }
    if (e.end !== undefined && !e.implicit) {
      // A later line with a printed duration refines an earlier marker (V1 DEBUG
      // "Memory profiling takes" next to "Available KV cache memory").
      if (e.printed === undefined && printed !== undefined && t - e.end < 2000) {
        e.printed = printed;
        e.end = t;
      }
      return;
    }
    this.closeEarlier(phase, rank, t);
    e.implicit = false;
    e.end = t;
    e.printed = printed;
    const parent = parentOf(phase as PhaseName);
    if (e.begin === undefined && printed === undefined) {
      // Start where this process's previous phase ended (unknown in a log tail).
      e.cursor = this.rankCursor.get(rank) ?? this.globalCursor;
      if (parent && this.phases.get(parent)?.ranks.get(rank)?.begin !== undefined) {
        const pb = this.phases.get(parent)!.ranks.get(rank)!.begin!;
        e.cursor = Math.max(e.cursor ?? pb, this.lastSubEnd(parent, rank, phase) ?? pb);
      }
      if (e.cursor !== undefined && e.cursor > t) e.cursor = t;
    }
    this.setCursor(rank, t, !parent);
    this.liveAfterEnd(phase, t, printed);
  }

  private lastSubEnd(parent: string, rank: string, except?: string): number | undefined {
    let best: number | undefined;
    for (const [name, s] of this.phases) {
      if (name === except || parentOf(name as PhaseName) !== parent) continue;
      const e = s.ranks.get(rank);
      if (e?.end !== undefined && (best === undefined || e.end > best)) best = e.end;
    }
    return best;
  }

  private addAttrs(rule: Rule, m: RegExpExecArray, phase: string): void {
    if (!rule.attrs) return;
    this.collectAttrs(rule, m, this.state(phase).attrs);
  }

  private collectAttrs(rule: Rule, m: RegExpExecArray, into: Attributes): void {
    if (!rule.attrs) return;
    for (const [k, spec] of Object.entries(rule.attrs)) {
      if ("const" in spec) into[k] = spec.const;
      else {
        const raw = m[spec[0]];
        if (raw === undefined) continue;
        if (spec[1] === "str") into[k] = clip(raw, 256);
        else {
          const v = num(raw);
          if (Number.isFinite(v)) into[k] = spec[1] === "int" ? Math.round(v) : v;
        }
      }
    }
  }

  private markReady(t: number): void {
    this.readyT = t;
    this.liveEnd("server_start", t);
    for (const p of [...this.live]) this.liveEnd(p, t);
    this.events.onReady?.(t);
  }

  private fail(t: number, provisional: string): void {
    if (this.failure) return;
    // The error text is the exception line of the traceback that follows the
    // fatal marker; a marker that closes a traceback itself (the API server's
    // RuntimeError) or has none (HIP memory fault) is its own text.
    const recent = this.chains.length ? this.chains[this.chains.length - 1] : undefined;
    const own = recent && recent.idx === this.lineIdx ? recent.text : undefined;
    this.failure = { t, error: own ?? provisional, idx: this.lineIdx, announced: own !== undefined };
    if (own !== undefined) this.events.onFailed?.(t, own);
  }

  // ---- live view ----------------------------------------------------------

  private liveStart(name: string, t: number): void {
    if (this.liveDone.has(name) || this.live.includes(name)) return;
    this.live.push(name);
    this.liveStarted.set(name, t);
    this.events.onPhaseStart?.(name, parentOf(name as PhaseName), t);
  }

  private liveEnd(name: string, t: number): void {
    const i = this.live.indexOf(name);
    if (i < 0) return;
    this.live.splice(i, 1);
    this.liveDone.add(name);
    this.events.onPhaseEnd?.(name, t);
  }

  /**
   * Bootstrap sub-steps live, by the same rule as the final trace
   * (segmentTimes): finished segments are shown with their times, and only the
   * last segment that started is in flight; one whose end the log skipped is
   * not shown at all.
   */
  private liveBoundary(): void {
    if (this.liveDone.has("bootstrap")) return;
    let inFlight: string | null = null;
    let inFlightStart = this.t0;
    for (const seg of BOOTSTRAP_SEGMENTS) {
      const { start, end, fromPrev, prevOpen } = this.segmentTimes(seg);
      // A step after one that has not ended has not begun yet.
      if (start === undefined || (prevOpen && end === undefined)) continue;
      inFlight = null;
      if (end === undefined) { inFlight = seg.phase; inFlightStart = start; continue; }
      if (fromPrev && end === start) continue;
      if (!this.liveDone.has(seg.phase)) {
        this.liveStart(seg.phase, start);
        this.liveEnd(seg.phase, end);
      }
    }
    for (const seg of BOOTSTRAP_SEGMENTS) if (seg.phase !== inFlight && this.live.includes(seg.phase)) this.liveRetract(seg.phase);
    if (inFlight) this.liveStart(inFlight, inFlightStart);
  }

  /**
   * The live view after `phase` ended at `t` (vLLM printed `printed` seconds).
   * It shows what the layout will say of the same lines: a step whose start is
   * only known from its printed duration (weight loading, graph capture) is
   * placed back when that line arrives, and until then its parent is what runs.
   */
  private liveAfterEnd(phase: string, t: number, printed?: number): void {
    // A phase that runs inside another (tokenizer init during bootstrap) is shown as its part.
    const home = RUNS_INSIDE[phase]?.find((h) => this.live.includes(h));
    if (home) {
      if (printed !== undefined && !this.liveDone.has(phase)) this.liveStart(phase, t - printed * 1000);
      this.liveEnd(phase, t);
      return;
    }
    const parent = parentOf(phase as PhaseName);
    const from = printed !== undefined ? t - printed * 1000 : undefined;
    if (!this.live.includes(phase) && !this.liveDone.has(phase) && from !== undefined) {
      if (parent) {
        if (!this.live.includes(parent) && !this.liveDone.has(parent)) { this.liveEndBefore(parent, from); this.liveStart(parent, from); }
        // What ran between the parent's start and this step's is the gap step (model_init before the weights).
        const gap = LIVE_GAP_BEFORE[phase];
        if (gap && !this.liveDone.has(gap) && this.liveStarted.has(parent)) {
          const parentStart = this.liveStarted.get(parent)!;
          this.liveStart(gap, Math.min(parentStart, from));
          this.liveEnd(gap, Math.max(parentStart, from));
        }
        for (const p of [...this.live]) if (parentOf(p as PhaseName) === parent) this.liveEnd(p, from);
      } else this.liveEndBefore(phase, from);
      this.liveStart(phase, from);
    }
    if (parent) {
      this.liveEnd(phase, t);
      const next = LIVE_SUBSTEP_AFTER[phase];
      if (next && !this.liveDone.has(next)) this.liveStart(next, t);
      // The compilation ends with its graph compile or cache load; the forward pass that follows is profiling.
      if (LIVE_ENDS_PARENT.includes(phase)) this.liveAfterEnd(parent, t);
      return;
    }
    for (const p of [...this.live]) if (parentOf(p as PhaseName) === phase) this.liveEnd(p, t);
    this.liveEnd(phase, t);
    if (phase === "model_loading") {
      for (const p of [...this.live]) if (parentOf(p as PhaseName) === "bootstrap") this.liveEnd(p, t);
      this.liveEnd("bootstrap", t);
    }
    const next = this.nextPhase(phase);
    if (next && !this.live.includes(next)) {
      this.liveStart(next, t);
      const first = LIVE_FIRST_SUBSTEP[next];
      if (first) this.liveStart(first, t);
    }
  }

  /** Ends every running top-level phase that comes before `phase` (and its sub-steps). */
  private liveEndBefore(phase: string, t: number): void {
    const ord = phaseOrder(phase as PhaseName);
    for (const p of [...this.live]) {
      const top = parentOf(p as PhaseName) ?? p;
      if (top !== phase && phaseOrder(top as PhaseName) < ord) this.liveEnd(p, Math.max(t, this.liveStarted.get(p) ?? t));
    }
  }

  /** A phase shown as started by expectation that has not begun after all (no event was sent for its end). */
  private liveRetract(name: string): void {
    for (const p of [...this.live]) {
      if (p !== name && parentOf(p as PhaseName) !== name) continue;
      this.live.splice(this.live.indexOf(p), 1);
      this.liveStarted.delete(p);
      this.events.onPhaseRetract?.(p);
    }
  }

  /** Named instants that move the live view (capture bars, autotuning). */
  private liveMark(name: string, t: number): void {
    if (this.done || this.engineReadyT !== null) return;
    if (name === "capture_bar" && !this.liveDone.has("cuda_graph_capture") && !this.live.includes("cuda_graph_capture")) {
      this.liveEndBefore("cuda_graph_capture", t);
      this.liveStart("cuda_graph_capture", t);
    } else if (name === "autotune_start" && this.live.includes("model_warmup")) this.liveStart("autotuning", t);
    else if (name === "autotune_end") this.liveEnd("autotuning", t);
  }

  private skipped(p: string): boolean {
    if (this.eager && SKIPPED_WHEN_EAGER.includes(p)) return true;
    const platform = this.phases.get("bootstrap")?.attrs["vllm.startup.platform"];
    if (typeof platform === "string" && PLATFORMS_WITHOUT_GRAPHS.includes(platform) && SKIPPED_WHEN_EAGER.includes(p)) return true;
    if (this.runAttrs["vllm.startup.engine.v0"] === true && SKIPPED_BY_V0.includes(p)) return true;
    return false;
  }

  private nextPhase(after: string): string | null {
    const i = LIVE_SEQUENCE.indexOf(after as (typeof LIVE_SEQUENCE)[number]);
    if (i < 0) return null;
    for (let j = i + 1; j < LIVE_SEQUENCE.length; j++) {
      const p = LIVE_SEQUENCE[j];
      if (this.skipped(p) || LIVE_BY_MARKER_ONLY.includes(p)) continue;
      if (p === "server_start") return null; // begins only at engine readiness
      if (this.liveDone.has(p)) continue;
      return p;
    }
    return null;
  }

  /** Innermost phase in flight (live view). */
  currentPhase(): string | null {
    if (this.done) return null;
    for (let i = this.live.length - 1; i >= 0; i--) if (parentOf(this.live[i] as PhaseName)) return this.live[i];
    return this.live[this.live.length - 1] ?? null;
  }

  livePhases(): string[] {
    return [...this.live];
  }

  // ---- final result -------------------------------------------------------

  /** `estimated`: the start is a fallback (t0, or the start of a previous sub-step whose end the log lacks). */
  private segmentTimes(seg: (typeof BOOTSTRAP_SEGMENTS)[number]): { start?: number; end?: number; estimated?: boolean; fromPrev?: boolean; prevOpen?: boolean } {
    let start: number | undefined;
    let estimated = false;
    let fromPrev = false;
    let prevOpen = false;
    for (const b of seg.start) {
      let v: number | undefined;
      if (b === "@t0") { v = this.t0; estimated = true; }
      else if (b === "@prev") {
        const p = this.prevSegment(seg.phase);
        v = p.end ?? p.start;
        estimated = p.end === undefined || !!p.estimatedEnd;
        prevOpen = p.end === undefined;
      } else v = this.boundaries.get(b);
      if (v !== undefined) { start = v; fromPrev = b === "@prev" || b === "@t0"; break; }
      estimated = false;
    }
    if (start === undefined) return {};
    let end: number | undefined;
    for (const b of seg.end) {
      const v = b === "@load" ? this.firstBegin("model_loading") : this.boundaries.get(b);
      if (v !== undefined && v >= start && (end === undefined || v < end)) end = v;
    }
    return { start, end, estimated, fromPrev, prevOpen: fromPrev && prevOpen };
  }

  /** The previous sub-step (its start stands in for its end when the log does not show that). */
  private prevSegment(phase: string): { start?: number; end?: number; estimatedEnd?: boolean } {
    const i = BOOTSTRAP_SEGMENTS.findIndex((s) => s.phase === phase);
    if (i <= 0) return {};
    const prev = this.segmentTimes(BOOTSTRAP_SEGMENTS[i - 1]);
    return { start: prev.start, end: prev.end, estimatedEnd: prev.estimated && prev.end === prev.start };
  }

  private firstBegin(phase: string): number | undefined {
    let best: number | undefined;
    for (const e of this.phases.get(phase)?.ranks.values() ?? []) {
      if (e.begin !== undefined && (best === undefined || e.begin < best)) best = e.begin;
    }
    return best;
  }

  /**
   * The step the failure was raised in, from the frames of the failure's
   * tracebacks (src/logparse/traceback-frames.ts): the chain that gave the error
   * text first, then the others; within a chain the root cause first.
   */
  private failedPhaseFromFrames(): string | null {
    const f = this.failure;
    const chains = f ? [...this.chains.filter((c) => c.idx >= f.idx), ...this.chains.filter((c) => c.idx < f.idx).reverse()] : [...this.chains];
    for (const c of chains) for (const frames of c.frames) {
      const p = phaseOfFrames(frames);
      if (p) return p;
    }
    return null;
  }

  /** The error text: the exception that closed the traceback following the fatal marker. */
  private errorText(): string | null {
    const f = this.failure;
    if (!f) return this.chains[0]?.text ?? null;
    for (const c of this.chains) if (c.idx >= f.idx) return c.text;
    for (let i = this.chains.length - 1; i >= 0; i--) if (this.chains[i].idx >= f.idx - 50) return this.chains[i].text;
    return f.error;
  }

  /**
   * Builds the final phase list. `endT` is when the start-up ended for the
   * tracer (ready, failure, child exit or end of log); `exit` describes how a
   * wrapped child ended, when it did.
   */
  finish(endT: number, how: "eof" | "exit", exit?: { code: number | null; signal: string | null }): TrackerResult {
    const lastT = Math.max(this.lastT, endT);
    let outcome: Outcome;
    let error: string | null = null;
    let failT = this.failure?.t ?? null;
    if (this.readyT !== null) outcome = "ready";
    else if (this.engineReadyT !== null && !this.serverMode) outcome = "ready";
    else if (this.failure) {
      outcome = "failed";
      error = this.errorText();
    } else if (how === "exit" && exit && (exit.signal || (exit.code ?? 0) !== 0)) {
      outcome = "failed";
      error = this.chains[0]?.text ?? (exit.signal ? `killed by signal ${exit.signal}` : `exited with status ${exit.code}`);
      failT = endT;
    } else if (this.chains.length > 0) {
      outcome = "failed";
      error = this.errorText();
      failT = this.lastT;
    } else outcome = how === "exit" ? "exited" : "incomplete";
    if (outcome === "failed" && this.failure && !this.failure.announced) {
      this.failure.announced = true;
      this.events.onFailed?.(this.failure.t, error ?? this.failure.error);
    }
    const readyT = outcome === "ready" ? (this.readyT ?? this.engineReadyT) : null;
    const stopT = readyT ?? failT ?? lastT;

    const out: FinalPhase[] = [];
    const byName = new Map<string, FinalPhase>();
    const push = (p: FinalPhase) => {
      if (!(p.endMs >= p.startMs) || !Number.isFinite(p.durationS)) return;
      out.push(p);
      byName.set(p.name, p);
    };

    // Log-marked phases. A rank whose start is unknown (no begin marker, no
    // printed duration, nothing earlier in a log tail) does not count.
    for (const [name, s] of this.phases) {
      if (name === "bootstrap") continue;
      const ranks: { start: number; end: number; printed?: number; source: FinalPhase["source"]; implicit?: boolean }[] = [];
      for (const e of s.ranks.values()) {
        if (e.end === undefined) continue;
        let start: number | undefined;
        let source: FinalPhase["source"];
        if (e.printed !== undefined) { start = e.end - e.printed * 1000; source = "printed"; }
        else if (e.begin !== undefined) { start = e.begin; source = "begin"; }
        else { start = e.cursor; source = "cursor"; }
        if (start === undefined) continue;
        ranks.push({ start, end: e.end, printed: e.printed, source, implicit: e.implicit });
      }
      if (ranks.length === 0) continue;
      const startMs = Math.min(...ranks.map((r) => r.start));
      const endMs = Math.max(...ranks.map((r) => r.end));
      const printed = ranks.filter((r) => r.printed !== undefined).map((r) => r.printed!);
      const single = ranks.length === 1 && ranks[0].printed !== undefined;
      push({
        name, parent: parentOf(name as PhaseName), startMs, endMs,
        durationS: single ? ranks[0].printed! : round6((endMs - startMs) / 1000),
        status: "ok", printedS: printed.length ? Math.max(...printed) : undefined,
        rankDurationsS: printed, ranks: ranks.length, attrs: { ...s.attrs },
        source: ranks.find((r) => r.start === startMs)?.source,
        ...(ranks.every((r) => r.implicit) ? { implicitEnd: true } : {}),
      });
    }
    this.derive(out, byName);

    // Bootstrap and its sub-steps from boundaries. Bootstrap is finished only
    // once model loading began; it is reported only when the log shows its start.
    const load = this.firstBegin("model_loading") ?? byName.get("model_loading")?.startMs;
    // The engine initialised: whatever bootstrap was, it is over.
    const laterPhases = out.some((p) => !p.parent) || this.engineReadyT !== null;
    // Where the failure was raised, by the traceback's frames; log order otherwise.
    const framePhase = outcome === "failed" ? this.failedPhaseFromFrames() : null;
    const frameTop = framePhase ? (parentOf(framePhase as PhaseName) ?? framePhase) : null;
    const inBootstrap = frameTop === "bootstrap" || frameTop === "tokenizer_init";
    const bootFailed = outcome === "failed" && load === undefined && failT !== null && (frameTop === null ? !laterPhases : inBootstrap);
    const bootRunning = outcome !== "ready" && outcome !== "failed" && load === undefined && !laterPhases;
    // Failed in a later step whose start no marker shows: bootstrap ended at the last marker.
    const handover = outcome === "failed" && !bootFailed && load === undefined && !laterPhases && frameTop !== null
      && this.lastMarkerT !== undefined && failT !== null && this.lastMarkerT <= failT ? this.lastMarkerT : undefined;
    const bootEndAt = load ?? (bootFailed || bootRunning ? stopT : handover);
    // A log that starts inside bootstrap (a tail) and fails there, by the frames: bootstrap
    // runs from the log's first line, its start unknown.
    const bootStartUnknown = !this.startKnown && bootFailed && inBootstrap;
    if ((this.startKnown || bootStartUnknown) && bootEndAt !== undefined && bootEndAt >= this.t0) {
      // The sub-step in flight is the last one that started; earlier ones whose
      // end the log does not show are left out.
      let inFlight: string | null = null;
      let inFlightStart = this.t0;
      for (const seg of BOOTSTRAP_SEGMENTS) {
        const { start, end, fromPrev, prevOpen } = this.segmentTimes(seg);
        if (start === undefined || start > bootEndAt || (prevOpen && (end === undefined || end > bootEndAt))) continue;
        inFlight = null;
        if (end === undefined || end > bootEndAt) {
          if (load === undefined) { inFlight = seg.phase; inFlightStart = start; }
          continue;
        }
        // The frames name the failing step: steps after it have not begun.
        if (bootFailed && framePhase && parentOf(framePhase as PhaseName) === "bootstrap" && seg.phase === framePhase) {
          inFlight = seg.phase; inFlightStart = start;
          break;
        }
        // Empty and delimited only by its neighbours (e.g. import: nothing before the platform line).
        if (fromPrev && end === start) continue;
        push({ name: seg.phase, parent: "bootstrap", startMs: start, endMs: end, durationS: round6((end - start) / 1000),
          status: "ok", rankDurationsS: [], ranks: 1, attrs: {} });
      }
      const status = bootFailed ? "error" : bootRunning ? "running" : "ok";
      const err = bootFailed ? (error ?? "start-up failed") : undefined;
      // The failing step the frames name, when the log order gave another (or none).
      if (bootFailed && framePhase && parentOf(framePhase as PhaseName) === "bootstrap" && inFlight !== framePhase) {
        const seg = BOOTSTRAP_SEGMENTS.find((x) => x.phase === framePhase);
        const t = seg ? this.segmentTimes(seg) : {};
        const ends = out.filter((p) => p.parent === "bootstrap" && p.endMs <= bootEndAt).map((p) => p.endMs);
        inFlight = framePhase;
        inFlightStart = t.start !== undefined && t.start <= bootEndAt ? t.start : Math.max(this.t0, ...ends);
        // Steps the log placed after the failing one did not happen.
        for (let i = out.length - 1; i >= 0; i--) if (out[i].parent === "bootstrap" && out[i].startMs >= inFlightStart) { byName.delete(out[i].name); out.splice(i, 1); }
      }
      push({ name: "bootstrap", parent: null, startMs: this.t0, endMs: bootEndAt, durationS: round6((bootEndAt - this.t0) / 1000),
        status, ...(err ? { error: err } : {}), rankDurationsS: [], ranks: 1,
        attrs: { ...(this.phases.get("bootstrap")?.attrs ?? {}), ...(bootStartUnknown ? { "vllm.startup.phase.start_unknown": true } : {}) },
        // Ended by the next phase's begin line, not by a line of its own.
        ...(status === "ok" ? { implicitEnd: true } : {}) });
      if (inFlight && (status !== "ok" || handover !== undefined)) {
        push({ name: inFlight, parent: "bootstrap", startMs: inFlightStart, endMs: bootEndAt, durationS: round6((bootEndAt - inFlightStart) / 1000),
          status, ...(err ? { error: err } : {}), rankDurationsS: [], ranks: 1, attrs: {} });
      }
    }

    // server_start: engine ready -> HTTP ready.
    if (this.httpReadyT !== null && outcome === "ready") {
      const from = this.engineReadyT ?? Math.max(...out.filter((p) => !p.parent).map((p) => p.endMs), this.t0);
      if (from <= this.httpReadyT) {
        push({ name: "server_start", parent: null, startMs: from, endMs: this.httpReadyT, durationS: round6((this.httpReadyT - from) / 1000),
          status: "ok", rankDurationsS: [], ranks: 1, attrs: {} });
      }
    }

    const bootHandled = byName.get("bootstrap")?.status !== "ok" && byName.has("bootstrap");
    if (!bootHandled) {
      if (outcome === "failed" && failT !== null) {
        this.markInFlight(out, byName, failT, "error", error ?? "start-up failed", inBootstrap ? null : framePhase);
      }
      else if (outcome !== "ready") this.markInFlight(out, byName, stopT, "running");
    }

    // A phase begun without an end marker that a later phase followed ran until that one started.
    for (const [n, st] of this.phases) {
      if (byName.has(n) || parentOf(n as PhaseName) || n === "bootstrap") continue;
      const begin = this.firstBegin(n);
      if (begin === undefined) continue;
      const next = out.filter((p) => !p.parent && phaseOrder(p.name as PhaseName) > phaseOrder(n as PhaseName) && p.startMs >= begin)
        .reduce((m, p) => Math.min(m, p.startMs), Infinity);
      if (Number.isFinite(next)) {
        pushPhase(out, byName, { name: n, parent: null, startMs: begin, endMs: next, durationS: round6((next - begin) / 1000), status: "ok",
          rankDurationsS: [], ranks: st.ranks.size, attrs: { ...st.attrs }, source: "begin", implicitEnd: true });
      }
    }
    const laid = layoutPhases(out, {
      marks: this.marks, resolutionMs: LOG_RESOLUTION_MS, stampResolutionMs: this.msStamps ? 1 : LOG_RESOLUTION_MS,
      engineReadyT: this.engineReadyT,
      attrsOf: (name) => ({ ...(this.phases.get(name)?.attrs ?? {}) }),
    });
    out.length = 0;
    out.push(...laid);
    // Nothing may start before the start-up or run after it ended (printed
    // durations can reach before the first line of a partial log).
    const rootStart = Math.min(this.t0, ...out.map((p) => p.startMs));
    const rootEnd = Math.max(stopT, ...out.map((p) => p.endMs));
    out.sort((a, b) => a.startMs - b.startMs || phaseOrder(a.name as PhaseName) - phaseOrder(b.name as PhaseName));
    return {
      outcome, t0: rootStart, endT: rootEnd, readyT,
      engineVersion: this.engineVersion, model: this.model, parallel: this.parallel,
      runAttrs: { ...this.runAttrs, ...(this.chains.length ? { "vllm.startup.exceptions": this.chains.slice(0, 8).map((c) => c.text) } : {}) },
      error: outcome === "failed" ? error : null, phases: out,
      unexplainedS: unexplained(out, rootStart, rootEnd), gaps: gapsOf(out, rootStart, rootEnd), startKnown: this.startKnown,
    };
  }

  /**
   * The study's derivation (V1 at DEBUG level): "Memory profiling takes X"
   * covers the profiling forward pass *including* torch.compile and a cached
   * graph load, so the profiling run's own time is X minus those. The value is
   * kept as the profile run's printed duration; the layout places the span.
   */
  private derive(out: FinalPhase[], byName: Map<string, FinalPhase>): void {
    const pr = byName.get("profile_run");
    const tc = byName.get("torch_compile");
    const gc = byName.get("graph_compile");
    if (pr && pr.ranks === 1 && pr.printedS !== undefined && (tc || gc)) {
      const hit = gc?.attrs["vllm.startup.compile_cache.hit"] === true;
      const compile = tc ? (tc.printedS ?? tc.durationS) : 0;
      const d = pr.printedS - compile - (hit ? gc!.durationS : 0);
      if (d >= 0) {
        this.state("kv_cache_profiling").attrs["vllm.startup.kv_cache.memory_profiling_s"] = pr.printedS;
        const kv = byName.get("kv_cache_profiling");
        if (kv) kv.attrs["vllm.startup.kv_cache.memory_profiling_s"] = pr.printedS;
        pr.attrs["vllm.startup.kv_cache.memory_profiling_s"] = pr.printedS;
        pr.printedS = round6(d);
        pr.rankDurationsS = [round6(d)];
        pr.durationS = round6(d);
        pr.startMs = pr.endMs - d * 1000;
      }
    }
    // torch_compile from its sub-steps when vLLM printed no total of its own (the layout re-spans it).
    let top = tc;
    const subs = ["dynamo_transform", "graph_compile"].map((n) => byName.get(n)).filter(Boolean) as FinalPhase[];
    if (!top && subs.length) {
      const s = Math.min(...subs.map((p) => p.startMs));
      const e = Math.max(...subs.map((p) => p.endMs));
      top = { name: "torch_compile", parent: null, startMs: s, endMs: e, durationS: round6((e - s) / 1000), status: "ok",
        rankDurationsS: [], ranks: Math.max(...subs.map((p) => p.ranks)), attrs: { ...(this.phases.get("torch_compile")?.attrs ?? {}) }, source: "layout" };
      pushPhase(out, byName, top);
    }
    if (top && gc && gc.attrs["vllm.startup.compile_cache.hit"] !== undefined) {
      top.attrs["vllm.startup.compile_cache.hit"] = gc.attrs["vllm.startup.compile_cache.hit"];
    }
  }

  /**
   * Ends the phase in flight at `t` with status error (failure) or running
   * (log ended / child exited). It starts where the last finished phase ended;
   * a phase whose start the log does not show is left out.
   */
  private markInFlight(out: FinalPhase[], byName: Map<string, FinalPhase>, t: number, status: "error" | "running", error?: string, forced: string | null = null): void {
    if (forced) {
      this.markFailedStep(out, byName, t, error ?? "start-up failed", forced);
      return;
    }
    // A top-level phase begun on some process and not ended there.
    let name: string | null = null;
    let start: number | undefined;
    let source: FinalPhase["source"] = "cursor";
    // A later phase the log already showed means the begun one is over (it had no end marker).
    const latestShown = Math.max(-1, ...out.filter((p) => !p.parent).map((p) => phaseOrder(p.name as PhaseName)));
    for (const [n, s] of this.phases) {
      if (parentOf(n as PhaseName) || n === "bootstrap" || phaseOrder(n as PhaseName) < latestShown) continue;
      for (const e of s.ranks.values()) {
        if (e.begin === undefined || e.end !== undefined || e.begin > t) continue;
        if (name === null || phaseOrder(n as PhaseName) > phaseOrder(name as PhaseName)) { name = n; start = this.firstBegin(n); source = "begin"; }
      }
    }
    if (name === null && this.engineReadyT !== null && this.engineReadyT <= t && this.serverMode) {
      // Engine ready, HTTP server not (yet): server_start is in flight.
      name = "server_start";
      start = this.engineReadyT;
    }
    if (name === null) {
      // A phase known only from its sub-steps (no end line of its own) whose next step never
      // ended is still running: Dynamo done, graph compile under way.
      const open = out.find((p) => !p.parent && p.source === "layout" && ![...(this.phases.get(p.name)?.ranks.values() ?? [])].some((e) => e.end !== undefined)
        && out.some((c) => c.parent === p.name && LIVE_SUBSTEP_AFTER[c.name] !== undefined && !byName.has(LIVE_SUBSTEP_AFTER[c.name]) && c.endMs <= t));
      if (open && !out.some((p) => !p.parent && phaseOrder(p.name as PhaseName) > phaseOrder(open.name as PhaseName))) {
        const lastSub = out.filter((c) => c.parent === open.name).sort((a, b) => b.endMs - a.endMs)[0];
        const nextSub = LIVE_SUBSTEP_AFTER[lastSub.name];
        if (nextSub) {
          pushPhase(out, byName, { name: nextSub, parent: open.name, startMs: lastSub.endMs, endMs: t, durationS: round6((t - lastSub.endMs) / 1000),
            status, ...(status === "error" ? { error: error ?? "start-up failed" } : {}), rankDurationsS: [], ranks: 1, attrs: {}, source: "cursor" });
        }
        name = open.name;
      }
    }
    if (name === null) {
      // The phase after the last finished top-level one.
      let last = -1;
      let lastEnd: number | undefined;
      for (const p of out) {
        if (p.parent) continue;
        const i = LIVE_SEQUENCE.indexOf(p.name as (typeof LIVE_SEQUENCE)[number]);
        if (i > last) last = i;
        if (lastEnd === undefined || p.endMs > lastEnd) lastEnd = p.endMs;
      }
      if (last < 0) return;
      name = this.nextAfterIndex(last);
      if (name === null) return;
      start = lastEnd;
    }
    const err = status === "error" ? { error: error ?? "start-up failed" } : {};
    const existing = byName.get(name);
    if (existing) {
      existing.status = status;
      Object.assign(existing, err);
      if (t > existing.endMs) {
        existing.endMs = t;
        existing.durationS = round6((t - existing.startMs) / 1000);
      }
      return;
    }
    if (start === undefined || start > t) return;
    const parentName = parentOf(name as PhaseName);
    pushPhase(out, byName, { name, parent: parentName, startMs: start, endMs: t, durationS: round6((t - start) / 1000),
      status, ...err, rankDurationsS: [], ranks: 1, attrs: { ...(this.phases.get(name)?.attrs ?? {}) }, source });
  }

  /**
   * The failure was raised in `step` (from the traceback's frames): it and its
   * parent end at `t` with status error. A step the log never marked starts
   * where the last earlier phase ended, or at the log's first line when the log
   * starts inside it (a late sidecar, a rotated log, a tail).
   */
  private markFailedStep(out: FinalPhase[], byName: Map<string, FinalPhase>, t: number, error: string, step: string): void {
    const top = parentOf(step as PhaseName) ?? step;
    const ord = phaseOrder(top as PhaseName);
    const fail = (p: FinalPhase) => {
      p.status = "error";
      p.error = error;
      if (t > p.endMs) { p.endMs = t; p.durationS = round6((t - p.startMs) / 1000); }
    };
    let parent = byName.get(top);
    if (!parent) {
      let start: number | undefined;
      let known = false;
      for (const p of out) {
        if (p.parent || phaseOrder(p.name as PhaseName) >= ord || p.endMs > t) continue;
        if (start === undefined || p.endMs > start) { start = p.endMs; known = true; }
      }
      // Sub-steps of this phase that the log did show (e.g. the profiling run) start it.
      for (const p of out) if (p.parent === top && (start === undefined || p.startMs < start)) { start = p.startMs; known = true; }
      if (start === undefined) start = this.t0;
      parent = { name: top, parent: parentOf(top as PhaseName), startMs: Math.min(start, t), endMs: t, durationS: 0, status: "error", error,
        rankDurationsS: [], ranks: 1, attrs: { ...(this.phases.get(top)?.attrs ?? {}), ...(known ? {} : { "vllm.startup.phase.start_unknown": true }) },
        source: "cursor" };
      pushPhase(out, byName, parent);
    }
    fail(parent);
    if (step === top) return;
    const sub = byName.get(step);
    if (sub) { fail(sub); return; }
    let start = parent.startMs;
    for (const p of out) if (p.parent === top && p.endMs <= t && p.endMs > start) start = p.endMs;
    pushPhase(out, byName, { name: step, parent: top, startMs: start, endMs: t, durationS: round6((t - start) / 1000), status: "error", error,
      rankDurationsS: [], ranks: 1, attrs: { ...(this.phases.get(step)?.attrs ?? {}) }, source: "cursor" });
  }

  private nextAfterIndex(i: number): string | null {
    for (let j = i + 1; j < LIVE_SEQUENCE.length; j++) {
      const p = LIVE_SEQUENCE[j];
      if (this.skipped(p) || LIVE_BY_MARKER_ONLY.includes(p)) continue;
      if (p === "server_start" && this.engineReadyT === null) continue;
      return p;
    }
    return null;
  }

  // ---- snapshot helpers ---------------------------------------------------
  get info() {
    return { engineVersion: this.engineVersion, model: this.model, parallel: this.parallel, serverMode: this.serverMode, eager: this.eager };
  }
}

/** Seconds of [from, to] that no top-level phase covers. */
function unexplained(phases: FinalPhase[], from: number, to: number): number {
  const iv = phases.filter((p) => !p.parent).map((p) => [Math.max(from, p.startMs), Math.min(to, p.endMs)] as const)
    .filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let curA = -Infinity;
  let curB = -Infinity;
  for (const [a, b] of iv) {
    if (a > curB) {
      if (curB > curA) covered += curB - curA;
      curA = a;
      curB = b;
    } else if (b > curB) curB = b;
  }
  if (curB > curA) covered += curB - curA;
  return round6(Math.max(0, to - from - covered) / 1000);
}

/** The stretches of [from, to] no top-level phase covers, with the phases on either side. */
function gapsOf(phases: FinalPhase[], from: number, to: number): Gap[] {
  const top = phases.filter((p) => !p.parent).sort((a, b) => a.startMs - b.startMs);
  const out: Gap[] = [];
  let cursor = from;
  let after: string | null = null;
  for (const p of top) {
    if (p.startMs > cursor + 1) out.push({ startMs: cursor, endMs: p.startMs, after, before: p.name });
    if (p.endMs >= cursor) { cursor = p.endMs; after = p.name; }
  }
  if (to > cursor + 1) out.push({ startMs: cursor, endMs: to, after, before: null });
  return out;
}

function pushPhase(out: FinalPhase[], byName: Map<string, FinalPhase>, p: FinalPhase): void {
  if (!(p.endMs >= p.startMs)) return;
  out.push(p);
  byName.set(p.name, p);
}

/** `t` with its time of day replaced by a line's own "HH:MM:SS,mmm" (same day; ignored when far off). */
function ownTime(t: number, hms: string | undefined): number {
  const m = hms ? /^(\d\d):(\d\d):(\d\d),(\d{3})$/.exec(hms) : null;
  if (!m) return t;
  const day = Math.floor(t / 86_400_000) * 86_400_000;
  const own = day + ((+m[1] * 60 + +m[2]) * 60 + +m[3]) * 1000 + +m[4];
  return Math.abs(own - t) <= 120_000 ? own : t;
}

function num(s: string | undefined): number {
  if (s === undefined) return NaN;
  return Number(s.replace(/,/g, ""));
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function clip(s: string, n = 1000): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** Converts final phases to summary records (seconds since the start-up began). */
export function toRecords(r: TrackerResult, predicted: (name: string) => number | null = () => null): PhaseRecord[] {
  return r.phases.map((p) => ({
    name: p.name,
    parent: p.parent,
    start_s: round6((p.startMs - r.t0) / 1000),
    duration_s: p.durationS,
    status: p.status,
    predicted_s: predicted(p.name),
    ...(p.error ? { error: p.error } : {}),
    attributes: p.attrs,
  }));
}
