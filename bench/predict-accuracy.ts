// Leave-one-model-out accuracy of the per-phase predictor on the start-up
// study's reference data (../shared/study-data/, H100 NVL, vLLM 0.10.1.1).
//   bun bench/predict-accuracy.ts [--data <dir>] [--json]
// For each of the 17 models of the main table: refit everything (graph-size
// estimator, load-format factors, every phase model) on the rows of the other
// 16 models (all n1 conditions), predict the held-out model's default run, and
// compare per phase and for the total (sum of the study's attributed steps).

import { join, resolve } from "node:path";
import { fitReference } from "../src/predict/fit.ts";
import { LEAF_PHASES, PARENT_SUMS, predict } from "../src/predict/model.ts";
import { loadGraphKbRows, loadReferenceRows, type TrainingRow } from "../src/predict/study-data.ts";

import { evaluateCorpus, loadCorpus } from "../src/predict/corpus-eval.ts";

const argv = process.argv.slice(2);
const i = argv.indexOf("--data");
const dataDir = resolve(i >= 0 ? argv[i + 1] : join(import.meta.dir, "..", "..", "shared", "study-data"));

/** The study's published predictor accuracy (five held-out models, its Figure 17). */
const STUDY = { mse_s: 2.42, max_error_s: 2.08, models: 5 };

const allRows = loadReferenceRows(dataDir);
const kbRows = loadGraphKbRows(dataDir);
const mainRows = allRows.filter((r) => r.dataset === "fig_rest");
const phasesReported = [...LEAF_PHASES.filter((p) => p !== "server_start"), ...Object.keys(PARENT_SUMS)];

type Err = { model: string; err: number };
const errs: Record<string, Err[]> = {};
const totals: { model: string; split: string; actual: number; predicted: number; e2eActual?: number; e2ePred?: number }[] = [];

function observed(r: TrainingRow): Record<string, number> {
  const y: Record<string, number> = { ...(r.y as Record<string, number>) };
  for (const [parent, ch] of Object.entries(PARENT_SUMS)) {
    if (ch.every((c) => y[c] !== undefined)) y[parent] = ch.reduce((s, c) => s + y[c], 0);
  }
  return y;
}

for (const held of mainRows) {
  const train = allRows.filter((r) => r.model !== held.model).map((r) => structuredClone(r));
  const coefs = fitReference({ rows: train, graphKb: kbRows.filter((g) => g.model !== held.model) });
  const pred = predict(held.x, coefs);
  const y = observed(held);
  for (const p of phasesReported) {
    if (y[p] === undefined || pred.phases[p] === undefined) continue;
    (errs[p] ??= []).push({ model: held.model, err: pred.phases[p] - y[p] });
  }
  const predAttr = pred.total_s - (pred.phases.server_start ?? 0);
  const trainMain = train.filter((r) => r.dataset === "fig_rest" && r.actual_total_time && r.total_time);
  const unattr = trainMain.reduce((s, r) => s + (r.actual_total_time! - r.total_time!), 0) / trainMain.length;
  totals.push({
    model: held.model, split: STUDY_SPLIT(held.model), actual: held.total_time!, predicted: predAttr,
    e2eActual: held.actual_total_time, e2ePred: predAttr + unattr,
  });
}

function STUDY_SPLIT(model: string): string {
  return ["qwen-14.3b", "gpt-oss-20b", "deepseek-v2-lite-16b", "granite4.0-h-32b"].includes(model) ? "moe/hybrid" : "dense";
}

const stats = (es: number[]) => ({
  n: es.length,
  mae: es.reduce((s, e) => s + Math.abs(e), 0) / Math.max(1, es.length),
  max: es.reduce((m, e) => Math.max(m, Math.abs(e)), 0),
  mse: es.reduce((s, e) => s + e * e, 0) / Math.max(1, es.length),
});

