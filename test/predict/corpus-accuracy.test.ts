// Cross-hardware prediction over the real-log corpus (../shared/vllm-logs),
// data-driven: every log that shows a whole start-up is evaluated leave-one-log-out
// (a new log in the folder is covered without code changes). The thresholds guard
// against regressions of the measured accuracy (bench/predict-accuracy.ts prints the table).
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { evaluateCorpus, loadCorpus } from "../../src/predict/corpus-eval.ts";

const LOGS = join(import.meta.dir, "..", "..", "..", "shared", "vllm-logs");
const corpus = existsSync(LOGS) ? loadCorpus(LOGS) : [];
const ev = evaluateCorpus(corpus);
const s = ev.summary as Record<string, any>;

test("the corpus has complete start-ups of non-H100 hardware to evaluate", () => {
  expect(corpus.length).toBeGreaterThanOrEqual(5);
  expect(s.non_reference_logs).toBeGreaterThanOrEqual(5);
});

test("a-priori totals: the prior beats the H100 reference model on other hardware and does not regress", () => {
  expect(s.median_apriori_err_non_reference).toBeLessThan(s.median_apriori_err_reference_model_only);
  // measured 0.21 (goal 0.30; 0.32 before the KV-profiling batch's tokens and V0's capture base)
  expect(s.median_apriori_err_non_reference).toBeLessThanOrEqual(0.25);
  // stating the GPU (--gpu) also beats the H100 reference model
  expect(s.median_apriori_gpu_err_non_reference).toBeLessThan(s.median_apriori_err_reference_model_only);
});

test("every evaluated log gets a finite prediction and uncertainty; ETA after loading where the log has one", () => {
  for (const r of ev.logs) {
    expect(Number.isFinite(r.apriori_s) && r.apriori_s > 0).toBe(true);
    expect(r.apriori_sigma).toBeGreaterThan(0);
    if (r.eta_phase) expect(Number.isFinite(r.eta_s!)).toBe(true);
  }
  // measured 0.15 over all logs, 0.09 on non-H100 ones (goal 0.15; 0.21 / 0.17 before the KV-profiling
  // batch's tokens and V0's capture base, 0.70 / 0.57 before the elapsed-time blend, the warm-up's own
  // prediction, the layer estimate, no server_start offline)
  expect(s.median_eta_err_after_loading).toBeLessThanOrEqual(0.18);
  expect(s.median_eta_err_after_loading_non_reference).toBeLessThanOrEqual(0.12);
});

test("within its own uncertainty: most real totals lie inside predicted x exp(+-2 sigma)", () => {
  const inside = ev.logs.filter((r) => Math.abs(Math.log(r.actual_s / r.apriori_s)) <= 2 * r.apriori_sigma).length;
  expect(inside / ev.logs.length).toBeGreaterThanOrEqual(0.7);
});

test("alerts fair to slow hardware: with the prior's uncertainty, fewer phases of healthy start-ups are slow than against the H100 model", async () => {
  const { SlowPhaseDetector } = await import("../../src/alerts/slow-detector.ts");
  const { applyPrior, contextOf, fitPriors } = await import("../../src/predict/prior.ts");
  const det = new SlowPhaseDetector({ now: () => 0, onSlow: () => {}, onResolve: () => {} });
  let judged = 0, flaggedPrior = 0, flaggedReference = 0;
  for (const held of corpus) {
    if (held.obs.hwClass === "reference") continue;
    const fitted = fitPriors(corpus.filter((l) => l.id !== held.id).map((l) => l.obsWithGpu ?? l.obs));
    const o = held.obs;
    const p = applyPrior(o.ref, contextOf(o), fitted);
    for (const [name, actual] of Object.entries(o.actual)) {
      if (p.phases[name] === undefined || o.ref.phases[name] === undefined) continue;
      judged++;
      if (actual > det.allowanceFor(name, p.phases[name], p.sigma[name])!.allowance_s) flaggedPrior++;
      if (actual > det.allowanceFor(name, o.ref.phases[name])!.allowance_s) flaggedReference++;
    }
  }
  expect(judged).toBeGreaterThan(10);
  // against the H100 model almost every GPU phase of every log is "slow"; against the prior only
  // phases that are slow for their log's hardware and configuration remain (a bootstrap inside a
  // notebook app, a multimodal KV profiling, ...)
  expect(flaggedPrior).toBeLessThan(flaggedReference / 2);
  expect(flaggedPrior / judged).toBeLessThanOrEqual(0.25);
});

