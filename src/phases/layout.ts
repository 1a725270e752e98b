// The layout step: turns what the log said (phases as their markers placed
// them, plus named instants) into the span tree, with its invariants as
// postconditions (src/phases/invariants.ts): sub-steps inside their parent,
// top-level phases that do not overlap, and the time between vLLM's markers
// owned by the step vLLM was running. Pure: the same input gives the same tree
// in wrap, follow and import mode.
//
// vLLM's printed durations stay the truth for *duration* (`printedS`, the
// span attribute vllm.startup.phase.printed_duration_s); placement comes from
// the markers. Where they disagree (vLLM's timestamps have whole seconds, its
// timers do not start at its markers), a parent widens to its children, a
// top-level phase placed from a printed value moves later by less than
// `resolutionMs` or else starts where the previous one ended, and the printed
// value is kept beside the span.
import { phaseOrder, RUNS_INSIDE, type PhaseName } from "./catalog.ts";
import { captureStep } from "./capture-modes.ts";
import type { FinalPhase, Mark } from "./tracker.ts";
import type { Attributes } from "../state/types.ts";

export interface LayoutContext {
  marks: ReadonlyMap<string, readonly Mark[]>;
  /** How far an instant may move to keep nesting (printed values and whole-second markers disagree by up to a second). */
  resolutionMs: number;
  /** Resolution of the log lines' own timestamps: 1000 for vLLM's whole seconds, 1 for millisecond stamps. */
  stampResolutionMs: number;
  /** The engine's "init engine … took" line, when seen. */
  engineReadyT: number | null;
  /** Attributes the tracker collected for a phase the layout creates. */
  attrsOf(name: string): Attributes;
}

const EPS = 1;
/** Parents vLLM times by their steps: their span is their steps' hull, whatever their own total says. */
const SPANNED_BY_STEPS: readonly string[] = ["torch_compile"];
const order = (n: string) => phaseOrder(n as PhaseName);

