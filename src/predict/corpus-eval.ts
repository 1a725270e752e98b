// Leave-one-log-out evaluation of the cross-hardware prior over a folder of real
// vLLM logs (../shared/vllm-logs): for each log that shows a whole start-up,
// refit the prior on the other logs, then
//   - a-priori: predict the total from what the log reveals before start-up;
//   - ETA: replay the phases up to the first phase after model loading into the
//     live predictor and compare its ETA with the time that really remained;
//   - per phase group: the a-priori error.
// Used by bench/predict-accuracy.ts and test/predict/corpus-accuracy.test.ts;
// the phases come from the tracker at run time.

import { basename } from "node:path";
import { importLogFile } from "../logparse/import-log.ts";
import { LivePredictor } from "./live.ts";
import { predict } from "./model.ts";
import { aprioriFeatures, applyPrior, contextOf, corpusLogFiles, factsOfFile, fitPriors, GROUPS, median, observationOf, PRIORS, type Fitted, type Observation, type PriorPrediction } from "./prior.ts";
import { TOP_LEVEL_PHASES } from "../phases/catalog.ts";
import type { TrackerResult } from "../phases/tracker.ts";
import { replayEta } from "./import-predict.ts";

/** Hardware named in a corpus file name ("v0.6.4.post1-gtx1080-..."): the `--gpu` an operator would state. */
export function gpuFromFileName(name: string): string | null {
  const m = /-(h100\w*|h200\w*|a100\w*|l40s|l4|gtx\d{3,4}|rtx\d{4}\w*|gb10|gfx\d{3,4}|cpu)(?:-|x\d|$)/i.exec(name);
  if (!m) return null;
  const t = m[1].toLowerCase();
  if (t === "cpu") return "cpu";
  if (t.startsWith("gfx")) return t;
  if (t.startsWith("gtx") || t.startsWith("rtx")) return `GeForce ${t.slice(0, 3).toUpperCase()} ${t.slice(3).replace(/ti$/, " Ti")}`;
  return t.toUpperCase();
}

export function isReferenceHardwareName(name: string): boolean {
  return /-(h100|h200|gh200|b200)/i.test(name);
}

export interface CorpusLog { id: string; obs: Observation; obsWithGpu: Observation | null; result: TrackerResult }

export function loadCorpus(dir: string): CorpusLog[] {
  const out: CorpusLog[] = [];
  for (const file of corpusLogFiles(dir)) {
    try {
      const r = importLogFile(file);
      const facts = factsOfFile(file);
      const id = basename(file, ".log");
      const obs = observationOf(id, r, facts);
      if (!obs) continue;
      const gpu = gpuFromFileName(id);
      out.push({ id, obs, obsWithGpu: gpu ? observationOf(id, r, facts, undefined, gpu) : null, result: r });
    } catch {
      // an unreadable log is not part of the evaluation
    }
  }
  return out;
}

export interface LogResult {
  id: string;
  hw_class: string;
  reference_hardware: boolean;
  actual_s: number;
  reference_s: number;
  apriori_s: number;
  apriori_err: number;
  apriori_sigma: number;
  /** With the GPU stated (file name), when the name says it. */
  apriori_gpu_s: number | null;
  apriori_gpu_err: number | null;
  eta_phase: string | null;
  eta_at_s: number | null;
  eta_s: number | null;
  eta_actual_s: number | null;
  eta_err: number | null;
  groups: Record<string, { actual: number; predicted: number; err: number }>;
  /** |ETA - real remaining| / real total when each top-level phase began (after the first), in order. */
  eta_trail: { phase: string; at_s: number; err: number }[];
}

/** The first top-level phase that starts after model loading ends. */
function phaseAfterLoading(o: Observation): string | null {
  const endLoad = o.start.model_loading !== undefined ? o.start.model_loading + o.actual.model_loading : null;
  if (endLoad === null) return null;
  let best: string | null = null;
  for (const [name, st] of Object.entries(o.start)) {
    if (name === "model_loading" || st < endLoad - 1.5) continue;
    if (best === null || st < o.start[best]) best = name;
  }
  return best;
}

/** ETA at the start of `phase`, replaying the top-level phases that ended before it. */
export function etaAt(o: Observation, pred: PriorPrediction, phase: string, fitted: Fitted, afterLoading: PriorPrediction | null = null): number | null {
  const lp = new LivePredictor(pred, { gapsFactor: fitted.gaps.factor, elapsed: fitted.elapsed ?? {} });
  const at = o.start[phase];
  const order = [...TOP_LEVEL_PHASES].filter((p) => o.start[p] !== undefined).sort((a, b) => o.start[a] - o.start[b]);
  for (const p of order) {
    if (p === phase) break;
    if (o.start[p] + o.actual[p] > at + 1.5) continue; // still running (overlap): not evidence yet
    lp.onPhaseStart(p, o.start[p]);
    lp.onPhaseEnd(p, o.actual[p]);
    if (p === "model_loading" && afterLoading) lp.rebase(afterLoading);
  }
  return lp.eta(at, null, 0, { noGapCredit: true });
}

