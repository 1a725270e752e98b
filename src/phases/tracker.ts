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
import { parentOf, phaseOrder, type PhaseName } from "./catalog.ts";
import { BOOTSTRAP_SEGMENTS, LIVE_SEQUENCE, SKIPPED_WHEN_EAGER } from "./segments.ts";
import type { Attributes, Outcome, PhaseRecord } from "../state/types.ts";

interface RankEntry {
  begin?: number;
  end?: number;
  printed?: number;
  /** Where the phase started when it has neither begin marker nor printed duration. */
  cursor?: number;
}

interface PhaseState {
  ranks: Map<string, RankEntry>;
  attrs: Attributes;
}

export interface TrackerEvents {
  onPhaseStart?(name: string, parent: string | null, tMs: number): void;
  onPhaseEnd?(name: string, tMs: number): void;
  onReady?(tMs: number): void;
  onFailed?(tMs: number, error: string): void;
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
  rankDurationsS: number[];
  ranks: number;
  attrs: Attributes;
}

const RANK_MAIN = "-";

export class PhaseTracker {
  readonly t0: number;
  private phases = new Map<string, PhaseState>();
  private boundaries = new Map<string, number>();
  private rankCursor = new Map<string, number>();
  private globalCursor: number;
  private tb = new TracebackWatcher();
  private scratch: Recognized[] = [];
  private exceptions: string[] = [];
  private failure: { t: number; error: string } | null = null;
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
  private liveDone = new Set<string>();
  private eager = false;

  constructor(t0Ms: number, private events: TrackerEvents = {}, opts: { serverMode?: boolean; eager?: boolean } = {}) {
    this.t0 = t0Ms;
    this.globalCursor = t0Ms;
    this.lastT = t0Ms;
    this.serverMode = !!opts.serverMode;
    this.eager = !!opts.eager;
    this.liveStart("bootstrap", t0Ms);
  }

  get done(): boolean {
    return this.readyT !== null || this.failure !== null;
  }

  /** Feed one physical line (already split, capped, any wrapper) that arrived at tMs. */
  feedRaw(raw: string, tMs: number): void {
    this.feed(parseLine(raw), tMs);
  }

  feed(line: LogLine, tMs: number): void {
    if (tMs > this.lastT) this.lastT = tMs;
    const key = line.proc ? `${line.proc} pid=${line.pid}` : RANK_MAIN;
    const hits = recognize(line, this.scratch);
    let tracebackStart = false;
    for (const h of hits) if (h.rule.kind === "traceback") tracebackStart = true;
    const exc = this.tb.feed(line, key, tracebackStart);
    if (exc && !this.done && this.exceptions.length < 8) this.exceptions.push(clip(exc.text));
    if (hits.length === 0) return;
    // After readiness only facts are collected; a later crash does not undo the start-up.
    for (const h of hits) this.apply(h.rule, h.m, key, tMs, line);
  }

