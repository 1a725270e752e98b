// The measured figures in src/advice/rules.ts, recomputed from the study's
// tables in ../shared/study-data/, so the rules cannot drift from the data;
// and the loading rules replayed against the study's own conditions.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIGURES, LEVERS, RULES } from "../../src/advice/rules.ts";
import { advise } from "../../src/advice/advise.ts";
import type { StartupRecord } from "../../src/advice/facts.ts";

const STUDY = join(import.meta.dir, "..", "..", "..", "shared", "study-data");

function csv(name: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(join(STUDY, name), "utf8").trim().split(/\r?\n/);
  const cols = head.split(",");
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i], v])));
}
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const other = csv("other_conditions_per_step.csv");
const rows = (dataset: string) => other.filter((r) => r.dataset === dataset);

test("page cache: seconds per GiB and the page-cache/SSD ratio (fig13)", () => {
  const cached = rows("fig13_case0");
  const ssd = rows("fig13_case1");
  expect(cached.length).toBeGreaterThanOrEqual(5);
  const perGib = median(cached.map((r) => Number(r.load_weights) / Number(r.weights_gib_log)));
  expect(Math.abs(perGib - FIGURES.page_cache_s_per_gib.value)).toBeLessThan(0.005);
  const ratio = median(cached.map((r) => Number(r.load_weights) / Number(ssd.find((s) => s.model === r.model)!.load_weights)));
  expect(Math.abs(ratio - FIGURES.page_cache_ratio.value)).toBeLessThan(0.005);
});

test("parallel loading from page cache: runai_streamer / safetensors (fig14)", () => {
  const f = rows("fig14");
  const models = [...new Set(f.map((r) => r.model))];
  const ratios = models.map((m) => Number(f.find((r) => r.model === m && r.condition === "load-format=runai_streamer")!.load_weights)
    / Number(f.find((r) => r.model === m && r.condition === "load-format=safetensors")!.load_weights));
  expect(Math.abs(mean(ratios) - FIGURES.parallel_factor_cached.value)).toBeLessThan(0.03);
});

test("CUDA-graph capture: the fixed part is the mean intercept of the study's sweeps", () => {
  const sweep = csv("graph_capture_vs_num_sizes.csv");
  const series = new Map<string, [number, number][]>();
  for (const r of sweep) {
    const k = `${r.source_path}|${r.model}`;
    series.set(k, [...(series.get(k) ?? []), [Number(r.num_capture_sizes), Number(r.graph_capturing_s)]]);
  }
  const intercepts = [...series.values()].map((pts) => {
    const n = pts.length, sx = pts.reduce((s, p) => s + p[0], 0), sy = pts.reduce((s, p) => s + p[1], 0);
    const sxx = pts.reduce((s, p) => s + p[0] * p[0], 0), sxy = pts.reduce((s, p) => s + p[0] * p[1], 0);
    const b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    return (sy - b * sx) / n;
  });
  expect(Math.abs(mean(intercepts) - FIGURES.capture_fixed_s.value)).toBeLessThan(0.01);
});

test("page_cache advice replayed on the study's SSD runs: predicted saving within 35 % of fig13's measured one", () => {
  for (const s of rows("fig13_case1")) {
    const c = rows("fig13_case0").find((r) => r.model === s.model)!;
    const measured = Number(s.load_weights) - Number(c.load_weights);
    if (measured < 2) continue; // below the advice's threshold
    const rec: StartupRecord = {
      outcome: "ready", engine_version: s.vllm, model: s.model, total_s: Number(s.actual_total_time), ready_s: Number(s.actual_total_time),
      phases: [
        { name: "model_loading", parent: null, start_s: 9, duration_s: Number(s.model_loading), status: "ok", predicted_s: null, attributes: { "vllm.startup.weights.gib": Number(s.weights_gib_log) } },
        { name: "load_weights", parent: "model_loading", start_s: 9.1, duration_s: Number(s.load_weights), status: "ok", predicted_s: null, attributes: { "vllm.startup.io.read_source": "storage" } },
      ],
    };
    // The page cache alone (the study changed nothing else).
    const only = advise(rec, { rules: RULES.filter((r) => r.lever === "page_cache") });
    expect(only.length).toBe(1);
    expect(Math.abs(only[0].saving_s - measured) / measured).toBeLessThanOrEqual(0.35);
  }
});

test("every rule names a lever of the vocabulary, a phase and a source", () => {
  for (const r of RULES) {
    expect(LEVERS as readonly string[]).toContain(r.lever);
    expect(r.phases.length).toBeGreaterThan(0);
    expect(r.source.length).toBeGreaterThan(10);
  }
  for (const l of LEVERS) expect(RULES.some((r) => r.lever === l)).toBe(true);
  for (const f of Object.values(FIGURES)) expect(f.source.length).toBeGreaterThan(10);
});

test("README's Advice section lists every lever", () => {
  const readme = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Advice"), readme.indexOf("\n## ", readme.indexOf("## Advice") + 5));
  for (const l of LEVERS) expect(section).toContain(`| \`${l}\``);
});
