// Fits the default (reference) coefficients on ../shared/study-data/ (the
// start-up study's H100 NVL machine, vLLM 0.10.1.1) and writes
// src/predict/coefficients.json. Run by `make fit` (`bun scripts/fit-reference.ts`).
//   bun scripts/fit-reference.ts [--data <study-data dir>] [--out <file>] [--check]
// --check: exit 1 if the written file would differ from the existing one.
//   bun scripts/fit-reference.ts --priors [--logs <vllm-logs dir>] [--check]
// refits the cross-hardware prior ("fitted" in src/predict/hardware-priors.json)
// on every real log of the corpus that shows a whole start-up (src/predict/prior.ts).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fitReference } from "../src/predict/fit.ts";
import { loadGraphKbRows, loadReferenceRows } from "../src/predict/study-data.ts";

const root = resolve(import.meta.dir, "..");
const argv = process.argv.slice(2);
const opt = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const dataDir = resolve(opt("--data") ?? join(root, "..", "shared", "study-data"));
const out = resolve(opt("--out") ?? join(root, "src", "predict", "coefficients.json"));

if (argv.includes("--priors")) {
  const { loadCorpus } = await import("../src/predict/corpus-eval.ts");
  const { fitPriors } = await import("../src/predict/prior.ts");
  const logsDir = resolve(opt("--logs") ?? join(root, "..", "shared", "vllm-logs"));
  const corpus = loadCorpus(logsDir);
  if (corpus.length === 0) { console.error(`fit-reference: no complete start-up logs in ${logsDir}`); process.exit(2); }
  const { studyConditionRatios, sigmaFloors, STUDY_CONDITIONS } = await import("../src/predict/study-conditions.ts");
  const ratios = studyConditionRatios(dataDir);
  const studyConditions = {
    source: `study-data/other_conditions_per_step.csv: median over models of log(condition / baseline) per group; ${STUDY_CONDITIONS.map((c) => `${c.id} = ${c.dataset} vs ${c.baseline} (${c.what})`).join("; ")}`,
    ratios, sigma_floor: sigmaFloors(ratios),
  };
  // the corpus's file names say the hardware (INDEX.md): training uses it, as an operator's --gpu would
  const fitted = fitPriors(corpus.map((l) => l.obsWithGpu ?? l.obs), `median log ratio per class and group over ${corpus.length} corpus logs (../shared/vllm-logs), shrunk to the pooled median with 2 pseudo-logs; sigma at least the study's single-factor spread (scripts/fit-reference.ts --priors)`, studyConditions.sigma_floor);
  const priorsPath = join(root, "src", "predict", "hardware-priors.json");
  const priors = JSON.parse(readFileSync(priorsPath, "utf8"));
  priors.study_conditions = studyConditions;
  priors.fitted = fitted;
  const text = JSON.stringify(priors, null, 2) + "\n";
  if (argv.includes("--check")) {
    const same = readFileSync(priorsPath, "utf8") === text;
    console.log(same ? `${priorsPath} is up to date` : `${priorsPath} is stale: run bun scripts/fit-reference.ts --priors`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(priorsPath, text);
  console.log(`wrote ${priorsPath}: ${JSON.stringify(fitted.pooled)} gaps ${JSON.stringify(fitted.gaps)}`);
  process.exit(0);
}

if (!existsSync(join(dataDir, "h100nvl_fig_rest_22models_mean.csv"))) {
  console.error(`fit-reference: study data not found in ${dataDir}`);
  process.exit(2);
}
const coefs = fitReference({
  rows: loadReferenceRows(dataDir),
  graphKb: loadGraphKbRows(dataDir),
  source: "study-data: 'Breaking the Ice' (MLSys 2026), H100 NVL node n1, vLLM 0.10.1.1 (scripts/fit-reference.ts)",
});
const text = JSON.stringify(coefs, null, 2) + "\n";
if (argv.includes("--check")) {
  const same = existsSync(out) && readFileSync(out, "utf8") === text;
  console.log(same ? `${out} is up to date` : `${out} is stale: run make fit`);
  process.exit(same ? 0 : 1);
}
writeFileSync(out, text);
console.log(`wrote ${out}`);
for (const [phase, m] of Object.entries(coefs.phases)) {
  const terms = Object.entries(m.coef).filter(([, c]) => c !== 0).map(([f, c]) => `${c}*${f}`).join(" + ");
  console.log(`  ${phase.padEnd(20)} = ${m.intercept}${terms ? " + " + terms : ""}`);
}
console.log(`  graph_kb             = ${coefs.graph_kb.intercept} + ${Object.entries(coefs.graph_kb.coef).map(([f, c]) => `${c}*${f}`).join(" + ")}`);
console.log(`  load_format_factor   = ${JSON.stringify(coefs.load_format_factor)}`);
