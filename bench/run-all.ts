// Runs every overhead benchmark once and prints each figure next to its
// target; writes bench/RESULTS.md with the table, the command and the load.
//   make bench   (builds dist/startup-tracer first; about 4 minutes)
//   bun bench/run-all.ts [--quick]   (--quick: fewer repetitions)
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { uptimeLine } from "./lib.ts";

const dir = import.meta.dir;
const quick = process.argv.includes("--quick");
function run(file: string, args: string[] = []): Record<string, any> | null {
  console.error(`# ${file} ${args.join(" ")}`);
  const r = Bun.spawnSync([process.execPath, join(dir, file), ...args], { stdout: "pipe", stderr: "inherit" });
  const text = new TextDecoder().decode(r.stdout).trim();
  const last = text.split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    console.error(`${file}: no result (${last.slice(0, 200)})`);
    return null;
  }
}
type Row = [figure: string, measured: string, target: string, ok: boolean | null];
const rows: Row[] = [];
const loadBefore = uptimeLine();

const lat = run("startup-latency.ts", ["--runs", quick ? "20" : "30"]);
if (lat) rows.push([`start-up latency, exec to exec, added to a direct exec (median of ${lat.runs}; ${lat.child})`,
  `+${lat.tracer_added_median_ms} ms (p90 +${lat.tracer_added_p90_ms} ms; minimal Bun wrapper +${lat.floor_added_median_ms} ms)`, "< +15 ms", lat.tracer_added_median_ms < 15]);

const cpu = run("cpu-overhead.ts", ["--runs", quick ? "3" : "5"]);
if (cpu) {
  rows.push([`tracer CPU vs cat, CPU-bound child, 100k DEBUG lines / 5 s (median of ${cpu.runs} paired runs)`,
    `x${cpu.debug_ratio_vs_cat} (${cpu.debug_tracer_cpu_ms} vs ${cpu.debug_cat_cpu_ms} ms)`, "<= x1.5", cpu.debug_ratio_vs_cat <= 1.5]);
  if (cpu.info_percent_of_child !== undefined) rows.push([`tracer CPU, INFO start-up, 2k lines / 20 s (median of ${cpu.info_runs})`,
    `${cpu.info_percent_of_child} % of the child's CPU (${cpu.info_tracer_cpu_ms} vs ${cpu.info_child_cpu_ms} ms; cat alone ${cpu.info_cat_percent_of_child} %, ${cpu.info_cat_cpu_ms} ms)`, "<= 1 %", cpu.info_percent_of_child <= 1]);
}
const wall = run("wall-overhead.ts", ["--pairs", quick ? "7" : "9"]);
if (wall) rows.push([`wall time of that 100k-line child, traced vs bare (median of ${wall.pairs} pairs)`,
  `${wall.overhead_percent >= 0 ? "+" : ""}${wall.overhead_percent} % (${wall.traced_median_ms} vs ${wall.bare_median_ms} ms)`, "within 2 %", Math.abs(wall.overhead_percent) <= 2]);
const pl = run("passthrough-latency.ts", ["--runs", quick ? "2" : "3"]);
if (pl) rows.push([`passthrough latency of one line, child to reader (${pl.runs} runs x ${pl.lines_per_run} lines)`,
  `p99 ${pl.tracer_p99_ms} ms, p50 ${pl.tracer_p50_ms} ms (cat: p99 ${pl.cat_p99_ms} ms; no wrapper: p99 ${pl.direct_p99_ms} ms)`, "p99 < 1 ms", pl.tracer_p99_ms < 1]);
const mem = run("memory.ts", ["--runs", quick ? "2" : "3"]);
if (mem) rows.push([`peak RSS (VmHWM) of the tracer, 100k-line start-up (median of ${mem.runs})`, `${mem.peak_rss_mb} MB (max ${mem.max_peak_rss_mb} MB)`, "< 80 MB", mem.peak_rss_mb < 80]);
{
  console.error("# parse-throughput.ts");
  const r = Bun.spawnSync([process.execPath, join(dir, "parse-throughput.ts")], { stdout: "pipe", stderr: "inherit" });
  for (const l of new TextDecoder().decode(r.stdout).trim().split("\n")) {
    const m = /^(.*?)\s{2,}\s*([\d,]+) lines\/s/.exec(l);
    if (m) rows.push([`parse throughput: ${m[1].trim()} (best of 5)`, `${m[2]} lines/s`, ">= 500,000 lines/s", Number(m[2].replace(/,/g, "")) >= 500_000]);
  }
}
const loadAfter = uptimeLine();

const mark = (ok: boolean | null) => (ok === null ? "" : ok ? "OK" : "MISSED");
const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => String(r[i]).length), 8));
console.log(`${"figure".padEnd(w[0])}  ${"measured".padEnd(w[1])}  ${"target".padEnd(w[2])}`);
for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${mark(r[3])}`);

const cmd = `make bench  (= make build && node_modules/.bin/bun bench/run-all.ts${quick ? " --quick" : ""})`;
const commit = new TextDecoder().decode(Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: dir, stderr: "ignore" }).stdout).trim();
const dirty = Bun.spawnSync(["git", "diff", "--quiet", "HEAD"], { cwd: dir }).exitCode !== 0;
const cpus = navigator.hardwareConcurrency;
const md = `# Overhead benchmarks: results

Command: \`${cmd}\`
Run: ${new Date().toISOString()}, commit ${commit || "?"}${dirty ? " plus uncommitted changes" : ""}, Bun ${Bun.version}, ${cpus} vCPUs,
load average (1/5/15 min) ${loadBefore} before and ${loadAfter} after (the machine is shared with other jobs: figures are medians).

| figure | measured | target | |
|---|---|---|---|
${rows.map((r) => `| ${r[0]} | ${r[1]} | ${r[2]} | ${mark(r[3])} |`).join("\n")}

Benchmarks (each prints its figures and a JSON line): bench/startup-latency.ts, bench/cpu-overhead.ts,
bench/wall-overhead.ts, bench/passthrough-latency.ts, bench/memory.ts, bench/parse-throughput.ts;
bench/sampler-cost.ts measures host sampling alone. See NOTES below for what each figure includes.
`;
const notesFile = join(dir, "NOTES.md");
const notes = (await Bun.file(notesFile).exists()) ? `\n${await Bun.file(notesFile).text()}` : "";
writeFileSync(join(dir, "RESULTS.md"), md + notes);
console.error(`wrote ${join(dir, "RESULTS.md")}`);