test("the ETA converges: its error at the last phase's start is well below its error at the second phase's start", () => {
  const trails = ev.logs.filter((r) => r.eta_trail.length > 1);
  expect(trails.length).toBeGreaterThanOrEqual(5);
  // measured: 21 % of the total -> 3 %
  expect(s.median_eta_trail_last).toBeLessThan(s.median_eta_trail_first / 2);
  expect(s.median_eta_trail_last).toBeLessThanOrEqual(0.15);
});

test("model_warmup has its own prediction: none on the reference class, seconds on others; within the measured error", async () => {
  const { applyPrior, contextOf, fitPriors } = await import("../../src/predict/prior.ts");
  const fitted = fitPriors(corpus.map((l) => l.obsWithGpu ?? l.obs));
  let seen = 0;
  for (const l of corpus) {
    const o = l.obsWithGpu ?? l.obs;
    const p = applyPrior(o.ref, contextOf(o), fitted);
    if (o.hwClass === "reference") expect(p.phases.model_warmup).toBe(0);
    else if ((o.actual.model_warmup ?? 0) > 0) { expect(p.phases.model_warmup).toBeGreaterThan(0); seen++; }
    // an offline engine starts no API server
    if (!o.server) expect(p.phases.server_start).toBeUndefined();
    // the encoder is profiled as a step of its own by multimodal models on V1 only
    if (!(o.facts.multimodal && o.engine !== "v0")) expect(p.phases.encoder_profiling).toBeUndefined();
  }
  expect(seen).toBeGreaterThanOrEqual(3);
  // leave-one-log-out median error of the warm-up group: measured 0.52
  expect((s.per_group_median_abs_err as Record<string, number>).warmup).toBeLessThanOrEqual(0.6);
});

test("the elapsed-time blend: a prior-based ETA blends, a reference-class or history-based one does not", async () => {
  const { LivePredictor } = await import("../../src/predict/live.ts");
  const { applyPrior, contextOf, fitPriors } = await import("../../src/predict/prior.ts");
  const { fromHistory } = await import("../../src/predict/import-predict.ts");
  const held = corpus.find((l) => l.obs.hwClass !== "reference" && l.obs.start.model_loading !== undefined)!;
  const fitted = fitPriors(corpus.filter((l) => l.id !== held.id).map((l) => l.obsWithGpu ?? l.obs));
  expect(fitted.elapsed?.model_loading).toBeGreaterThan(0);
  const o = held.obs;
  const prior = applyPrior(o.ref, contextOf(o), fitted);
  const asReference = applyPrior(o.ref, { ...contextOf(o), hwClass: "reference" }, fitted);
  const eta = (p: Parameters<typeof applyPrior>[0] & { hw_class?: string }, elapsed: Record<string, number>) => {
    const lp = new LivePredictor(p, { elapsed });
    for (const name of ["bootstrap", "model_loading"]) { lp.onPhaseStart(name, o.start[name]); lp.onPhaseEnd(name, o.actual[name]); }
    return lp.eta(o.start.model_loading + o.actual.model_loading, null, 0, { noGapCredit: true })!;
  };
  const end = o.start.model_loading + o.actual.model_loading;
  const e = fitted.elapsed!.model_loading * end;
  const model = eta(prior, {});
  expect(eta(prior, fitted.elapsed!)).toBeCloseTo(Math.sqrt((model + 1) * (e + 1)) - 1, 1);
  expect(eta(asReference, fitted.elapsed!)).toBe(eta(asReference, {}));
  const hist = fromHistory(prior, { kv_cache_profiling: 3 });
  expect(eta(hist, fitted.elapsed!)).toBe(eta(hist, {}));
});
