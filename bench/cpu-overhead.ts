// The tracer's own CPU time (its process alone, not the child's), measured side
// by side with `cat` passing the same output through, in the same run:
//  1. a CPU-bound child printing 100k DEBUG lines in about 5 s (one write per
//     line, as Python's logging does): target tracer <= 1.5 x cat;
//  2. an INFO-level start-up, 2k lines over 20 s: target <= 1 % of the child's CPU (with `cat` on the
//     same output beside it, paired: the floor of any pipe copier on the machine).
// Wall time of (1), traced vs bare, is printed too (bench/wall-overhead.ts does the 7+ pairs).
//
//   make build && bun bench/cpu-overhead.ts [--runs 3] [--info-runs 3] [--skip-info]
import { arg, catCmd, emitCmd, measure, median, requireBinary, tracerCmd } from "./lib.ts";

requireBinary();
const runs = arg("runs", 3);
const debugChild = emitCmd(100_000, 5, "DEBUG");
const ratios: number[] = [];
const cats: number[] = [];
const tracers: number[] = [];
for (let i = 0; i < runs; i++) {
  const c = await measure(catCmd(debugChild));
  const t = await measure([...tracerCmd(), ...debugChild]);
  cats.push(c.ownCpuMs);
  tracers.push(t.ownCpuMs);
  ratios.push(t.ownCpuMs / c.ownCpuMs);
  console.error(`  run ${i + 1}: cat ${c.ownCpuMs.toFixed(0)} ms, tracer ${t.ownCpuMs.toFixed(0)} ms (x${(t.ownCpuMs / c.ownCpuMs).toFixed(2)})`);
}
const result: Record<string, unknown> = {
  debug_cat_cpu_ms: Math.round(median(cats)),
  debug_tracer_cpu_ms: Math.round(median(tracers)),
  debug_ratio_vs_cat: Number(median(ratios).toFixed(2)),
  debug_target: 1.5,
};
result.runs = runs;
if (!process.argv.includes("--skip-info")) {
  // 20 s each: fewer repetitions (--info-runs, default 3).
  const infoRuns = arg("info-runs", 3);
  const own: number[] = [], kid: number[] = [], pct: number[] = [], catPct: number[] = [], catOwn: number[] = [];
  const infoChild = emitCmd(2000, 20, "INFO");
  for (let i = 0; i < infoRuns; i++) {
    // `cat` on the same output, paired: what any pipe copier costs on this machine, the floor under the figure.
    const c = await measure(catCmd(infoChild));
    catOwn.push(c.ownCpuMs);
    catPct.push((100 * c.ownCpuMs) / c.childCpuMs);
    const info = await measure([...tracerCmd(), ...infoChild]);
    own.push(info.ownCpuMs);
    kid.push(info.childCpuMs);
    pct.push((100 * info.ownCpuMs) / info.childCpuMs);
    console.error(`  INFO run ${i + 1}: tracer ${info.ownCpuMs.toFixed(0)} ms, child ${info.childCpuMs.toFixed(0)} ms (${pct[i].toFixed(2)} %); cat ${c.ownCpuMs.toFixed(0)} ms (${catPct[i].toFixed(2)} %)`);
  }
  result.info_cat_cpu_ms = Math.round(median(catOwn));
  result.info_cat_percent_of_child = Number(median(catPct).toFixed(2));
  result.info_runs = infoRuns;
  result.info_tracer_cpu_ms = Math.round(median(own));
  result.info_child_cpu_ms = Math.round(median(kid));
  result.info_percent_of_child = Number(median(pct).toFixed(2));
  result.info_target_percent = 1;
}
console.log(JSON.stringify(result));