  private apply(rule: Rule, m: RegExpExecArray, rank: string, t: number, line: LogLine): void {
    switch (rule.kind) {
      case "version":
        if (!this.engineVersion) this.engineVersion = m[1];
        if (rule.id === "api.version_banner.plain" && !this.model) this.model = m[2];
        return;
      case "model":
        if (!this.model && m[1]) this.model = m[1];
        return;
      case "server":
        this.serverMode = true;
        return;
      case "parallel":
        this.parallel = { tensor: +m[1], pipeline: +m[2], ...(m[3] ? { data: +m[3] } : {}) };
        return;
      case "boundary":
        if (this.done) return;
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
        if (this.done) return;
        this.begin(rule.phase!, rank, t);
        return;
      case "end":
        if (this.done) return;
        this.end(rule.phase!, rank, t, rule.dur ? num(m[rule.dur]) : undefined);
        this.addAttrs(rule, m, rule.phase!);
        return;
      case "engine_ready":
        this.collectAttrs(rule, m, this.runAttrs);
        if (this.done || this.engineReadyT !== null) return;
        this.engineReadyT = t;
        this.liveEnd("cuda_graph_capture", t);
        this.liveEnd("kv_cache_profiling", t);
        if (this.serverMode) this.liveStart("server_start", t);
        else this.markReady(t);
        return;
      case "ready":
        if (this.done) return;
        this.serverMode = true;
        this.httpReadyT = t;
        this.markReady(t);
        return;
      case "fatal":
        if (this.done) return;
        this.fail(t, this.exceptions[0] ?? clip(line.message.trim()));
        return;
      case "traceback":
        return;
    }
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

  private begin(phase: string, rank: string, t: number): void {
    const e = this.entry(phase, rank);
    if (e.begin === undefined) e.begin = t;
    if (phase === "model_loading") {
      this.liveEnd("bootstrap", t);
      this.liveStart("model_loading", t);
      this.liveStart("model_init", t);
    }
  }

  private end(phase: string, rank: string, t: number, printed: number | undefined): void {
    if (printed !== undefined && !(Number.isFinite(printed) && printed >= 0 && printed < 1e6)) printed = undefined;
    const e = this.entry(phase, rank);
    if (e.end !== undefined) {
      // A later line with a printed duration refines an earlier marker (V1 DEBUG
      // "Memory profiling takes" next to "Available KV cache memory").
      if (e.printed === undefined && printed !== undefined && t - e.end < 2000) {
        e.printed = printed;
        e.end = t;
      }
      return;
    }
    e.end = t;
    e.printed = printed;
    const parent = parentOf(phase as PhaseName);
    if (e.begin === undefined) {
      // Start where this process's previous phase ended.
      e.cursor = this.rankCursor.get(rank) ?? this.globalCursor;
      if (parent && this.phases.get(parent)?.ranks.get(rank)?.begin !== undefined) {
        e.cursor = Math.max(e.cursor, this.lastSubEnd(parent, rank) ?? this.phases.get(parent)!.ranks.get(rank)!.begin!);
      }
    }
    if (!parent) {
      this.rankCursor.set(rank, t);
      if (t > this.globalCursor) this.globalCursor = t;
    }
    this.liveAfterEnd(phase, t);
  }

  private lastSubEnd(parent: string, rank: string): number | undefined {
    let best: number | undefined;
    for (const [name, s] of this.phases) {
      if (parentOf(name as PhaseName) !== parent) continue;
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

  private fail(t: number, error: string): void {
    if (this.failure) return;
    this.failure = { t, error };
    this.events.onFailed?.(t, error);
  }

  // ---- live view ----------------------------------------------------------

  private liveStart(name: string, t: number): void {
    if (this.liveDone.has(name) || this.live.includes(name)) return;
    this.live.push(name);
    this.events.onPhaseStart?.(name, parentOf(name as PhaseName), t);
  }

  private liveEnd(name: string, t: number): void {
    const i = this.live.indexOf(name);
    if (i < 0) return;
    this.live.splice(i, 1);
    this.liveDone.add(name);
    this.events.onPhaseEnd?.(name, t);
  }

  private liveBoundary(): void {
    const t = this.lastT;
    for (const seg of BOOTSTRAP_SEGMENTS) {
      const s = this.segmentTimes(seg);
      if (s.start !== undefined && s.end === undefined && !this.liveDone.has(seg.phase)) this.liveStart(seg.phase, s.start);
      if (s.end !== undefined) {
        if (!this.liveDone.has(seg.phase) && !this.live.includes(seg.phase) && s.start !== undefined) this.liveStart(seg.phase, s.start);
        this.liveEnd(seg.phase, t);
      }
    }
  }

  private liveAfterEnd(phase: string, t: number): void {
    // Sub-steps first, then their parent, then whatever comes next.
    if (phase === "load_weights") this.liveEnd("load_weights", t);
    if (phase === "model_init") {
      this.liveEnd("model_init", t);
      this.liveStart("load_weights", t);
    }
    if (phase === "dynamo_transform") {
      this.liveEnd("dynamo_transform", t);
      this.liveStart("graph_compile", t);
    }
    if (parentOf(phase as PhaseName)) return;
    for (const p of [...this.live]) if (parentOf(p as PhaseName) === phase) this.liveEnd(p, t);
    this.liveEnd(phase, t);
    if (phase === "model_loading") this.liveEnd("bootstrap", t);
    const next = this.nextPhase(phase);
    if (next) {
      this.liveStart(next, t);
      if (next === "torch_compile") this.liveStart("dynamo_transform", t);
    }
  }

  private nextPhase(after: string): string | null {
    const i = LIVE_SEQUENCE.indexOf(after as (typeof LIVE_SEQUENCE)[number]);
    if (i < 0) return null;
    for (let j = i + 1; j < LIVE_SEQUENCE.length; j++) {
      const p = LIVE_SEQUENCE[j];
      if (this.eager && SKIPPED_WHEN_EAGER.includes(p)) continue;
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

  private segmentTimes(seg: (typeof BOOTSTRAP_SEGMENTS)[number]): { start?: number; end?: number } {
    let start: number | undefined;
    for (const b of seg.start) {
      const v = b === "@t0" ? this.t0 : b === "@prev" ? this.prevSegmentEnd(seg.phase) : this.boundaries.get(b);
      if (v !== undefined) { start = v; break; }
    }
    if (start === undefined) return {};
    let end: number | undefined;
    for (const b of seg.end) {
      const v = b === "@load" ? this.firstBegin("model_loading") : this.boundaries.get(b);
      if (v !== undefined && v >= start && (end === undefined || v < end)) end = v;
    }
    return { start, end };
  }

  private prevSegmentEnd(phase: string): number | undefined {
    const i = BOOTSTRAP_SEGMENTS.findIndex((s) => s.phase === phase);
    if (i <= 0) return undefined;
    return this.segmentTimes(BOOTSTRAP_SEGMENTS[i - 1]).end;
  }

  private firstBegin(phase: string): number | undefined {
    let best: number | undefined;
    for (const e of this.phases.get(phase)?.ranks.values() ?? []) {
      if (e.begin !== undefined && (best === undefined || e.begin < best)) best = e.begin;
    }
    return best;
  }

  /**
   * Builds the final phase list. `endT` is when the start-up ended for the
   * tracer (ready, failure, child exit or end of log); `exit` describes how a
   * wrapped child ended, when it did.
   */
  finish(endT: number, how: "eof" | "exit", exit?: { code: number | null; signal: string | null }): TrackerResult {
    const lastT = Math.max(this.lastT, endT);
    let outcome: Outcome;
    let error = this.failure?.error ?? null;
    let failT = this.failure?.t ?? null;
    if (this.readyT !== null) outcome = "ready";
    else if (this.engineReadyT !== null && !this.serverMode) outcome = "ready";
    else if (this.failure) outcome = "failed";
    else if (how === "exit" && exit && (exit.signal || (exit.code ?? 0) !== 0)) {
      outcome = "failed";
      error = this.exceptions[0] ?? (exit.signal ? `killed by signal ${exit.signal}` : `exited with status ${exit.code}`);
      failT = endT;
    } else if (this.exceptions.length > 0) {
      outcome = "failed";
      error = this.exceptions[0];
      failT = this.lastT;
    } else outcome = how === "exit" ? "exited" : "incomplete";
    const readyT = outcome === "ready" ? (this.readyT ?? this.engineReadyT) : null;
    const stopT = readyT ?? failT ?? lastT;

    const out: FinalPhase[] = [];
    const byName = new Map<string, FinalPhase>();
    const push = (p: FinalPhase) => {
      if (!(p.endMs >= p.startMs) || !Number.isFinite(p.durationS)) return;
      out.push(p);
      byName.set(p.name, p);
    };

    // Log-marked phases.
    for (const [name, s] of this.phases) {
      if (name === "bootstrap") continue;
      const ranks: { start: number; end: number; printed?: number }[] = [];
      for (const e of s.ranks.values()) {
        if (e.end === undefined) continue;
        let start: number;
        if (e.printed !== undefined) start = e.end - e.printed * 1000;
        else if (e.begin !== undefined) start = e.begin;
        else start = e.cursor ?? e.end;
        ranks.push({ start, end: e.end, printed: e.printed });
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
      });
    }
    this.derive(byName, push);

    // Bootstrap and its sub-steps from boundaries.
    let bootEnd: number | undefined;
    for (const seg of BOOTSTRAP_SEGMENTS) {
      const { start, end } = this.segmentTimes(seg);
      if (start === undefined || end === undefined) continue;
      push({ name: seg.phase, parent: "bootstrap", startMs: start, endMs: end, durationS: round6((end - start) / 1000),
        status: "ok", rankDurationsS: [], ranks: 1, attrs: {} });
      bootEnd = Math.max(bootEnd ?? end, end);
    }
    const load = this.firstBegin("model_loading") ?? byName.get("model_loading")?.startMs;
    if (load !== undefined) bootEnd = Math.max(bootEnd ?? load, load);
    if (bootEnd !== undefined && bootEnd > this.t0) {
      push({ name: "bootstrap", parent: null, startMs: this.t0, endMs: bootEnd, durationS: round6((bootEnd - this.t0) / 1000),
        status: "ok", rankDurationsS: [], ranks: 1, attrs: { ...(this.phases.get("bootstrap")?.attrs ?? {}) } });
    }

    // server_start: engine ready -> HTTP ready.
    if (this.httpReadyT !== null && outcome === "ready") {
      const from = this.engineReadyT ?? Math.max(...out.filter((p) => !p.parent).map((p) => p.endMs), this.t0);
      if (from <= this.httpReadyT) {
        push({ name: "server_start", parent: null, startMs: from, endMs: this.httpReadyT, durationS: round6((this.httpReadyT - from) / 1000),
          status: "ok", rankDurationsS: [], ranks: 1, attrs: {} });
      }
    }

    if (outcome === "failed" && failT !== null) this.markFailedPhase(out, byName, failT, error ?? "start-up failed");
    else if (outcome !== "ready") this.markRunning(out, byName, stopT);

    // Nothing may start before the start-up or run after it ended (printed
    // durations can reach before the first line of a partial log).
    const rootStart = Math.min(this.t0, ...out.map((p) => p.startMs));
    out.sort((a, b) => a.startMs - b.startMs || phaseOrder(a.name as PhaseName) - phaseOrder(b.name as PhaseName));
    return {
      outcome, t0: rootStart, endT: Math.max(stopT, ...out.map((p) => p.endMs)), readyT,
      engineVersion: this.engineVersion, model: this.model, parallel: this.parallel,
      runAttrs: { ...this.runAttrs, ...(this.exceptions.length ? { "vllm.startup.exceptions": [...this.exceptions] } : {}) },
      error: outcome === "failed" ? error : null, phases: out,
    };
  }

  /** Phases derived from others (the study's rules, see README). */
  private derive(byName: Map<string, FinalPhase>, push: (p: FinalPhase) => void): void {
    const kv = byName.get("kv_cache_profiling");
    const kvState = this.phases.get("kv_cache_profiling");
    if (kv && kvState && kv.ranks === 1) {
      const e = [...kvState.ranks.values()].find((x) => x.end !== undefined)!;
      // V1 profiles memory with a forward pass that includes torch.compile:
      // vLLM's "Memory profiling takes X" then covers compile and cache load.
      const tc = byName.get("torch_compile");
      const gc = byName.get("graph_compile");
      if (e.printed !== undefined && tc) {
        const hit = gc?.attrs["vllm.startup.compile_cache.hit"] === true;
        const d = e.printed - (tc.printedS ?? tc.durationS) - (hit ? gc!.durationS : 0);
        if (d >= 0) {
          kv.durationS = round6(d);
          kv.startMs = kv.endMs - d * 1000;
          kv.attrs["vllm.startup.kv_cache.memory_profiling_s"] = e.printed;
        }
      }
    }
    // model_init: from "Starting to load model" to the start of weight loading.
    const ml = byName.get("model_loading");
    const lw = byName.get("load_weights");
    if (ml && lw && !byName.has("model_init")) {
      const begin = this.firstBegin("model_loading") ?? ml.startMs;
      const start = Math.min(begin, ml.startMs);
      if (lw.startMs > start) {
        push({ name: "model_init", parent: "model_loading", startMs: start, endMs: lw.startMs,
          durationS: round6((lw.startMs - start) / 1000), status: "ok", rankDurationsS: [], ranks: lw.ranks, attrs: {} });
      }
    }
    // torch_compile from its sub-steps when vLLM printed no total.
    if (!byName.has("torch_compile")) {
      const subs = ["dynamo_transform", "graph_compile"].map((n) => byName.get(n)).filter(Boolean) as FinalPhase[];
      if (subs.length) {
        const s = Math.min(...subs.map((p) => p.startMs));
        const e2 = Math.max(...subs.map((p) => p.endMs));
        push({ name: "torch_compile", parent: null, startMs: s, endMs: e2, durationS: round6((e2 - s) / 1000), status: "ok",
          rankDurationsS: [], ranks: Math.max(...subs.map((p) => p.ranks)), attrs: {} });
      }
    }
    const tc = byName.get("torch_compile");
    const gc = byName.get("graph_compile");
    if (tc && gc && gc.attrs["vllm.startup.compile_cache.hit"] !== undefined) {
      tc.attrs["vllm.startup.compile_cache.hit"] = gc.attrs["vllm.startup.compile_cache.hit"];
    }
    if (tc && this.phases.get("torch_compile")?.attrs) Object.assign(tc.attrs, this.phases.get("torch_compile")!.attrs);
  }

  /** Ends the phase in flight at failure time with status error. */
  private markFailedPhase(out: FinalPhase[], byName: Map<string, FinalPhase>, failT: number, error: string): void {
    const name = this.inFlightAt(byName);
    const existing = byName.get(name);
    const parentName = parentOf(name as PhaseName);
    if (existing) {
      existing.status = "error";
      existing.error = error;
      return;
    }
    const start = this.firstBegin(name) ?? Math.min(failT, this.globalCursor);
    push(out, byName, { name, parent: parentName, startMs: start, endMs: failT, durationS: round6((failT - start) / 1000),
      status: "error", error, rankDurationsS: [], ranks: 1, attrs: {} });
    // A failing sub-step fails its parent too.
    if (parentName) {
      const p = byName.get(parentName);
      if (p) { p.status = "error"; p.error = error; }
      else {
        const ps = this.firstBegin(parentName) ?? start;
        push(out, byName, { name: parentName, parent: null, startMs: ps, endMs: failT, durationS: round6((failT - ps) / 1000),
          status: "error", error, rankDurationsS: [], ranks: 1, attrs: {} });
      }
    }
  }

  /** Marks the phase still in flight when the log ended (incomplete / exited). */
  private markRunning(out: FinalPhase[], byName: Map<string, FinalPhase>, endT: number): void {
    const name = this.inFlightAt(byName);
    if (byName.has(name)) return;
    const start = this.firstBegin(name) ?? this.globalCursor;
    if (endT < start) return;
    push(out, byName, { name, parent: parentOf(name as PhaseName), startMs: start, endMs: endT,
      durationS: round6((endT - start) / 1000), status: "running", rankDurationsS: [], ranks: 1, attrs: {} });
  }

  private inFlightAt(byName: Map<string, FinalPhase>): string {
    // A begun but unfinished phase, innermost first.
    for (const [name, s] of this.phases) {
      if (name === "model_loading" && ![...s.ranks.values()].some((e) => e.end !== undefined) && this.firstBegin(name) !== undefined) {
        return "model_loading";
      }
    }
    // Otherwise the phase after the last finished top-level phase.
    let last = -1;
    for (const p of byName.values()) {
      if (p.parent) continue;
      const i = LIVE_SEQUENCE.indexOf(p.name as (typeof LIVE_SEQUENCE)[number]);
      if (i > last) last = i;
    }
    if (last < 0) return "bootstrap";
    const next = this.nextAfterIndex(last);
    return next ?? LIVE_SEQUENCE[last];
  }

  private nextAfterIndex(i: number): string | null {
    for (let j = i + 1; j < LIVE_SEQUENCE.length; j++) {
      const p = LIVE_SEQUENCE[j];
      if (this.eager && SKIPPED_WHEN_EAGER.includes(p)) continue;
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

function push(out: FinalPhase[], byName: Map<string, FinalPhase>, p: FinalPhase): void {
  if (!(p.endMs >= p.startMs)) return;
  out.push(p);
  byName.set(p.name, p);
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
