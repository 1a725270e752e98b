// What the start-up study's other conditions (../shared/study-data/other_conditions_per_step.csv)
// say about each phase group when only one thing changes: another GPU (L40S),
// a development A100, another CPU (Xeon vs EPYC), storage (SSD vs page cache),
// a cold compile cache. Each is the median over the study's models of
// log(condition / baseline), same model, same vLLM 0.10.1.1 offline engine.
// The prior (./prior.ts) uses their size as the floor of each group's sigma:
// the corpus has few logs per group, and these spreads are measured.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCsv } from "./study-data.ts";
import { median } from "./prior.ts";

/** Study step columns per prior group. */
const GROUP_COLUMNS: Record<string, string[]> = {
  bootstrap: ["framework_bootstrap"],
  load: ["load_weights"],
  compile: ["dynamo_transform_time", "graph_compile_cached", "graph_compile_general_shape"],
  kv: ["kv_cache_profiling"],
  graphs: ["graph_capturing"],
};

/** (condition dataset, baseline dataset, what changes). */
export const STUDY_CONDITIONS: { id: string; dataset: string; baseline: string; what: string }[] = [
  { id: "gpu_l40s", dataset: "fig10_gpu1_avg", baseline: "fig10_gpu0_iter1", what: "L40S (n2) instead of H100 NVL, same CPU type" },
  { id: "gpu_a100_dev", dataset: "exp_A100_model_size", baseline: "fig10_gpu0_iter1", what: "the study's A100 development machine (vLLM version not recorded)" },
  { id: "cpu_xeon", dataset: "fig11_cpu1_avg", baseline: "fig11_cpu0_iter3", what: "2x Xeon 8568Y+ (n3) instead of EPYC 9354, H100 on both" },
  { id: "storage_ssd", dataset: "fig13_case1", baseline: "fig13_case0", what: "weights from SSD (page cache dropped) instead of the page cache" },
  { id: "compile_cold", dataset: "fig15", baseline: "fig13_case0", what: "VLLM_DISABLE_COMPILE_CACHE=1 (full inductor compile) instead of a warm cache" },
];

function groupValue(r: Record<string, string>, g: string): number | null {
  let s = 0, any = false;
  for (const c of GROUP_COLUMNS[g]) {
    const v = Number(r[c]);
    if (r[c] !== undefined && r[c] !== "" && Number.isFinite(v)) { s += v; any = true; }
  }
  return any ? s : null;
}

/** Median log ratio per condition and group (absent where the study did not measure it). */
export function studyConditionRatios(dir: string): Record<string, Record<string, number>> {
  const rows = parseCsv(readFileSync(join(dir, "other_conditions_per_step.csv"), "utf8"));
  const out: Record<string, Record<string, number>> = {};
  for (const c of STUDY_CONDITIONS) {
    const base = new Map(rows.filter((r) => r.dataset === c.baseline).map((r) => [r.model, r]));
    for (const g of Object.keys(GROUP_COLUMNS)) {
      const ls: number[] = [];
      for (const r of rows.filter((x) => x.dataset === c.dataset)) {
        const b = base.get(r.model);
        if (!b) continue;
        const a = groupValue(r, g), bb = groupValue(b, g);
        if (a !== null && bb !== null && a > 0 && bb > 0) ls.push(Math.log(a / bb));
      }
      if (ls.length) (out[c.id] ??= {})[g] = Math.round(median(ls) * 1000) / 1000;
    }
  }
  return out;
}

/**
 * Sigma floor per group: half the largest single-factor change the study measured
 * for that group (an unknown binary state, e.g. SSD or page cache, sits half the
 * gap from either side).
 */
export function sigmaFloors(ratios: Record<string, Record<string, number>>): Record<string, number> {
  const floor: Record<string, number> = {};
  for (const byGroup of Object.values(ratios)) {
    for (const [g, l] of Object.entries(byGroup)) floor[g] = Math.max(floor[g] ?? 0, Math.round((Math.abs(l) / 2) * 1000) / 1000);
  }
  return floor;
}