export function evaluateCorpus(logs: CorpusLog[]): { logs: LogResult[]; summary: Record<string, unknown> } {
  const results: LogResult[] = [];
  for (const held of logs) {
    const train = logs.filter((l) => l.id !== held.id).map((l) => l.obsWithGpu ?? l.obs);
    const fitted = fitPriors(train, "leave-one-log-out");
    const o = held.obs;
    const ctx = contextOf(o);
    const pred = applyPrior(o.ref, ctx, fitted);
    let gpuS: number | null = null;
    if (held.obsWithGpu) {
      const g = held.obsWithGpu;
      gpuS = applyPrior(g.ref, contextOf(g), fitted).total_s;
    }
    const ph = phaseAfterLoading(o);
    let eta: number | null = null, etaActual: number | null = null;
    const after = applyPrior(predict(aprioriFeatures(o.facts, held.result, { afterLoading: true })), ctx, fitted);
    if (ph) {
      eta = etaAt(o, pred, ph, fitted, after);
      etaActual = o.total - o.start[ph];
    }
    const groups: LogResult["groups"] = {};
    for (const g of GROUPS) {
      let a = 0, p = 0, any = false;
      for (const top of PRIORS.groups[g].phases) {
        if (o.actual[top] === undefined || pred.phases[top] === undefined) continue;
        a += o.actual[top]; p += pred.phases[top]; any = true;
      }
      if (any) groups[g] = { actual: r3(a), predicted: r3(p), err: r3(relErr(p, a)) };
    }
    results.push({
      id: held.id, hw_class: o.hwClass, reference_hardware: isReferenceHardwareName(held.id),
      actual_s: r3(o.total), reference_s: r3(o.ref.total_s), apriori_s: pred.total_s, apriori_err: r3(relErr(pred.total_s, o.total)),
      apriori_sigma: pred.sigma_total,
      apriori_gpu_s: gpuS, apriori_gpu_err: gpuS === null ? null : r3(relErr(gpuS, o.total)),
      eta_phase: ph, eta_at_s: ph ? r3(o.start[ph]) : null, eta_s: eta, eta_actual_s: etaActual === null ? null : r3(etaActual),
      eta_err: eta !== null && etaActual !== null && etaActual > 0 ? r3(relErr(eta, etaActual)) : null,
      groups,
      eta_trail: etaTrail(held.result, pred, o.total, after, fitted),
    });
  }
  const nonRef = results.filter((r) => !r.reference_hardware);
  const abs = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null).map(Math.abs);
  const summary = {
    logs: results.length,
    non_reference_logs: nonRef.length,
    median_apriori_err_non_reference: r3(median(abs(nonRef.map((r) => r.apriori_err)))),
    median_apriori_err_reference_model_only: r3(median(nonRef.map((r) => Math.abs(relErr(r.reference_s, r.actual_s))))),
    median_apriori_gpu_err_non_reference: r3(median(abs(nonRef.map((r) => r.apriori_gpu_err)))),
    median_eta_err_after_loading: r3(median(abs(results.map((r) => r.eta_err)))),
    median_eta_err_after_loading_non_reference: r3(median(abs(nonRef.map((r) => r.eta_err)))),
    // convergence: the ETA's error (share of the total) at the first and at the last phase start of each log
    median_eta_trail_first: r3(median(results.filter((r) => r.eta_trail.length > 1).map((r) => r.eta_trail[0].err))),
    median_eta_trail_last: r3(median(results.filter((r) => r.eta_trail.length > 1).map((r) => r.eta_trail[r.eta_trail.length - 1].err))),
    per_group_median_abs_err: Object.fromEntries(GROUPS.map((g) => [g, r3(median(abs(results.map((r) => r.groups[g]?.err ?? null))))])),
  };
  return { logs: results, summary };
}

/** The replayed ETA at each top-level phase start (the whole log replayed, sub-steps included). */
function etaTrail(r: TrackerResult, pred: PriorPrediction, total: number, after: PriorPrediction | null, fitted: Fitted): LogResult["eta_trail"] {
  const at = replayEta(r, pred, after, fitted);
  const out: LogResult["eta_trail"] = [];
  for (const p of [...r.phases].filter((x) => x.parent === null).sort((a, b) => a.startMs - b.startMs)) {
    const st = (p.startMs - r.t0) / 1000;
    const e = at.get(p.name);
    if (e === undefined || st <= 0 || out.some((x) => x.phase === p.name)) continue;
    out.push({ phase: p.name, at_s: r3(st), err: r3(Math.abs(e - (total - st)) / Math.max(total, 1)) });
  }
  return out;
}

/** Relative error of a prediction: (predicted - actual) / actual. */
export function relErr(pred: number, actual: number): number {
  return (pred - actual) / Math.max(actual, 1);
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