export function layoutPhases(input: readonly FinalPhase[], ctx: LayoutContext): FinalPhase[] {
  const ps: FinalPhase[] = input.map((p) => ({ ...p, attrs: { ...p.attrs }, rankDurationsS: [...p.rankDurationsS] }));
  const by = new Map(ps.map((p) => [p.name, p]));
  const add = (p: FinalPhase) => { ps.push(p); by.set(p.name, p); return p; };
  const r = ctx.resolutionMs;
  const kvHadOwnEnd = by.has("kv_cache_profiling") && by.get("kv_cache_profiling")!.status === "ok";

  // A parent vLLM times by its steps spans them (torch_compile: its printed total can
  // exclude a cache load); a parent no line of its own marked (the profiling run came,
  // the sizing lines did not; a JIT warm-up) is made to span its steps.
  for (const parent of new Set(ps.map((c) => c.parent).filter((p): p is string => p !== null))) {
    if (SPANNED_BY_STEPS.includes(parent) || !by.has(parent)) spanSubSteps(parent, ps.filter((c) => c.parent === parent).map((c) => c.name));
  }
  nestContained();
  endAtNextStart();
  fitChildren();
  separateTopLevel();
  startAfterPrevious();
  gapSteps();
  closeStampGaps();
  finalClamp();
  return ps;

  /** A parent that vLLM times by its sub-steps spans them (its printed total is kept). */
  function spanSubSteps(parent: string, subs: string[]): void {
    const kids = subs.map((n) => by.get(n)).filter((p): p is FinalPhase => !!p);
    if (!kids.length) return;
    const s = Math.min(...kids.map((k) => k.startMs));
    let e = Math.max(...kids.map((k) => k.endMs));
    let p = by.get(parent);
    if (!p) {
      // No line of its own: it starts where the previous phase ended (startAfterPrevious), like a cursor phase.
      add({ name: parent, parent: null, startMs: s, endMs: e, durationS: 0, status: "ok", rankDurationsS: [],
        ranks: Math.max(...kids.map((k) => k.ranks)), attrs: ctx.attrsOf(parent), source: "cursor" });
      return;
    }
    // A failure or a log that ended inside the parent keeps its end.
    if (p.status !== "ok") e = Math.max(e, p.endMs);
    p.startMs = s;
    p.endMs = e;
    p.source = "layout";
  }

  /** A top-level phase that vLLM runs during another (catalog RUNS_INSIDE) and that lies inside it becomes its sub-step. */
  function nestContained(): void {
    for (const a of ps) {
      const homes = RUNS_INSIDE[a.name];
      if (a.parent || !homes) continue;
      for (const h of homes) {
        const b = by.get(h);
        if (b && !b.parent && b.startMs <= a.startMs + EPS && a.endMs <= b.endMs + EPS) { a.parent = b.name; break; }
      }
    }
  }

  /**
   * A phase with a begin marker and no end marker of its own (encoder
   * profiling) ran until the next phase started, not until whatever later line
   * happened to close it.
   */
  function endAtNextStart(): void {
    for (const p of ps) {
      if (p.parent || !p.implicitEnd) continue;
      const next = ps.filter((q) => !q.parent && q !== p && order(q.name) > order(p.name) && q.startMs >= p.startMs)
        .reduce((m, q) => Math.min(m, q.startMs), Infinity);
      if (next < p.endMs) p.endMs = Math.max(p.startMs, next);
    }
  }

  /**
   * A parent spans its children. vLLM starts a parent's timer after its begin
   * marker and stops it before its end line (the study's millisecond logs show
   * "Model loading took" starting after weight loading did), so the children's
   * printed spans are kept and the parent widens; its printed value stays.
   */
  function fitChildren(): void {
    for (const c of ps) {
      const p = c.parent ? by.get(c.parent) : undefined;
      if (!p) continue;
      if (c.startMs < p.startMs) p.startMs = c.startMs;
      if (c.endMs > p.endMs) p.endMs = c.endMs;
    }
  }

  /**
   * Top-level phases follow each other. Where one starts before the previous
   * ended (several ranks, a printed duration reaching back past a marker), it
   * moves later by less than the resolution when its start came from a
   * printed value, else it starts where the previous one ended.
   */
  function separateTopLevel(): void {
    const top = ps.filter((p) => !p.parent).sort((a, b) => a.startMs - b.startMs || order(a.name) - order(b.name));
    let prevEnd = -Infinity;
    for (const p of top) {
      if (p.startMs < prevEnd - EPS) {
        const d = prevEnd - p.startMs;
        if (d <= r && p.source === "printed") shiftWithChildren(p, d);
        else {
          p.startMs = prevEnd;
          if (p.endMs < p.startMs) p.endMs = p.startMs;
        }
      }
      prevEnd = Math.max(prevEnd, p.endMs);
    }
  }

  /**
   * A top-level phase with neither a begin marker nor a printed duration starts
   * where the previous one ended: the forward pass after compilation belongs to
   * kv_cache_profiling (the study's definition), not to nobody.
   */
  function startAfterPrevious(): void {
    for (const p of ps) {
      if (p.parent || (p.source !== "cursor" && p.source !== undefined)) continue;
      if (p.name === "bootstrap" || p.name === "server_start") continue;
      const prev = previousEnd(p);
      if (prev !== undefined && prev < p.startMs) {
        p.startMs = prev;
        for (const c of ps) if (c.parent === p.name && c.source === "cursor") c.startMs = Math.max(prev, Math.min(c.startMs, p.startMs));
      }
    }
  }

  function previousEnd(p: FinalPhase): number | undefined {
    let best: number | undefined;
    for (const q of ps) {
      if (q === p || q.parent || order(q.name) >= order(p.name) || q.endMs > p.startMs + EPS) continue;
      if (best === undefined || q.endMs > best) best = q.endMs;
    }
    return best;
  }

  function gapSteps(): void {
    const ml = by.get("model_loading");
    const lw = by.get("load_weights");
    // model_init: "Starting to load model" to the start of weight loading, unless vLLM printed it.
    if (ml && lw && !by.has("model_init") && lw.startMs >= ml.startMs) {
      add({ name: "model_init", parent: "model_loading", startMs: ml.startMs, endMs: lw.startMs, durationS: 0, status: "ok",
        rankDurationsS: [], ranks: lw.ranks, attrs: {}, source: "layout" });
    }
    const kv = by.get("kv_cache_profiling");
    // Only sizing lines (V0 without "Memory profiling takes", CPU): the whole phase is the profiling run.
    if (kv && !by.has("profile_run") && kv.status === "ok") {
      add({ name: "profile_run", parent: "kv_cache_profiling", startMs: kv.startMs, endMs: kv.endMs, durationS: 0, status: "ok",
        rankDurationsS: [], ranks: kv.ranks, attrs: {}, source: "layout" });
    }
    const pr = by.get("profile_run");
    if (kv && pr) {
      if (pr.source !== "printed") pr.startMs = kv.startMs;
      if (kvHadOwnEnd && kv.endMs >= pr.endMs) {
        add({ name: "kv_cache_allocation", parent: "kv_cache_profiling", startMs: pr.endMs, endMs: kv.endMs, durationS: 0,
          status: "ok", rankDurationsS: [], ranks: kv.ranks, attrs: {}, source: "layout" });
      }
    }
    // model_warmup: vLLM's "warmup model" between the KV cache and graph capture (or engine readiness).
    const mw0 = by.get("model_warmup");
    if (kv && kv.status === "ok" && (!mw0 || mw0.source !== "begin")) {
      const later = ps.filter((p) => !p.parent && order(p.name) > order("model_warmup") && p.startMs >= kv.endMs - EPS);
      let next = later.length ? Math.min(...later.map((p) => p.startMs)) : undefined;
      if (next === undefined && ctx.engineReadyT !== null && ctx.engineReadyT >= kv.endMs) next = ctx.engineReadyT;
      if (next !== undefined && next > kv.endMs + EPS) {
        const mw = mw0 ?? add({ name: "model_warmup", parent: null, startMs: kv.endMs, endMs: next, durationS: 0, status: "ok",
          rankDurationsS: [], ranks: 1, attrs: ctx.attrsOf("model_warmup"), source: "layout" });
        mw.startMs = Math.min(mw.startMs, kv.endMs);
        mw.endMs = Math.max(mw.endMs, next);
      }
    }
    const sizes = ctx.marks.get("warmup_compile_size")?.length;
    const mwNow = by.get("model_warmup");
    if (mwNow && sizes) mwNow.attrs["vllm.startup.warmup.compile_sizes"] = sizes;
    autotuning();
    captureSteps();
  }

  function autotuning(): void {
    const s = ctx.marks.get("autotune_start")?.[0]?.t;
    const ends = ctx.marks.get("autotune_end") ?? [];
    if (s === undefined) return;
    const e = ends.filter((m) => m.t >= s).pop()?.t;
    if (e === undefined) return;
    // FlashInfer autotunes in vLLM's kernel warm-up (compile_or_warm_up_model).
    const home = by.get("model_warmup");
    if (!home || e < home.startMs - r || s > home.endMs + r) return;
    add({ name: "autotuning", parent: home.name, startMs: Math.max(s, home.startMs), endMs: Math.min(e, home.endMs), durationS: 0,
      status: "ok", rankDurationsS: [], ranks: 1, attrs: { "vllm.startup.autotuning.source": "flashinfer" }, source: "layout" });
  }

  /** One step per capture mode, from each bar's final state (elapsed time), in order, inside the capture. */
  function captureSteps(): void {
    const cg = by.get("cuda_graph_capture");
    const bars = ctx.marks.get("capture_bar");
    if (!cg || !bars?.length) return;
    const last = new Map<string, { step: string; label: string; total: number; secs: number }>();
    for (const m of bars) {
      if (m.t < cg.startMs - r || m.t > cg.endMs + r) continue;
      const label = m.groups[0];
      const step = captureStep(label);
      if (!step) continue;
      // tqdm's elapsed time: [MM:SS<…] or [H:MM:SS<…].
      const [h, mm, ss] = [m.groups[4], m.groups[5], m.groups[6]].map((x) => (x === undefined ? 0 : Number(x)));
      last.set(step, { step, label: label!.trim(), total: Number(m.groups[3]), secs: h * 3600 + mm * 60 + ss });
    }
    if (!last.size) return;
    const steps = [...last.values()].filter((x) => !by.has(x.step));
    const span = cg.endMs - cg.startMs;
    const sum = steps.reduce((a, x) => a + x.secs * 1000, 0);
    const scale = sum > span && sum > 0 ? span / sum : 1;
    let at = cg.startMs;
    for (const x of steps) {
      const d = x.secs * 1000 * scale;
      add({ name: x.step, parent: "cuda_graph_capture", startMs: at, endMs: at + d, durationS: 0, status: "ok",
        printedS: x.secs, rankDurationsS: [], ranks: 1, source: "layout",
        attrs: { "vllm.startup.cuda_graph.mode": x.label, "vllm.startup.cuda_graph.sizes": x.total } });
      at += d;
    }
  }

  /**
   * A gap between two top-level phases shorter than the timestamps' resolution
   * is not time nobody owns: the earlier phase's end line only says "within
   * this second", so it ends where the next one starts.
   */
  function closeStampGaps(): void {
    const top = ps.filter((p) => !p.parent).sort((a, b) => a.startMs - b.startMs || order(a.name) - order(b.name));
    for (let i = 1; i < top.length; i++) {
      const a = top[i - 1];
      const b = top[i];
      const gap = b.startMs - a.endMs;
      // (+100 ms: live, lines of consecutive seconds arrive with the pipe's and the scheduler's jitter)
      if (gap > EPS && gap <= ctx.stampResolutionMs * 1.1 + EPS && a.status === "ok") a.endMs = b.startMs;
    }
  }

  /** The postcondition by construction: children inside parents, durations equal to spans. */
  function finalClamp(): void {
    for (const c of ps) {
      const p = c.parent ? by.get(c.parent) : undefined;
      if (p) {
        c.startMs = Math.min(Math.max(c.startMs, p.startMs), p.endMs);
        c.endMs = Math.min(Math.max(c.endMs, c.startMs), p.endMs);
      }
      if (c.endMs < c.startMs) c.endMs = c.startMs;
      c.durationS = round6((c.endMs - c.startMs) / 1000);
      if (c.printedS !== undefined) c.attrs["vllm.startup.phase.printed_duration_s"] = c.printedS;
    }
  }

  function shift(p: FinalPhase, d: number): void {
    p.startMs += d;
    p.endMs += d;
  }

  function shiftWithChildren(p: FinalPhase, d: number): void {
    shift(p, d);
    for (const c of ps) if (c.parent === p.name) shift(c, d);
  }
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
