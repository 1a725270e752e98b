// Runs the overhead benchmarks once and prints each figure next to its target.
//   make bench   (builds dist/startup-tracer first)
import { join } from "node:path";

const dir = import.meta.dir;
function run(file: string, args: string[] = []): Record<string, any> | null {
  const r = Bun.spawnSync([process.execPath, join(dir, file), ...args], { stdout: "pipe", stderr: "inherit" });
  const text = new TextDecoder().decode(r.stdout).trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(text);
  } catch {
    console.error(`${file}: no result (${text.slice(0, 200)})`);
    return null;
  }
}
const rows: [string, string, string, boolean | null][] = [];
const cpu = run("cpu-overhead.ts");
if (cpu) {
  rows.push(["tracer CPU vs cat, 100k DEBUG lines / 5 s", `x${cpu.debug_ratio_vs_cat} (${cpu.debug_tracer_cpu_ms} vs ${cpu.debug_cat_cpu_ms} ms)`, "<= x1.5", cpu.debug_ratio_vs_cat <= 1.5]);
  if (cpu.info_percent_of_child !== undefined) rows.push(["tracer CPU, INFO start-up 2k lines / 20 s", `${cpu.info_percent_of_child} % of child`, "<= 1 %", cpu.info_percent_of_child <= 1]);
}
for (const f of ["startup-latency.ts", "wall-overhead.ts", "passthrough-latency.ts", "memory.ts", "parse-throughput.ts"]) {
  if (!(await Bun.file(join(dir, f)).exists())) {
    rows.push([f, "not written yet", "", null]);
    continue;
  }
  if (f === "parse-throughput.ts") {
    const r = Bun.spawnSync([process.execPath, join(dir, f)], { stdout: "pipe", stderr: "inherit" });
    for (const l of new TextDecoder().decode(r.stdout).trim().split("\n")) if (/lines\/s/.test(l)) rows.push([l.replace(/\s{2,}.*$/, ""), l.match(/([\d,]+) lines\/s/)?.[1] ?? "?", ">= 500,000 lines/s", !/BELOW/.test(l)]);
    continue;
  }
  const r = run(f);
  if (r) rows.push([f, JSON.stringify(r), "", null]);
}
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`${"figure".padEnd(w)}  ${"measured".padEnd(34)}  target`);
for (const [name, v, t, ok] of rows) console.log(`${name.padEnd(w)}  ${v.padEnd(34)}  ${t}${ok === null ? "" : ok ? "  OK" : "  MISSED"}`);