const out: Record<string, unknown> = { data: dataDir, method: "leave-one-model-out over the 17 models of h100nvl_fig_rest_22models_mean.csv", study: STUDY, phases: {}, total: {} };
const fmt = (x: number) => x.toFixed(3).padStart(8);
const lines: string[] = [];
lines.push(`Leave-one-model-out on ${mainRows.length} models (study data, H100 NVL, vLLM 0.10.1.1)`);
lines.push(`${"phase".padEnd(22)}${"n".padStart(4)}${"MAE s".padStart(9)}${"max s".padStart(9)}   worst model`);
for (const p of phasesReported) {
  const e = errs[p] ?? [];
  const s = stats(e.map((x) => x.err));
  const worst = e.reduce((w, x) => (Math.abs(x.err) > Math.abs(w?.err ?? 0) ? x : w), e[0]);
  (out.phases as any)[p] = { n: s.n, mae_s: +s.mae.toFixed(4), max_abs_error_s: +s.max.toFixed(4), worst: worst?.model };
  lines.push(`${p.padEnd(22)}${String(s.n).padStart(4)}${fmt(s.mae)} ${fmt(s.max)}   ${worst ? `${worst.model} (${worst.err >= 0 ? "+" : ""}${worst.err.toFixed(2)})` : ""}`);
}
lines.push("");
lines.push(`${"total (attributed steps)".padEnd(32)}${"n".padStart(4)}${"MAE s".padStart(9)}${"max s".padStart(9)}${"MSE s²".padStart(9)}`);
for (const [label, sel] of [["all models", () => true], ["dense (study 'train')", (t: any) => t.split === "dense"], ["MoE / hybrid", (t: any) => t.split === "moe/hybrid"]] as const) {
  const ts = totals.filter(sel as any);
  const s = stats(ts.map((t) => t.predicted - t.actual));
  const s2 = stats(ts.map((t) => t.e2ePred! - t.e2eActual!));
  (out.total as any)[label] = { n: s.n, mae_s: +s.mae.toFixed(4), max_abs_error_s: +s.max.toFixed(4), mse_s2: +s.mse.toFixed(4), end_to_end: { mae_s: +s2.mae.toFixed(4), max_abs_error_s: +s2.max.toFixed(4), mse_s2: +s2.mse.toFixed(4) } };
  lines.push(`${label.padEnd(32)}${String(s.n).padStart(4)}${fmt(s.mae)} ${fmt(s.max)} ${fmt(s.mse)}`);
  lines.push(`${("  end-to-end (+unattributed)").padEnd(32)}${String(s2.n).padStart(4)}${fmt(s2.mae)} ${fmt(s2.max)} ${fmt(s2.mse)}`);
}
lines.push("");
lines.push(`study's published predictor (${STUDY.models} held-out models): MSE ${STUDY.mse_s} s, max error ${STUDY.max_error_s} s`);
lines.push("per model (total, attributed): " + totals.map((t) => `${t.model} ${t.predicted.toFixed(1)}/${t.actual.toFixed(1)}`).join(", "));
(out as any).per_model = totals;

// ---- real logs of other hardware: leave-one-log-out over the corpus (src/predict/corpus-eval.ts)
const li = argv.indexOf("--logs");
const logsDir = resolve(li >= 0 ? argv[li + 1] : join(import.meta.dir, "..", "..", "shared", "vllm-logs"));
const corpus = evaluateCorpus(loadCorpus(logsDir));
(out as any).corpus = corpus;
const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? "    -" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(0)}%`.padStart(5));
lines.push("");
lines.push(`Leave-one-log-out on ${corpus.logs.length} real logs that show a whole start-up (${logsDir})`);
lines.push(`${"log".padEnd(46)}${"class".padEnd(13)}${"actual".padStart(7)}${"H100 ref".padStart(9)}${"prior".padStart(7)}${"err".padStart(6)}${"±σ".padStart(5)}${"--gpu".padStart(7)}${"err".padStart(6)}   ETA at phase after loading`);
for (const r of corpus.logs) {
  lines.push(`${r.id.slice(0, 45).padEnd(46)}${r.hw_class.padEnd(13)}${r.actual_s.toFixed(0).padStart(7)}${r.reference_s.toFixed(0).padStart(9)}${r.apriori_s.toFixed(0).padStart(7)}${pct(r.apriori_err)} ${r.apriori_sigma.toFixed(2).padStart(4)}${(r.apriori_gpu_s === null ? "-" : r.apriori_gpu_s.toFixed(0)).padStart(7)}${pct(r.apriori_gpu_err)}   ${r.eta_phase ? `${r.eta_phase} @${r.eta_at_s!.toFixed(0)} s: ${r.eta_s!.toFixed(0)} s vs ${r.eta_actual_s!.toFixed(0)} s ${pct(r.eta_err)}` : "-"}`);
}
const cs = corpus.summary as Record<string, any>;
lines.push(`median |a-priori error|, non-H100 logs: ${pct(cs.median_apriori_err_non_reference)} (H100 reference model alone: ${pct(cs.median_apriori_err_reference_model_only)}; with the GPU stated: ${pct(cs.median_apriori_gpu_err_non_reference)})`);
lines.push(`median |ETA error| at the first phase after model loading: ${pct(cs.median_eta_err_after_loading)} (non-H100: ${pct(cs.median_eta_err_after_loading_non_reference)})`);
lines.push(`ETA convergence (|ETA - real remaining| / real total, median over logs): ${pct(cs.median_eta_trail_first).trim()} at the second phase's start -> ${pct(cs.median_eta_trail_last).trim()} at the last phase's start`);
for (const r of corpus.logs) if (r.eta_trail.length) lines.push(`  ${r.id.slice(0, 44).padEnd(45)}${r.eta_trail.map((t) => `${t.phase} ${(t.err * 100).toFixed(0)}%`).join(", ")}`);
lines.push(`median |error| per phase group: ${Object.entries(cs.per_group_median_abs_err).map(([g, e]) => `${g} ${pct(e as number).trim()}`).join(", ")}`);
if (argv.includes("--json")) console.log(JSON.stringify(out, null, 2));
else console.log(lines.join("\n"));
