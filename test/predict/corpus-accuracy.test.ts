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
  // measured 0.49 (goal 0.30, not reached: see README "Prediction on other hardware")
  expect(s.median_apriori_err_non_reference).toBeLessThanOrEqual(0.55);
  // stating the GPU (--gpu) never makes it worse
  expect(s.median_apriori_gpu_err_non_reference).toBeLessThanOrEqual(s.median_apriori_err_non_reference + 1e-9);
});

test("every evaluated log gets a finite prediction and uncertainty; ETA after loading where the log has one", () => {
  for (const r of ev.logs) {
    expect(Number.isFinite(r.apriori_s) && r.apriori_s > 0).toBe(true);
    expect(r.apriori_sigma).toBeGreaterThan(0);
    if (r.eta_phase) expect(Number.isFinite(r.eta_s!)).toBe(true);
  }
  // measured 0.68 (goal 0.15, not reached)
  expect(s.median_eta_err_after_loading).toBeLessThanOrEqual(0.8);
});

test("within its own uncertainty: most real totals lie inside predicted x exp(+-2 sigma)", () => {
  const inside = ev.logs.filter((r) => Math.abs(Math.log(r.actual_s / r.apriori_s)) <= 2 * r.apriori_sigma).length;
  expect(inside / ev.logs.length).toBeGreaterThanOrEqual(0.7);
});
