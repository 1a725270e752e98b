// Evaluates the rules table (./rules.ts) against one recorded start-up and
// returns the ranked advice: which lever, on which phase, how many seconds it
// would save, the evidence from this trace and what to do.
//
// Savings add up: a lever saves at most its phase's duration, and levers on
// the same phase are applied one after the other (rule `order`), each saving
// only on what the previous ones left. A failed start-up's own fix comes first;
// the rest are ranked by saving.
import type { PhaseRecord } from "../state/types.ts";
import { DEFAULT_COEFFICIENTS, type DesignInput } from "../predict/model.ts";
import { FIGURES, RULES, type AfterModel, type Condition, type Lever, type Part, type Rule } from "./rules.ts";
import { phaseFacts, phaseOf, runFacts, type AdviceContext, type Facts, type StartupRecord } from "./facts.ts";
import { featuresFromRecord, predictWarmCompile } from "./warm-compile.ts";

export interface AdviceItem {
  lever: Lever;
  phase: string;
  /** Seconds this lever would take off this start-up (never more than the phase took). */
  saving_s: number;
  evidence: string;
  action: string;
  /** The phase's measured duration and its predicted duration with the lever pulled (and the levers before it). */
  phase_s: number;
  after_s: number;
  source: string;
}

export interface AdviseOptions extends AdviceContext {
  /** The rules to evaluate (tests); the shipped table by default. */
  rules?: Rule[];
}

const r2 = (x: number) => Math.round(x * 100) / 100;
/** Savings are rounded down, so rounded savings still add up to no more than the phase. */
const floor2 = (x: number) => Math.floor(x * 100 + 1e-9) / 100;

export function test(c: Condition, facts: Facts): boolean {
  const v = facts[c.fact] ?? null;
  if ("absent" in c) return v === null;
  if (v === null) return false;
  if ("present" in c) return true;
  if ("is" in c) return v === c.is;
  if ("in" in c) return c.in.includes(v);
  if (typeof v !== "number") return false;
  if ("gte" in c) return v >= c.gte;
  return v > c.gt;
}

const all = (cs: Condition[] | undefined, facts: Facts) => (cs ?? []).every((c) => test(c, facts));

function fill(parts: Part[], facts: Facts): string {
  return parts.filter((p) => all(p.when, facts)).map((p) => p.text.replace(/\{([\w.]+)\}/g, (_, k: string) => {
    const v = facts[k];
    return v === null || v === undefined ? "?" : typeof v === "number" ? String(r2(v)) : String(v);
  })).join("").trim();
}

/** The phase a rule acts on in this start-up, if any. */
function targetPhase(rule: Rule, rec: StartupRecord): PhaseRecord | undefined {
  if (rule.phases[0] === "@failed") {
    const failed = rec.phases.filter((p) => p.status === "error" && p.duration_s !== null);
    // The innermost failed phase that ran (a sub-step over its parent).
    return failed.find((p) => p.parent !== null) ?? failed[failed.length - 1];
  }
  const present = rule.phases.map((n) => phaseOf(rec, n)).filter((p): p is PhaseRecord => !!p && p.duration_s !== null);
  if (rule.pick === "longest") return present.sort((a, b) => b.duration_s! - a.duration_s!)[0];
  return present[0];
}

/** The phase's predicted duration once the lever is pulled (clamped to 0..measured). */
function afterSeconds(model: AfterModel, d: number, facts: Facts, rec: StartupRecord, opts: AdviseOptions): number {
  switch (model.kind) {
    case "gone":
    case "failed_attempt":
      return 0;
    case "factor": {
      const pick = model.by.find((b) => all(b.when, facts)) ?? model.by[model.by.length - 1];
      return d * (FIGURES[pick.figure].value as number);
    }
    case "page_cache": {
      const gib = facts["weights.gib"];
      return typeof gib === "number" ? gib * FIGURES.page_cache_s_per_gib.value : d * FIGURES.page_cache_ratio.value;
    }
    case "warm_compile": {
      const features = { ...featuresFromRecord(rec, opts.run), ...(opts.features as Partial<DesignInput> | undefined ?? {}) };
      const w = predictWarmCompile(features, opts.coefficients ?? DEFAULT_COEFFICIENTS);
      // This machine's speed: Dynamo runs warm or cold alike, so measured/predicted Dynamo says how fast it compiles.
      const dyn = phaseOf(rec, "dynamo_transform")?.duration_s;
      const speed = typeof dyn === "number" && dyn > 0 && w.dynamo_transform > 0 ? Math.min(4, Math.max(0.25, dyn / w.dynamo_transform)) : 1;
      const gc = w.graph_compile * speed;
      if (facts["phase.name"] === "graph_compile") return gc;
      return (typeof dyn === "number" ? dyn : w.dynamo_transform * speed) + gc;
    }
    case "capture_sizes": {
      const n = facts["capture.sizes"] as number;
      const target = FIGURES.capture_target_sizes.value.length;
      const fixed = Math.min(d, FIGURES.capture_fixed_s.value);
      return fixed + (d - fixed) * Math.min(1, target / n);
    }
    case "restore":
      return FIGURES.snapshot_restore_s.value;
  }
}

/** The ranked advice for one start-up (empty when no lever applies). */
export function advise(rec: StartupRecord, opts: AdviseOptions = {}): AdviceItem[] {
  const base = runFacts(rec, opts);
  const rules = [...(opts.rules ?? RULES)].sort((a, b) => a.order - b.order);
  const remaining = new Map<string, number>(); // per phase: what the levers applied so far leave
  const claimed: PhaseRecord[] = []; // phases some lever already saves on
  const items: (AdviceItem & { failure: boolean })[] = [];
  for (const rule of rules) {
    const p = targetPhase(rule, rec);
    if (!p) continue;
    const facts: Facts = { ...base, ...phaseFacts(p, rec) };
    if (!all(rule.when, facts)) continue;
    if (rule.unless.some((cs) => all(cs, facts))) continue;
    const d = p.duration_s!;
    if (!(d > 0)) continue;
    let after: number;
    try {
      after = afterSeconds(rule.after, d, facts, rec, opts);
    } catch {
      continue; // a rule that cannot be evaluated says nothing
    }
    after = Math.min(d, Math.max(0, after));
    // Levers on one phase compound: this one keeps after/d of what is left.
    // Time this phase shares with phases other levers already act on (a download inside the
    // weight loading, a sub-step inside its phase) is theirs: it is not saved twice.
    const left = remaining.get(p.name) ?? Math.max(0, d - overlapWith(p, claimed));
    const leftAfter = left * (after / d);
    const saving = left - leftAfter;
    remaining.set(p.name, leftAfter);
    if (saving > 0 && !claimed.some((c) => c.name === p.name)) claimed.push(p);
    if (saving < FIGURES.min_saving_s.value && rule.after.kind !== "failed_attempt") continue;
    facts["lever.after_s"] = r2(leftAfter);
    items.push({
      lever: rule.lever, phase: p.name, saving_s: floor2(Math.min(saving, d)),
      evidence: fill(rule.evidence, facts), action: fill(rule.action, facts),
      phase_s: r2(d), after_s: r2(leftAfter), source: rule.source,
      failure: rule.after.kind === "failed_attempt",
    });
  }
  items.sort((a, b) => Number(b.failure) - Number(a.failure) || b.saving_s - a.saving_s);
  return items.map(({ failure: _f, ...it }) => it);
}

/** Seconds of `p` that other claimed phases cover (the union of their overlaps). */
function overlapWith(p: PhaseRecord, claimed: PhaseRecord[]): number {
  const a = p.start_s, b = p.start_s + (p.duration_s ?? 0);
  const iv = claimed.filter((c) => c.name !== p.name)
    .map((c) => [Math.max(a, c.start_s), Math.min(b, c.start_s + (c.duration_s ?? 0))] as const)
    .filter(([x, y]) => y > x).sort((x, y) => x[0] - y[0]);
  let covered = 0, curA = -Infinity, curB = -Infinity;
  for (const [x, y] of iv) {
    if (x > curB) { if (curB > curA) covered += curB - curA; curA = x; curB = y; } else if (y > curB) curB = y;
  }
  if (curB > curA) covered += curB - curA;
  return covered;
}

/** Total seconds the advice would save (levers on different phases add up; on one phase they compound). */
export function totalSaving(items: AdviceItem[]): number {
  return r2(items.reduce((s, i) => s + i.saving_s, 0));
}
